-- Messages that could not become an interaction row: the original bytes (base64), why,
-- and where they came from. The same message also goes to the dead-letter topic.
CREATE TABLE IF NOT EXISTS ingest_errors (
  kafka_topic LowCardinality(String),
  kafka_partition UInt32,
  kafka_offset UInt64,
  reason LowCardinality(String),
  detail String,
  raw_base64 String CODEC(ZSTD(3)),
  raw_bytes UInt32,
  message_key Nullable(String),
  headers Map(String, String),
  first_seen DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (kafka_topic, kafka_partition, kafka_offset)
SETTINGS non_replicated_deduplication_window = 1000;
