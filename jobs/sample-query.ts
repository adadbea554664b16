// The sampler's rule (jobs/sampler.ts) as one ClickHouse query, so the selection runs where the
// rows are: which windows have new rows since the watermark, then which rows of those windows
// to score and have not been scored (or failed) yet for a scorer version. Pure: builds SQL
// text and typed parameters; user values are always parameters, never spliced into the text.

import { SCOPE_COLUMNS } from '../contract/scope.ts'
import { clickhouseTime } from '../store/time.ts'
import { HASH_BITS, PRIORITY, type SamplingPolicy } from './sampler.ts'

export interface Query {
  sql: string
  params: Record<string, unknown>
}

/** SQL twin of requestHash(): the first 6 bytes of sha256, read big-endian. */
export function sqlRequestHash(column: string, saltParam?: string): string {
  const input = saltParam ? `concat({${saltParam}:String}, ${column})` : column
  return `reinterpretAsUInt64(reverse(substring(SHA256(${input}), 1, ${HASH_BITS / 8})))`
}

/** SQL twin of windowIndex(). */
export function sqlWindowIndex(column: string, windowParam: string): string {
  return `intDiv(toUnixTimestamp64Milli(${column}), {${windowParam}:Int64})`
}

export interface TouchedWindowsInput {
  windowMinutes: number
  /** Exclusive lower bound on ingested_at (the watermark), ClickHouse time text. */
  after: string
  /** Inclusive upper bound on ingested_at. */
  upTo: string
  /** First run only: ignore interactions older than this (interaction time). */
  notBefore?: string
}

/** Windows (by interaction time) that received rows in (after, upTo] by ingestion time. */
export function touchedWindowsQuery(input: TouchedWindowsInput): Query {
  return {
    sql: `SELECT DISTINCT ${sqlWindowIndex('timestamp', 'window_ms')} AS window_idx
FROM interactions
WHERE ingested_at > {after:DateTime64(3, 'UTC')} AND ingested_at <= {up_to:DateTime64(3, 'UTC')}${
      input.notBefore ? " AND timestamp >= {not_before:DateTime64(3, 'UTC')}" : ''
    }
ORDER BY window_idx`,
    params: {
      window_ms: input.windowMinutes * 60_000,
      after: input.after,
      up_to: input.upTo,
      ...(input.notBefore ? { not_before: input.notBefore } : {}),
    },
  }
}

export interface SampleQueryInput {
  policy: SamplingPolicy
  windows: number[]
  /** Inclusive upper bound on ingested_at: the universe is what the watermark will cover. */
  upTo: string
  scorerVersion: string
  /** The metric every successful scoring writes; its presence means "already scored". */
  primaryMetric: string
}

/** The columns each candidate row comes back with. */
export interface SampleQueryRow {
  request_id: string
  timestamp: string
  model_version: string
  variant_id: string
  segment: string
  modality: string
  status: string
  window_idx: number
  hash: number
  scope_rank: number
  priority: number
}

/**
 * Selected rows of the given windows that have neither a score nor a failure row for this
 * scorer version, ordered as the job scores them. The rank is computed over every row of the
 * scope (scored or not), so the choice does not depend on what earlier runs did.
 */
export function sampleQuery(input: SampleQueryInput): Query {
  const { policy } = input
  if (input.windows.length === 0) throw new RangeError('sampleQuery needs at least one window')
  const windowMs = policy.windowMinutes * 60_000
  const params: Record<string, unknown> = {
    window_ms: windowMs,
    windows: input.windows,
    lo: clickhouseTime(Math.min(...input.windows) * windowMs),
    hi: clickhouseTime((Math.max(...input.windows) + 1) * windowMs),
    up_to: input.upTo,
    rate: policy.rate,
    min_n: policy.minPerScope,
    always_errors: policy.alwaysErrors,
    always_flagged: policy.alwaysFlagged,
    scorer_version: input.scorerVersion,
    metric: input.primaryMetric,
  }
  // Overrides become multiIf branches, first match wins, like ruleForScope().
  const rateBranches: string[] = []
  const minBranches: string[] = []
  policy.overrides.forEach((o, i) => {
    const conditions = SCOPE_COLUMNS.filter((k) => o.where[k] !== undefined).map((k) => {
      params[`o${i}_${k}`] = o.where[k]
      return `${k} = {o${i}_${k}:String}`
    })
    const when = conditions.join(' AND ')
    params[`o${i}_rate`] = o.rate ?? policy.rate
    params[`o${i}_min`] = o.minPerScope ?? policy.minPerScope
    rateBranches.push(`${when}, {o${i}_rate:Float64}`)
    minBranches.push(`${when}, {o${i}_min:UInt32}`)
  })
  const rate = rateBranches.length ? `multiIf(${rateBranches.join(', ')}, {rate:Float64})` : '{rate:Float64}'
  const minN = minBranches.length ? `multiIf(${minBranches.join(', ')}, {min_n:UInt32})` : '{min_n:UInt32}'
  const forced = `(({always_errors:Bool} AND status != 'ok') OR ({always_flagged:Bool} AND ifNull(safety_flag, false)))`
  const sql = `SELECT request_id, timestamp, model_version, variant_id, segment, modality, status, window_idx, hash, scope_rank,
  multiIf(scope_rank <= min_n, ${PRIORITY.minimum}, ${forced}, ${PRIORITY.forced}, ${PRIORITY.rate}) AS priority
FROM (
  SELECT *, row_number() OVER (PARTITION BY window_idx, model_version, variant_id, segment, modality ORDER BY hash, request_id) AS scope_rank
  FROM (
    SELECT request_id, timestamp, model_version, variant_id, segment, modality, status, safety_flag,
      ${sqlWindowIndex('timestamp', 'window_ms')} AS window_idx,
      ${sqlRequestHash('request_id')} AS hash,
      ${rate} AS rate,
      ${minN} AS min_n
    FROM interactions
    WHERE timestamp >= {lo:DateTime64(3, 'UTC')} AND timestamp < {hi:DateTime64(3, 'UTC')}
      AND ingested_at <= {up_to:DateTime64(3, 'UTC')}
      AND window_idx IN {windows:Array(Int64)}
    ORDER BY request_id, ingested_at
    LIMIT 1 BY request_id
  )
)
WHERE (scope_rank <= min_n OR ${forced} OR hash < rate * ${2 ** HASH_BITS})
  AND request_id NOT IN (
    SELECT request_id FROM scores
    WHERE scorer_version = {scorer_version:String} AND metric = {metric:String}
      AND interaction_ts >= {lo:DateTime64(3, 'UTC')} AND interaction_ts < {hi:DateTime64(3, 'UTC')}
  )
  AND request_id NOT IN (SELECT request_id FROM scoring_failures WHERE scorer_version = {scorer_version:String})
ORDER BY priority, hash, request_id`
  return { sql, params }
}
