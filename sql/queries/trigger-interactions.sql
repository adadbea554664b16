-- name: trigger-interactions
-- description: The interactions behind a trigger: request_ids of a version in a scope and window, with their scores, the ones that drove the metric first.
-- param: version String the model_version of the trigger (its from_version)
-- param: from DateTime64(3, 'UTC') [-1h] window start (inclusive)
-- param: to DateTime64(3, 'UTC') [now] window end (exclusive)
-- param: segment String [] only this segment; empty: all
-- param: variant_id String [] only this variant; empty: all
-- param: modality String [] only this modality; empty: all
-- param: metric String [] e.g. hallucination_rate (only scored rows, positives first), latency_p99_ms (slowest first), error_rate; empty: newest first
-- param: scorer_version String [] scores of this scorer_version only; empty: the latest score per metric (ties: the greater scorer_version)
-- param: limit UInt32 [100] rows shown
--
-- metric_value is the row's value of the chosen metric: its score for score metrics
-- (hallucination_rate -> score metric hallucination), latency_ms, ttft_ms, or 1/0 for
-- error_rate / timeout_rate. scores and labels hold every score of the row, by metric.
WITH replaceRegexpOne({metric:String}, '_(rate|mean)$', '') AS wanted
SELECT
  i.request_id AS request_id,
  i.timestamp AS timestamp,
  i.variant_id AS variant_id,
  i.segment AS segment,
  i.modality AS modality,
  i.status AS status,
  i.latency_ms AS latency_ms,
  multiIf(
    wanted = '', NULL,
    startsWith(wanted, 'latency_'), i.latency_ms,
    startsWith(wanted, 'ttft_'), i.ttft_ms,
    wanted = 'error', toFloat64(i.status = 'error'),
    wanted = 'timeout', toFloat64(i.status = 'timeout'),
    mapContains(s.scores, wanted), s.scores[wanted],
    NULL) AS metric_value,
  s.scores AS scores,
  s.labels AS labels
FROM
(
  SELECT request_id, timestamp, variant_id, segment, modality, status, latency_ms, ttft_ms
  FROM interactions FINAL
  WHERE model_version = {version:String}
    AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
    AND ({segment:String} = '' OR segment = {segment:String})
    AND ({variant_id:String} = '' OR variant_id = {variant_id:String})
    AND ({modality:String} = '' OR modality = {modality:String})
) AS i
LEFT JOIN
(
  SELECT request_id, CAST((groupArray(metric), groupArray(value)), 'Map(String, Float64)') AS scores,
    CAST((groupArray(metric), groupArray(label)), 'Map(String, String)') AS labels
  FROM
  (
    SELECT request_id, metric, argMax(value, (scored_at, scorer_version)) AS value, argMax(label, (scored_at, scorer_version)) AS label
    FROM scores FINAL
    WHERE model_version = {version:String}
      AND interaction_ts >= {from:DateTime64(3, 'UTC')} AND interaction_ts < {to:DateTime64(3, 'UTC')}
      AND ({scorer_version:String} = '' OR scorer_version = {scorer_version:String})
    GROUP BY request_id, metric
  )
  GROUP BY request_id
) AS s ON i.request_id = s.request_id
WHERE wanted = '' OR startsWith(wanted, 'latency_') OR wanted IN ('error', 'timeout')
  OR (startsWith(wanted, 'ttft_') AND i.ttft_ms IS NOT NULL) OR mapContains(s.scores, wanted)
ORDER BY if(wanted IN ('helpfulness', 'user_feedback'), -1, 1) * metric_value DESC NULLS LAST, timestamp DESC, request_id
LIMIT {limit:UInt32}
