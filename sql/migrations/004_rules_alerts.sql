-- Rule evaluation state and alert history.
--
-- rule_states: one row per rule x scope x version (dedup_key), replaced at every look. The
-- whole state (sequential test, counters, last numbers) is JSON in `state`; the columns
-- beside it are for people's queries. A restarted process reloads it: an open incident
-- stays open and is never paged again.
CREATE TABLE IF NOT EXISTS rule_states (
  dedup_key String,
  rule LowCardinality(String),
  metric LowCardinality(String),
  model_version LowCardinality(String),
  variant_id LowCardinality(String),
  segment LowCardinality(String),
  modality LowCardinality(String),
  status LowCardinality(String),
  state String,
  updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY dedup_key;

-- alerts: the whole history of incidents. One alert_id per (dedup_key, fired_at, state);
-- its row is written before sending (sent_to empty) and replaced once the sinks answered,
-- so a crash in between is finished by the next cycle instead of paging twice.
CREATE TABLE IF NOT EXISTS alerts (
  alert_id String,
  dedup_key String,
  rule LowCardinality(String),
  metric LowCardinality(String),
  action LowCardinality(String),
  state LowCardinality(String),
  model_version LowCardinality(String),
  variant_id LowCardinality(String),
  segment LowCardinality(String),
  modality LowCardinality(String),
  observed Float64,
  baseline Nullable(Float64),
  threshold Float64,
  comparison LowCardinality(String),
  p_value Nullable(Float64),
  confidence Float64,
  ci_low Nullable(Float64),
  ci_high Nullable(Float64),
  n UInt64,
  baseline_n Nullable(UInt64),
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  from_version String,
  to_version Nullable(String),
  fired_at DateTime64(3, 'UTC'),
  resolved_at Nullable(DateTime64(3, 'UTC')),
  message String,
  reproduce_sql String,
  sinks Array(LowCardinality(String)),
  sent_to Array(LowCardinality(String)),
  last_error String,
  -- The alert decision as sent (JSON), so an unfinished delivery can be completed as it was.
  payload String CODEC(ZSTD(3)),
  created_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY alert_id;
