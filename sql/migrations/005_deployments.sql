-- Model-version rollout history. The last version marked stable (and still stable) is the
-- rollback target, the `to_version` of a rollback trigger. Written by deploy/deployments.ts
-- (new versions detected from traffic; `driftwatch deploy mark-stable | mark-rolled-back`).
--
-- Design: an append-only history (one row per status change) plus a view with each version's
-- current status, rather than one row per version in a ReplacingMergeTree(marked_at), because
--  * the rollout stays auditable: who marked v2 stable, when, and why it was rolled back,
--    which a replacing table forgets at its next merge;
--  * the current status is argMax(status, marked_at) in the view: exact at any moment, with
--    no FINAL and no dependence on merges;
--  * a retried write (an HTTP retry, a detection run replayed) is the same row with the same
--    sorting key: the insert token drops it at once, a merge would drop it later, and the
--    view's answer is the same either way.
-- marked_at doubles as a logical clock: writers make it strictly greater than every marked_at
-- already stored, so "the most recently marked" never ties, even for two marks in one ms.
-- A detected row's marked_at is the version's first interaction (not the time detection ran),
-- so running detection twice writes the identical row.
-- first_seen: the version's first interaction when the row was written; NULL for a version
-- marked with --force before any traffic.
CREATE TABLE IF NOT EXISTS deployments (
  model_version LowCardinality(String),
  status Enum8('detected' = 1, 'stable' = 2, 'rolled_back' = 3, 'retired' = 4),
  first_seen Nullable(DateTime64(3, 'UTC')),
  marked_at DateTime64(3, 'UTC'),
  marked_by String,
  note String
)
ENGINE = ReplacingMergeTree
ORDER BY (model_version, marked_at, status)
SETTINGS non_replicated_deduplication_window = 1000;

-- One row per model_version: its current status and the change that set it. The inner
-- names differ from the columns because ClickHouse lets an alias shadow a column inside
-- other aggregates of the same SELECT.
CREATE VIEW IF NOT EXISTS deployment_status AS
SELECT
  model_version,
  last.1 AS status,
  first_seen,
  last.2 AS marked_at,
  last.3 AS marked_by,
  last.4 AS note
FROM
(
  SELECT
    model_version,
    argMax((status, marked_at, marked_by, note), marked_at) AS last,
    min(first_seen) AS first_seen
  FROM deployments
  GROUP BY model_version
);
