// The saved queries that show metric numbers (rule-window, worst-scopes), rendered from the
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

function lowerIsWorse(): string {
  return Object.values(METRICS)
    .filter((m) => m.worse === 'lower')
    .map((m) => `'${m.name}'`)
    .join(', ')
}

/** The rendered saved queries, checked like a file in sql/queries. */
export function metricQueries(): SavedQuery[] {
  return [parseSavedQuery(RULE_WINDOW, FILE), parseSavedQuery(WORST_SCOPES, FILE)]
}
