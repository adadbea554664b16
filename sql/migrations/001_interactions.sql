-- One row per production interaction (request_id), with the Kafka coordinates it came from.
--
-- Nothing doubled, in two layers:
--  * a batch replayed after a crash or rebalance: the consumer skips offsets already stored
--    (kafka_topic, kafka_partition, kafka_offset are kept for that and for replay), and a
--    retried insert carries the same insert_deduplication_token (window below);
--  * a producer that sends the same request_id twice (other offsets): ReplacingMergeTree
--    keeps one row per sorting key, which ends with request_id. Until a merge both copies
--    are visible: exact queries use FINAL or uniqExact(request_id).
CREATE TABLE IF NOT EXISTS interactions (
  request_id String,
  timestamp DateTime64(3, 'UTC'),
  user_id String,
  session_id Nullable(String),
  variant_id LowCardinality(String),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  system_prompt_version LowCardinality(String),
  segment LowCardinality(String),
  modality LowCardinality(String),
  user_input String CODEC(ZSTD(3)),
  model_output String CODEC(ZSTD(3)),
  context Array(String) CODEC(ZSTD(3)),
  latency_ms Float64,
  ttft_ms Nullable(Float64),
  prompt_tokens UInt32,
  completion_tokens UInt32,
  cost_usd Nullable(Float64),
  status LowCardinality(String),
  finish_reason LowCardinality(Nullable(String)),
  safety_flag Nullable(Bool),
  user_feedback_score Nullable(Float64),
  attributes Map(LowCardinality(String), String),
  kafka_topic LowCardinality(String),
  kafka_partition UInt32,
  kafka_offset UInt64,
  ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
  INDEX idx_request_id request_id TYPE bloom_filter(0.01) GRANULARITY 4,
  INDEX idx_kafka_offset kafka_offset TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (toStartOfHour(timestamp), model_version, segment, variant_id, modality, request_id)
SETTINGS non_replicated_deduplication_window = 1000;
