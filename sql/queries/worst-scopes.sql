-- name: worst-scopes
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
-- Metric definitions as in rule-window.sql and metrics/registry.ts.
WITH
  if(
    {baseline_version:String} != '',
    {baseline_version:String},
    (SELECT argMax(model_version, marked_at) FROM deployment_status
     WHERE status = 'stable' AND model_version != {version:String})
  ) AS baseline,
  per_scope AS
  (
    SELECT
      model_version, if(model_version = baseline, '*', variant_id) AS variant, segment, modality,
      multiIf(
        scorer = 'judge' AND metric = 'hallucination', 'hallucination_rate',
        scorer = 'llama_guard' AND metric = 'unsafe', 'unsafe_rate',
        scorer = 'refusal' AND metric = 'refusal', 'refusal_rate',
        'helpfulness_mean') AS metric_name,
      scorer_version,
      count() AS n,
      avg(value) AS value
    FROM scores FINAL
    WHERE (scorer, metric) IN (('judge', 'hallucination'), ('llama_guard', 'unsafe'), ('refusal', 'refusal'), ('judge', 'helpfulness'))
      AND if(
        model_version = baseline,
        interaction_ts >= {baseline_from:DateTime64(3, 'UTC')} AND interaction_ts < {baseline_to:DateTime64(3, 'UTC')},
        interaction_ts >= {from:DateTime64(3, 'UTC')} AND interaction_ts < {to:DateTime64(3, 'UTC')}
          AND ({version:String} = '' OR model_version = {version:String}))
    GROUP BY model_version, variant, segment, modality, metric_name, scorer_version

    UNION ALL

    SELECT model_version, variant, segment, modality, m.1 AS metric_name, '' AS scorer_version, m.2 AS n, m.3 AS value
    FROM
    (
      SELECT
        model_version, if(model_version = baseline, '*', variant_id) AS variant, segment, modality,
        count() AS total,
        countIf(status = 'ok') AS ok,
        quantilesExactIf(0.5, 0.95, 0.99)(latency_ms, status = 'ok') AS latency,
        countIf(ttft_ms IS NOT NULL) AS ttft_n,
        quantileExactIf(0.95)(ifNull(ttft_ms, 0), ttft_ms IS NOT NULL) AS ttft_p95,
        countIf(cost_usd IS NOT NULL) AS cost_n,
        avgIf(ifNull(cost_usd, 0), cost_usd IS NOT NULL) AS cost_mean,
        countIf(user_feedback_score IS NOT NULL) AS feedback_n,
        avgIf(ifNull(user_feedback_score, 0), user_feedback_score IS NOT NULL) AS feedback_mean,
        avg(prompt_tokens + completion_tokens) AS tokens_mean,
        countIf(status = 'error') / count() AS error_share,
        countIf(status = 'timeout') / count() AS timeout_share
      FROM interactions FINAL
      WHERE if(
        model_version = baseline,
        timestamp >= {baseline_from:DateTime64(3, 'UTC')} AND timestamp < {baseline_to:DateTime64(3, 'UTC')},
        timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
          AND ({version:String} = '' OR model_version = {version:String}))
      GROUP BY model_version, variant, segment, modality
    )
    ARRAY JOIN [
      ('latency_p50_ms', ok, latency[1]),
      ('latency_p95_ms', ok, latency[2]),
      ('latency_p99_ms', ok, latency[3]),
      ('ttft_p95_ms', ttft_n, ttft_p95),
      ('error_rate', total, error_share),
      ('timeout_rate', total, timeout_share),
      ('cost_per_interaction', cost_n, cost_mean),
      ('tokens_per_interaction', total, tokens_mean),
      ('user_feedback_mean', feedback_n, feedback_mean)
    ] AS m
    WHERE m.2 > 0
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
  if(c.metric_name IN ('helpfulness_mean', 'user_feedback_mean'), -1, 1) * (c.value - b.value) AS worse_by
FROM per_scope AS c
INNER JOIN per_scope AS b
  ON c.segment = b.segment AND c.modality = b.modality AND c.metric_name = b.metric_name AND c.scorer_version = b.scorer_version
WHERE b.model_version = baseline AND c.model_version != baseline
  AND c.metric_name = {metric:String}
  AND c.n >= {min_n:UInt32} AND b.n >= {min_n:UInt32}
ORDER BY worse_by DESC, model_version, variant_id, segment, modality
LIMIT {limit:UInt32}
