-- name: ingest-errors
-- description: Recent dead-lettered messages by reason: how many per reason in the window, and the newest few of each with where they came from.
-- param: from DateTime64(3, 'UTC') [-24h] window start (inclusive), on first_seen
-- param: to DateTime64(3, 'UTC') [now] window end (exclusive)
-- param: reason String [] only this reason, e.g. not_json, schema_invalid; empty: all
-- param: per_reason UInt32 [5] newest messages shown per reason
--
-- The raw bytes are in ingest_errors.raw_base64 (and on the dead-letter topic); replay one
-- with its topic/partition/offset.
SELECT
  reason,
  count() OVER (PARTITION BY reason) AS reason_total,
  first_seen,
  kafka_topic,
  kafka_partition,
  kafka_offset,
  raw_bytes,
  substring(detail, 1, 300) AS detail
FROM ingest_errors FINAL
WHERE first_seen >= {from:DateTime64(3, 'UTC')} AND first_seen < {to:DateTime64(3, 'UTC')}
  AND ({reason:String} = '' OR reason = {reason:String})
ORDER BY reason_total DESC, reason, first_seen DESC, kafka_topic, kafka_partition, kafka_offset
LIMIT {per_reason:UInt32} BY reason
