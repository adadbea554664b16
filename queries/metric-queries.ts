// The saved queries that show metric numbers (rule-window, worst-scopes, scope-overview), rendered from the
// metric registry by metrics/scope-stats.ts's metricRowsSql(): the same definitions, tables
// and (no) FINAL as the evaluator, so a rule's numbers here are the numbers that paged.
// They are listed and run like the files in sql/queries (same header format, same params).

import { METRICS } from '../metrics/registry.ts'
import { metricRowsSql } from '../metrics/scope-stats.ts'
import { parseSavedQuery, type SavedQuery } from './saved-query.ts'

const FILE = 'queries/metric-queries.ts (rendered from metrics/registry.ts)'

const scopeParam = (column: string) => `({${column}:String} = '' OR ${column} = {${column}:String})`

const RULE_WINDOW = `-- name: rule-window
-- description: A rule's numbers for a window: n and value of every metric per scope (model_version x variant_id x segment x modality); score metrics per scorer_version, never mixed.
-- param: from DateTime64(3, 'UTC') [-1h] window start (inclusive): ISO time or offset like -1h
-- param: to DateTime64(3, 'UTC') [now] window end (exclusive)
-- param: metric String [] one metric, e.g. hallucination_rate or latency_p99_ms; empty: all
-- param: model_version String [] only this model_version; empty: all
-- param: variant_id String [] only this variant; empty: all
-- param: segment String [] only this segment; empty: all
-- param: modality String [] only this modality; empty: all
-- param: scorer_version String [] score metrics of this scorer_version only; empty: each on its own row
--
-- Rendered from metrics/registry.ts with the evaluator's definitions (metrics/scope-stats.ts):
-- windows are [from, to) on the interaction's time; no FINAL, as in the evaluator.
SELECT model_version, variant AS variant_id, segment, modality, metric_name AS metric, scorer_version, n, value
FROM
(
${metricRowsSql({
  window: (t) => `${t} >= {from:DateTime64(3, 'UTC')} AND ${t} < {to:DateTime64(3, 'UTC')}`,
  where: ['model_version', 'variant_id', 'segment', 'modality'].map(scopeParam).join(' AND '),
  when: (m) =>
    [
      `{metric:String} = '' OR {metric:String} = '${m.name}'`,
      ...(m.source === 'scores'
        ? ["{scorer_version:String} = '' OR scorer_version = {scorer_version:String}"]
        : []),
    ].join(') AND ('),
})}
)
ORDER BY model_version, variant_id, segment, modality, metric, scorer_version`

const WORST_SCOPES = `-- name: worst-scopes
-- description: Scopes ranked by how much worse a metric got than on the last stable version (same segment x modality, same scorer_version), worst first.
-- param: metric String the metric to rank by, e.g. hallucination_rate, latency_p99_ms, error_rate
-- param: from DateTime64(3, 'UTC') [-1h] window start for the versions compared (inclusive)
-- param: to DateTime64(3, 'UTC') [now] window end for the versions compared (exclusive)
-- param: version String [] only this model_version; empty: every version but the baseline
-- param: baseline_version String [] compare with this version; empty: the last version marked stable (other than version)
-- param: baseline_from DateTime64(3, 'UTC') [-7d] window start for the baseline version: it may get no traffic once replaced
-- param: baseline_to DateTime64(3, 'UTC') [now] window end for the baseline version
-- param: min_n UInt32 [20] leave out scopes with fewer samples on either side
-- param: limit UInt32 [20] rows shown
--
-- The baseline pools its variants (variant_id '*'): it is a version, while the versions
-- compared are shown per variant (canary, shadow, ...). worse_by is the change in the
-- metric's bad direction (lower is worse for helpfulness_mean and user_feedback_mean).
-- Metric rows rendered from metrics/registry.ts, as in rule-window.
WITH
  if(
    {baseline_version:String} != '',
    {baseline_version:String},
    (SELECT argMax(model_version, marked_at) FROM deployment_status
     WHERE status = 'stable' AND model_version != {version:String})
  ) AS baseline,
  per_scope AS
  (
${metricRowsSql({
  variant: "if(model_version = baseline, '*', variant_id)",
  window: (t) => `if(
    model_version = baseline,
    ${t} >= {baseline_from:DateTime64(3, 'UTC')} AND ${t} < {baseline_to:DateTime64(3, 'UTC')},
    ${t} >= {from:DateTime64(3, 'UTC')} AND ${t} < {to:DateTime64(3, 'UTC')}
      AND ({version:String} = '' OR model_version = {version:String}))`,
  when: (m) => `{metric:String} = '${m.name}'`,
})}
  )
SELECT
  c.model_version AS model_version,
  c.variant AS variant_id,
  c.segment AS segment,
  c.modality AS modality,
  c.metric_name AS metric,
  c.scorer_version AS scorer_version,
  c.n AS n,
  c.value AS value,
  b.model_version AS baseline_version,
  b.n AS baseline_n,
  b.value AS baseline_value,
  c.value - b.value AS change,
  if(b.value != 0, (c.value - b.value) / b.value, NULL) AS change_pct,
  if(c.metric_name IN (${lowerIsWorse()}), -1, 1) * (c.value - b.value) AS worse_by
FROM per_scope AS c
INNER JOIN per_scope AS b
  ON c.segment = b.segment AND c.modality = b.modality AND c.metric_name = b.metric_name AND c.scorer_version = b.scorer_version
WHERE b.model_version = baseline AND c.model_version != baseline
  AND c.metric_name = {metric:String}
  AND c.n >= {min_n:UInt32} AND b.n >= {min_n:UInt32}
ORDER BY worse_by DESC, model_version, variant_id, segment, modality
LIMIT {limit:UInt32}`

const SCOPE_OVERVIEW = `-- name: scope-overview
-- description: Traffic per scope (model_version x variant_id x segment x modality) over a window: volume, share of its version, errors, latency, how much was scored, and the version's deployment status.
-- param: from DateTime64(3, 'UTC') [-24h] window start (inclusive)
-- param: to DateTime64(3, 'UTC') [now] window end (exclusive)
-- param: model_version String [] only this model_version; empty: all
-- param: limit UInt32 [1000] rows shown
--
-- error_rate, timeout_rate and latency_p95_ms are rendered from metrics/registry.ts with the
-- evaluator's definitions (no FINAL, as in the evaluator); interactions is error_rate's n
-- (every request). deployment: the version's status in deployments (detected, stable,
-- rolled_back, retired), or 'unrecorded' when detection has not seen it yet. Unmatched LEFT
-- JOIN rows carry default values (empty string, 0): join_use_nulls cannot be set here,
-- because saved queries run with readonly = 1.
SELECT
  t.model_version AS model_version,
  if(d.model_version = '', 'unrecorded', toString(d.status)) AS deployment,
  t.variant_id AS variant_id,
  t.segment AS segment,
  t.modality AS modality,
  t.interactions AS interactions,
  round(t.interactions / sum(t.interactions) OVER (PARTITION BY t.model_version), 4) AS share_of_version,
  round(t.error_rate, 4) AS error_rate,
  round(t.timeout_rate, 4) AS timeout_rate,
  if(t.has_p95, round(t.latency_p95_ms, 1), NULL) AS latency_p95_ms,
  sc.scored AS scored,
  w.first_ts AS first_ts,
  w.last_ts AS last_ts
FROM
(
  SELECT model_version, variant AS variant_id, segment, modality,
    maxIf(n, metric_name = 'error_rate') AS interactions,
    maxIf(value, metric_name = 'error_rate') AS error_rate,
    maxIf(value, metric_name = 'timeout_rate') AS timeout_rate,
    countIf(metric_name = 'latency_p95_ms') > 0 AS has_p95,
    maxIf(value, metric_name = 'latency_p95_ms') AS latency_p95_ms
  FROM
  (
${metricRowsSql({
  metrics: ['error_rate', 'timeout_rate', 'latency_p95_ms'],
  window: (t) => `${t} >= {from:DateTime64(3, 'UTC')} AND ${t} < {to:DateTime64(3, 'UTC')}`,
  where: scopeParam('model_version'),
})}
  )
  GROUP BY model_version, variant_id, segment, modality
) AS t
LEFT JOIN
(
  SELECT model_version, variant_id, segment, modality, min(timestamp) AS first_ts, max(timestamp) AS last_ts
  FROM interactions
  WHERE timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
    AND ${scopeParam('model_version')}
  GROUP BY model_version, variant_id, segment, modality
) AS w
  ON t.model_version = w.model_version AND t.variant_id = w.variant_id AND t.segment = w.segment AND t.modality = w.modality
LEFT JOIN
(
  SELECT model_version, variant_id, segment, modality, uniqExact(request_id) AS scored
  FROM scores
  WHERE interaction_ts >= {from:DateTime64(3, 'UTC')} AND interaction_ts < {to:DateTime64(3, 'UTC')}
    AND ${scopeParam('model_version')}
  GROUP BY model_version, variant_id, segment, modality
) AS sc
  ON t.model_version = sc.model_version AND t.variant_id = sc.variant_id AND t.segment = sc.segment AND t.modality = sc.modality
LEFT JOIN deployment_status AS d ON t.model_version = d.model_version
ORDER BY model_version, interactions DESC, variant_id, segment, modality
LIMIT {limit:UInt32}`

function lowerIsWorse(): string {
  return Object.values(METRICS)
    .filter((m) => m.worse === 'lower')
    .map((m) => `'${m.name}'`)
    .join(', ')
}

/** The rendered saved queries, checked like a file in sql/queries. */
export function metricQueries(): SavedQuery[] {
  return [
    parseSavedQuery(RULE_WINDOW, FILE),
    parseSavedQuery(WORST_SCOPES, FILE),
    parseSavedQuery(SCOPE_OVERVIEW, FILE),
  ]
}
