-- Shadow deployments (docs/shadow.md): one row per shadow interaction paired with its
-- production twin (interactions.shadow_of = the production request_id), written by the
-- `shadow` job. The job pairs only shadow rows absent from this table, and writes with an
-- insert token, so a rerun never pairs (or counts) a shadow answer twice; exact readers use
-- FINAL. method says how `distance` was measured: embedding (cosine distance of the two
-- answers' vectors) or lexical (1 - token-set Jaccard); fallback_reason says why a run that
-- had an embeddings endpoint configured measured lexically ('' when it did not fall back).
CREATE TABLE IF NOT EXISTS shadow_pairs (
  shadow_request_id String,
  production_request_id String,
  shadow_version LowCardinality(String),
  production_version LowCardinality(String),
  variant_id LowCardinality(String),
  segment LowCardinality(String),
  modality LowCardinality(String),
  interaction_ts DateTime64(3, 'UTC'),
  method LowCardinality(String),
  method_version LowCardinality(String),
  fallback_reason String,
  distance Float64,
  divergent Bool,
  threshold Float64,
  judge_helpfulness_diff Nullable(Float64),
  judge_hallucination_disagree Nullable(UInt8),
  production_status LowCardinality(String),
  shadow_status LowCardinality(String),
  production_latency_ms Float64,
  shadow_latency_ms Float64,
  production_cost_usd Nullable(Float64),
  shadow_cost_usd Nullable(Float64),
  run_id String,
  paired_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(paired_at)
PARTITION BY toYYYYMM(interaction_ts)
ORDER BY (shadow_request_id)
SETTINGS non_replicated_deduplication_window = 1000;
