-- One job runner at a time across processes: a lease held by claim and renewal rows.
--
-- ClickHouse has no compare-and-set, so the lease is decided by reading, not by a locked
-- write (jobs/lease.ts): a free lease (the latest term's holder let it expire) is claimed by
-- inserting a `claim` row for term + 1; after a settle delay every claimer reads that term's
-- claims and the earliest (claimed_at, holder) wins, the same answer for everyone. The
-- holder inserts `renew` rows to push expires_at; others ignore rows of non-winners.
-- claimed_at is the server's clock at insert, so claimers on hosts with skewed clocks
-- still agree on "earliest". Old rows go after a day.
CREATE TABLE IF NOT EXISTS job_lease (
  name LowCardinality(String),
  term UInt64,
  holder String,
  kind Enum8('claim' = 1, 'renew' = 2),
  ttl_ms UInt32,
  claimed_at DateTime64(3, 'UTC') DEFAULT now64(3),
  expires_at DateTime64(3, 'UTC') DEFAULT claimed_at + toIntervalMillisecond(ttl_ms)
)
ENGINE = MergeTree
ORDER BY (name, term, claimed_at, holder)
TTL toDateTime(claimed_at) + INTERVAL 1 DAY;
