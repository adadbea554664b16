-- name: scope-overview
-- description: Traffic per scope (model_version x variant_id x segment x modality) over a window: volume, share of its version, errors, latency, how much was scored, and the version's deployment status.
-- param: from DateTime64(3, 'UTC') [-24h] window start (inclusive)
-- param: to DateTime64(3, 'UTC') [now] window end (exclusive)
-- param: model_version String [] only this model_version; empty: all
--
-- deployment: the version's status in deployments (detected, stable, rolled_back, retired),
-- or 'unrecorded' when detection has not seen it yet (`driftwatch deploy list` runs it).
-- Unmatched LEFT JOIN rows carry default values (empty string, 0): join_use_nulls cannot
-- be set here, because saved queries run with readonly = 1.
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
  round(t.latency_p95_ms, 1) AS latency_p95_ms,
  sc.scored AS scored,
  t.first_ts AS first_ts,
  t.last_ts AS last_ts
FROM
(
  SELECT
    model_version, variant_id, segment, modality,
    count() AS interactions,
    countIf(status = 'error') / count() AS error_rate,
    countIf(status = 'timeout') / count() AS timeout_rate,
    quantileExactIf(0.95)(latency_ms, status = 'ok') AS latency_p95_ms,
    min(timestamp) AS first_ts,
    max(timestamp) AS last_ts
  FROM interactions FINAL
  WHERE timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
    AND ({model_version:String} = '' OR model_version = {model_version:String})
  GROUP BY model_version, variant_id, segment, modality
) AS t
LEFT JOIN
(
  SELECT model_version, variant_id, segment, modality, uniqExact(request_id) AS scored
  FROM scores
  WHERE interaction_ts >= {from:DateTime64(3, 'UTC')} AND interaction_ts < {to:DateTime64(3, 'UTC')}
    AND ({model_version:String} = '' OR model_version = {model_version:String})
  GROUP BY model_version, variant_id, segment, modality
) AS sc
  ON t.model_version = sc.model_version AND t.variant_id = sc.variant_id AND t.segment = sc.segment AND t.modality = sc.modality
LEFT JOIN deployment_status AS d ON t.model_version = d.model_version
ORDER BY model_version, interactions DESC, variant_id, segment, modality
