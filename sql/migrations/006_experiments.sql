-- Every analysis of an A/B experiment (`driftwatch experiment analyze`), kept as history:
-- the decision, the decision-matrix rule that made it, the checks that gate it, and the whole
-- JSON report (report) so any past decision can be shown again exactly as it was printed.
CREATE TABLE IF NOT EXISTS experiment_results (
  experiment LowCardinality(String),
  analyzed_at DateTime64(3, 'UTC'),
  decision LowCardinality(String),
  rule LowCardinality(String),
  reason String,
  srm_p_value Float64,
  srm_flagged Bool,
  users_in_both UInt64,
  planned_per_variant Nullable(UInt64),
  observed_per_variant UInt64,
  report String CODEC(ZSTD(3)),
  config_hash String
)
ENGINE = MergeTree
ORDER BY (experiment, analyzed_at);
