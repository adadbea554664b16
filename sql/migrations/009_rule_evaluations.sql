-- rule_evaluations: one row per rule x scope look of every live evaluation cycle (not of a
-- backtest), so a rule's page can chart its test over time: the observed value against the
-- baseline and threshold, the confidence interval, n and the p-value (the always-valid
-- sequential p-value, or the change detector's, per rules/evaluate.ts) and the state it led
-- to. Append-only and bounded: rows older than 30 days are dropped by the TTL.
CREATE TABLE IF NOT EXISTS rule_evaluations (
  evaluated_at DateTime64(3, 'UTC'),
  rule LowCardinality(String),
  metric LowCardinality(String),
  dedup_key String,
  model_version LowCardinality(String),
  variant_id LowCardinality(String),
  segment LowCardinality(String),
  modality LowCardinality(String),
  status LowCardinality(String),
  observed Float64,
  baseline Nullable(Float64),
  threshold Float64,
  comparison LowCardinality(String),
  ci_low Nullable(Float64),
  ci_high Nullable(Float64),
  n UInt64,
  baseline_n Nullable(UInt64),
  p_value Nullable(Float64)
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(evaluated_at)
ORDER BY (rule, evaluated_at, dedup_key)
TTL toDateTime(evaluated_at) + INTERVAL 30 DAY;
