-- name: rule-window
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
-- Definitions as in metrics/registry.ts: rates and means of scores are avg(value) of one
-- scorer's metric (0/1 for rates); latency quantiles are exact, over status = 'ok' rows;
-- error and timeout rates over every row. Windows are [from, to) on the interaction's time.
-- FINAL: a re-sent request_id or a re-stored score counts once.
SELECT model_version, variant_id, segment, modality, metric_name AS metric, scorer_version, n, value
FROM
(
  SELECT
    model_version, variant_id, segment, modality,
    multiIf(
      scorer = 'judge' AND metric = 'hallucination', 'hallucination_rate',
      scorer = 'llama_guard' AND metric = 'unsafe', 'unsafe_rate',
      scorer = 'refusal' AND metric = 'refusal', 'refusal_rate',
      'helpfulness_mean') AS metric_name,
    scorer_version,
    count() AS n,
    avg(value) AS value
  FROM scores FINAL
  WHERE interaction_ts >= {from:DateTime64(3, 'UTC')} AND interaction_ts < {to:DateTime64(3, 'UTC')}
    AND (scorer, metric) IN (('judge', 'hallucination'), ('llama_guard', 'unsafe'), ('refusal', 'refusal'), ('judge', 'helpfulness'))
    AND ({scorer_version:String} = '' OR scorer_version = {scorer_version:String})
    AND ({model_version:String} = '' OR model_version = {model_version:String})
    AND ({variant_id:String} = '' OR variant_id = {variant_id:String})
    AND ({segment:String} = '' OR segment = {segment:String})
    AND ({modality:String} = '' OR modality = {modality:String})
  GROUP BY model_version, variant_id, segment, modality, metric_name, scorer_version

  UNION ALL

  SELECT model_version, variant_id, segment, modality, m.1 AS metric_name, '' AS scorer_version, m.2 AS n, m.3 AS value
  FROM
  (
    SELECT
      model_version, variant_id, segment, modality,
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
    WHERE timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
      AND ({model_version:String} = '' OR model_version = {model_version:String})
      AND ({variant_id:String} = '' OR variant_id = {variant_id:String})
      AND ({segment:String} = '' OR segment = {segment:String})
      AND ({modality:String} = '' OR modality = {modality:String})
    GROUP BY model_version, variant_id, segment, modality
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
WHERE {metric:String} = '' OR metric_name = {metric:String}
ORDER BY model_version, variant_id, segment, modality, metric, scorer_version
