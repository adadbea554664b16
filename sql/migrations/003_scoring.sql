-- Scoring: scores of interactions (refusal detector, Llama Guard, LLM judge), the failures
-- that are retried later, the daily spend ledger, the scheduler's runs and watermarks, and
-- the human review queue with its labels.
--
-- Nothing doubled: every table is a ReplacingMergeTree keyed on what must be unique, and
-- inserts carry dedup tokens. Until a merge, a row written twice is visible twice: exact
-- readers use FINAL (or argMax / uniqExact), like for interactions.

-- One row per (scorer_version, metric, request_id). A new scorer_version (other model or
-- prompt) writes new rows and keeps the old ones: a baseline must filter ONE scorer_version.
-- The interaction's scope and timestamp are copied in, so windows and baselines need no join,
-- and the hour of interaction_ts is in the sorting key, so a window reads only its granules
-- (one request has one interaction_ts: duplicates still share the key).
-- Cost: a model call is carried by the row of the scorer's primary metric (llama_guard:
-- unsafe, judge: hallucination); the other metric rows of the same call carry 0, so
-- sum(cost_usd) is the spend of successful scorings.
CREATE TABLE IF NOT EXISTS scores (
  request_id String,
  scorer LowCardinality(String),
  scorer_version LowCardinality(String),
  metric LowCardinality(String),
  value Float64,
  label LowCardinality(String),
  categories Array(LowCardinality(String)),
  category_names Array(LowCardinality(String)),
  detail String CODEC(ZSTD(3)),
  prompt_tokens UInt32,
  completion_tokens UInt32,
  cost_usd Float64,
  model_version LowCardinality(String),
  variant_id LowCardinality(String),
  segment LowCardinality(String),
  modality LowCardinality(String),
  interaction_ts DateTime64(3, 'UTC'),
  run_id String,
  scored_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(scored_at)
PARTITION BY toYYYYMM(interaction_ts)
ORDER BY (scorer_version, metric, toStartOfHour(interaction_ts), request_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- A scoring that did not produce a score. One row per (scorer_version, request_id), replaced
-- on every attempt (attempts counts them) and once more with resolved = true when a later
-- attempt succeeds. Retriable failures are retried by later runs up to max_attempts.
CREATE TABLE IF NOT EXISTS scoring_failures (
  request_id String,
  scorer LowCardinality(String),
  scorer_version LowCardinality(String),
  error_code LowCardinality(String),
  message String,
  retriable Bool,
  attempts UInt32,
  priority UInt8,
  resolved Bool,
  prompt_tokens UInt32,
  completion_tokens UInt32,
  cost_usd Float64,
  interaction_ts DateTime64(3, 'UTC'),
  first_failed_at DateTime64(3, 'UTC'),
  last_attempt_at DateTime64(3, 'UTC'),
  run_id String,
  revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (scorer_version, request_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- Model spend, one row per flushed batch (successes and failures alike): the daily budgets
-- are summed from here for today's UTC date, so they survive restarts.
CREATE TABLE IF NOT EXISTS scoring_spend (
  day Date,
  scorer LowCardinality(String),
  scorer_version LowCardinality(String),
  run_id String,
  seq UInt32,
  requests UInt32,
  prompt_tokens UInt64,
  completion_tokens UInt64,
  cost_usd Float64,
  recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (day, scorer, run_id, seq)
SETTINGS non_replicated_deduplication_window = 1000;

-- One row per job run, rewritten as it progresses (highest revision wins): status is
-- running, then ok | degraded | failed | aborted. detail is a JSON object.
CREATE TABLE IF NOT EXISTS job_runs (
  job LowCardinality(String),
  run_id String,
  trigger LowCardinality(String),
  status LowCardinality(String),
  started_at DateTime64(3, 'UTC'),
  finished_at Nullable(DateTime64(3, 'UTC')),
  rows_done UInt64,
  rows_total UInt64,
  spend_usd Float64,
  message String,
  detail String,
  host String,
  pid UInt32,
  revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (job, run_id);

-- Where each job (per key, e.g. its scorer_version) has got to: a cursor over ingested_at,
-- so a restart continues where the last finished run stopped.
CREATE TABLE IF NOT EXISTS job_watermarks (
  job LowCardinality(String),
  key String,
  cursor_ts DateTime64(3, 'UTC'),
  cursor_id String,
  run_id String,
  updated_at DateTime64(3, 'UTC') DEFAULT now64(3),
  revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (job, key);

-- Scored samples chosen (deterministically, by hash) for human review.
CREATE TABLE IF NOT EXISTS review_queue (
  request_id String,
  scorer LowCardinality(String),
  scorer_version LowCardinality(String),
  model_version LowCardinality(String),
  variant_id LowCardinality(String),
  segment LowCardinality(String),
  modality LowCardinality(String),
  interaction_ts DateTime64(3, 'UTC'),
  queued_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (scorer_version, request_id);

-- Human labels imported with `driftwatch review import`: one per reviewer and metric; a
-- re-import of the same line replaces it.
CREATE TABLE IF NOT EXISTS human_labels (
  request_id String,
  scorer_version LowCardinality(String),
  metric LowCardinality(String),
  value Float64,
  reviewer String,
  note String,
  source String,
  labelled_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(labelled_at)
ORDER BY (scorer_version, metric, request_id, reviewer);

-- The refusal job and the samplers read interactions by ingested_at (what arrived since the
-- last run, late events included); insert batches have narrow ingested_at ranges, so a minmax
-- index skips everything older than the watermark.
ALTER TABLE interactions ADD INDEX IF NOT EXISTS idx_ingested_at ingested_at TYPE minmax GRANULARITY 1;
