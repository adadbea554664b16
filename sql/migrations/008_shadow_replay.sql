-- Shadow and replayed answers: `shadow_of` is the production request_id a shadow version's
-- (or `driftwatch replay`'s) answer belongs to; NULL for production traffic. Rows ingested
-- before this migration read as NULL.
ALTER TABLE interactions ADD COLUMN IF NOT EXISTS shadow_of Nullable(String) AFTER attributes;
ALTER TABLE interactions ADD INDEX IF NOT EXISTS idx_shadow_of shadow_of TYPE bloom_filter(0.01) GRANULARITY 4;
