// Measures a metric per scope (model_version x variant x segment x modality) over a time
// window, in ClickHouse, as the sufficient statistics the tests need: counts for rates,
// mean and variance for means, the quantile and its neighbours for quantiles. Also builds
// the SQL a person can run to reproduce a number.

import { ALL, baselineKey, SCOPE_COLUMNS, type Scope, type ScopeWhere, scopeKey } from '../contract/scope.ts'
import type { Store } from '../store/store.ts'
import { clickhouseTime } from '../store/time.ts'
import { METRICS, type MetricDefinition, metricDefinition } from './registry.ts'

export interface ScopeStats {
  scope: Scope
  n: number
  /** The metric's value: rate, mean or quantile. */
  value: number
  /** rate: events counted. */
  x: number
  /** mean: sample variance. */
  variance: number
  /** quantile: standard error of the quantile estimate (Siddiqui-Bloch-Gastwirth). */
  standardError: number
  /** First and last data time in the window (epoch ms), when measured. */
  first?: number
  last?: number
  /** With StatsQuery.bucketMs: the bucket's index from `from`. */
  bucket?: number
  /** quantile with StatsQuery.exceedance: values strictly above the scope's threshold. */
  exceed?: { threshold: number; count: number }
}

/**
 * Thresholds to count values above, per scope (quantile tail tests), keyed by scopeKey
 * (`by: 'scope'`) or by baselineKey, segment × modality (`by: 'baseline'`, a last_stable
 * baseline's key); other scopes get `otherwise`, or no count.
 */
export interface ExceedanceQuery {
  by: 'scope' | 'baseline'
  thresholds: Readonly<Record<string, number>>
  otherwise?: number
}

export interface StatsQuery {
  metric: MetricDefinition
  /** Window [from, to) in epoch ms. */
  from: number
  to: number
  /** Scope filter; a missing key matches everything. */
  where?: ScopeWhere
  /** Required for score metrics: never mix scorer versions. */
  scorerVersion?: string
  /** Pool all variants (and report variant_id '*'): baselines are a version, not a variant. */
  poolVariants?: boolean
  /** Per-scope window starts (epoch ms, by scopeKey): each test's own start; other scopes start at `from`. */
  startsByScope?: Readonly<Record<string, number>>
  /** Also count values above a per-scope threshold. */
  exceedance?: ExceedanceQuery
  /** Also group by time buckets of this many ms from `from` (charts: one query for a whole series). */
  bucketMs?: number
}

/** SQL for scopeKey / baselineKey (contract/scope.ts): `\` and `|` escaped inside a part, joined by `|`. */
function keyExpr(columns: readonly string[]): string {
  const escaped = columns.map((c) => `replaceAll(replaceAll(${c}, '\\\\', '\\\\\\\\'), '|', '\\\\|')`)
  return escaped.length === 1 ? escaped[0]! : `concat(${escaped.join(", '|', ")})`
}

/** The threshold StatsQuery.exceedance assigns to a scope (undefined: none). */
export function exceedanceThreshold(q: ExceedanceQuery, scope: Scope): number | undefined {
  return q.thresholds[q.by === 'scope' ? scopeKey(scope) : baselineKey(scope)] ?? q.otherwise
}

/** Offset for the quantile's density estimate: small, but inside (0, 1). */
export function quantileBandwidth(p: number): number {
  return Math.min(0.02, (1 - p) / 2, p / 2)
}

/** Where a metric's rows are and what is measured on each: one definition for every query. */
function metricSource(m: MetricDefinition): { table: string; time: string; value: string; filter?: string } {
  // No FINAL, here and in the saved queries rendered below (so both give the same numbers):
  // the jobs write one row per (request, scorer_version, metric) (anti-join and insert
  // tokens), and FINAL would merge every part of the window on each cycle.
  if (m.source === 'scores') return { table: 'scores', time: 'interaction_ts', value: 'value' }
  return { table: 'interactions', time: 'timestamp', value: `toFloat64(${m.expr})`, filter: m.filter }
}

/** The sufficient statistics toStats() reads, as SQL aggregates. */
function aggregatesSql(m: MetricDefinition, value: string): string {
  if (m.kind === 'rate') return `count() AS n, sum(${value}) AS x`
  if (m.kind === 'mean') return `count() AS n, avg(${value}) AS mean, varSamp(${value}) AS variance`
  const p = (m as { p: number }).p
  const h = quantileBandwidth(p)
  return `count() AS n, quantilesExact(${p - h}, ${p}, ${p + h})(${value}) AS qs`
}

/** The metric's value as one SQL aggregate: the same number toStats() computes from aggregatesSql(). */
function valueSql(m: MetricDefinition, value: string): string {
  if (m.kind === 'rate') return `sum(${value}) / count()`
  if (m.kind === 'mean') return `avg(${value})`
  const p = (m as { p: number }).p
  const h = quantileBandwidth(p)
  return `quantilesExact(${p - h}, ${p}, ${p + h})(${value})[2]`
}

export function buildScopeStatsQuery(q: StatsQuery): { sql: string; params: Record<string, unknown> } {
  const m = q.metric
  // The index condition covers the earliest per-scope start too (a firing test may be older).
  const lowest = Math.min(q.from, ...Object.values(q.startsByScope ?? {}))
  const params: Record<string, unknown> = { from: clickhouseTime(q.from), to: clickhouseTime(q.to) }
  if (lowest < q.from) params.lowest = clickhouseTime(lowest)
  const source = metricSource(m)
  const conditions: string[] = [
    `${source.time} >= {${params.lowest !== undefined ? 'lowest' : 'from'}:DateTime64(3, 'UTC')}`,
    `${source.time} < {to:DateTime64(3, 'UTC')}`,
  ]
  if (m.source === 'scores') {
    conditions.push(
      'scorer = {scorer:String}',
      'metric = {score_metric:String}',
      'scorer_version = {scorer_version:String}',
    )
    params.scorer = m.scorer
    params.score_metric = m.scoreMetric
    params.scorer_version = q.scorerVersion ?? ''
  } else if (source.filter) conditions.push(source.filter)
  if (q.startsByScope && Object.keys(q.startsByScope).length > 0) {
    // Each scope's test has its own start; scopes without one start at `from`.
    params.start_keys = Object.keys(q.startsByScope)
    params.start_values = Object.values(q.startsByScope).map((v) => Math.round(v))
    conditions.push(
      `toUnixTimestamp64Milli(${source.time}) >= transform(${keyExpr(SCOPE_COLUMNS)}, {start_keys:Array(String)}, {start_values:Array(Int64)}, toUnixTimestamp64Milli({from:DateTime64(3, 'UTC')}))`,
    )
  }
  for (const column of SCOPE_COLUMNS) {
    const wanted = q.where?.[column]
    if (wanted !== undefined && wanted !== ALL) {
      conditions.push(`${column} = {w_${column}:String}`)
      params[`w_${column}`] = wanted
    }
  }
  let aggregates = aggregatesSql(m, source.value)
  if (m.kind === 'quantile' && q.exceedance) {
    params.ex_keys = Object.keys(q.exceedance.thresholds)
    params.ex_values = Object.values(q.exceedance.thresholds)
    const otherwise = q.exceedance.otherwise !== undefined ? '{ex_otherwise:Float64}' : 'inf'
    if (q.exceedance.otherwise !== undefined) params.ex_otherwise = q.exceedance.otherwise
    const columns = q.exceedance.by === 'scope' ? SCOPE_COLUMNS : (['segment', 'modality'] as const)
    const threshold = `transform(${keyExpr(columns)}, {ex_keys:Array(String)}, {ex_values:Array(Float64)}, ${otherwise})`
    aggregates += `, countIf(${source.value} > ${threshold}) AS above`
  }
  aggregates += `, toUnixTimestamp64Milli(min(${source.time})) AS first, toUnixTimestamp64Milli(max(${source.time})) AS last`
  const groups = q.poolVariants
    ? ['model_version', `'${ALL}' AS variant_id`, 'segment', 'modality']
    : [...SCOPE_COLUMNS]
  let groupBy = q.poolVariants ? 'model_version, segment, modality' : SCOPE_COLUMNS.join(', ')
  if (q.bucketMs !== undefined) {
    params.bucket_ms = Math.max(1, Math.round(q.bucketMs))
    groups.push(
      `intDiv(toUnixTimestamp64Milli(${source.time}) - toUnixTimestamp64Milli({from:DateTime64(3, 'UTC')}), {bucket_ms:UInt64}) AS bucket`,
    )
    groupBy += ', bucket'
  }
  const sql = `SELECT ${groups.join(', ')}, ${aggregates}
FROM ${source.table}
WHERE ${conditions.join('\n  AND ')}
GROUP BY ${groupBy}`
  return { sql, params }
}

export interface MetricRowsOptions {
  /** The window condition on a table's time column (`interaction_ts` or `timestamp`). */
  window: (timeColumn: string) => string
  /** Extra condition on the scope columns, e.g. a filter by query parameters. */
  where?: string
  /** SQL for the `variant` column; default variant_id (a baseline may pool: `'*'`). */
  variant?: string
  /** Condition per metric, e.g. "the metric param names this one" (constant: the branch is skipped). */
  when?: (metric: MetricDefinition) => string
  /** Only these metrics; default every metric of the registry. */
  metrics?: readonly string[]
}

const sqlString = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/**
 * Every registry metric per scope as rows (model_version, variant, segment, modality,
 * metric_name, scorer_version, n, value), rendered from the same definitions as the
 * evaluator's queries: the saved queries and `status` show the numbers that page. Score
 * metrics come per scorer_version (never mixed); the others with scorer_version ''.
 */
export function metricRowsSql(options: MetricRowsOptions): string {
  const variant = options.variant ?? 'variant_id'
  const names = options.metrics ?? Object.keys(METRICS)
  return names
    .map((name) => {
      const m = metricDefinition(name)
      const source = metricSource(m)
      const conditions = [options.window(source.time)]
      if (m.source === 'scores')
        conditions.push(`scorer = ${sqlString(m.scorer)}`, `metric = ${sqlString(m.scoreMetric)}`)
      else if (source.filter) conditions.push(source.filter)
      if (options.where) conditions.push(options.where)
      if (options.when) conditions.push(options.when(m))
      const scorerVersion = m.source === 'scores' ? 'scorer_version' : "'' AS scorer_version"
      return `SELECT model_version, ${variant} AS variant, segment, modality, ${sqlString(m.name)} AS metric_name,
  ${scorerVersion}, count() AS n, ${valueSql(m, source.value)} AS value
FROM ${source.table}
WHERE ${conditions.map((c) => `(${c})`).join('\n  AND ')}
GROUP BY model_version, variant, segment, modality${m.source === 'scores' ? ', scorer_version' : ''}`
    })
    .join('\n\nUNION ALL\n\n')
}

interface RawRow {
  model_version: string
  variant_id: string
  segment: string
  modality: string
  n: number
  x?: number
  mean?: number
  variance?: number
  qs?: number[]
  above?: number | string
  first?: number | string
  last?: number | string
  bucket?: number | string
}

export async function fetchScopeStats(store: Store, q: StatsQuery): Promise<ScopeStats[]> {
  const { sql, params } = buildScopeStatsQuery(q)
  const rows = await store.query<RawRow>(sql, params)
  return rows.map((row) => {
    const stats = toStats(q.metric, row)
    if (row.first !== undefined) stats.first = Number(row.first)
    if (row.last !== undefined) stats.last = Number(row.last)
    if (row.bucket !== undefined) stats.bucket = Number(row.bucket)
    const threshold = q.exceedance ? exceedanceThreshold(q.exceedance, stats.scope) : undefined
    if (threshold !== undefined) stats.exceed = { threshold, count: Number(row.above ?? 0) }
    return stats
  })
}

export function toStats(metric: MetricDefinition, row: RawRow): ScopeStats {
  const n = Number(row.n)
  const scope = {
    model_version: row.model_version,
    variant_id: row.variant_id,
    segment: row.segment,
    modality: row.modality,
  }
  if (metric.kind === 'rate') {
    const x = Number(row.x ?? 0)
    return {
      scope,
      n,
      x,
      value: n > 0 ? x / n : 0,
      variance: 0,
      standardError: n > 0 ? Math.sqrt(((x / n) * (1 - x / n)) / n) : Infinity,
    }
  }
  if (metric.kind === 'mean') {
    const variance = Number.isFinite(Number(row.variance)) ? Number(row.variance) : 0
    return {
      scope,
      n,
      x: 0,
      value: Number(row.mean ?? 0),
      variance,
      standardError: n > 1 ? Math.sqrt(variance / n) : Infinity,
    }
  }
  const p = (metric as { p: number }).p
  const h = quantileBandwidth(p)
  const [low, mid, high] = (row.qs ?? [0, 0, 0]).map(Number) as [number, number, number]
  // Var(q̂_p) ≈ p(1-p) / (n f(q_p)²), with 1/f estimated by (q_{p+h} - q_{p-h}) / 2h.
  const standardError = n > 0 ? (Math.sqrt((p * (1 - p)) / n) * (high - low)) / (2 * h) : Infinity
  return { scope, n, x: 0, value: mid, variance: 0, standardError }
}

/**
 * Where an evaluation cycle gets its numbers: the store (live), or an index built once over
 * the stored rows (a backtest, metrics/memory-stats.ts) answering the same queries.
 */
export interface StatsSource {
  scopeStats(q: StatsQuery): Promise<ScopeStats[]>
  latestScorerVersion(scorer: string, scoreMetric: string): Promise<string | undefined>
}

/** The live source: one ClickHouse query per call. */
export function storeStatsSource(store: Store): StatsSource {
  return {
    scopeStats: (q) => fetchScopeStats(store, q),
    latestScorerVersion: (scorer, scoreMetric) => latestScorerVersion(store, scorer, scoreMetric),
  }
}

/**
 * Every value a metric's StatsQuery would aggregate, with time in [since, to), grouped per scope
 * (scores: per scorer_version too), as arrays: the rows a memory stats source indexes.
 * Same table, time column, value expression and filters as buildScopeStatsQuery.
 */
export function metricValuesQuery(
  m: MetricDefinition,
  since: number,
  to: number,
): { sql: string; params: Record<string, unknown> } {
  const source = metricSource(m)
  const params: Record<string, unknown> = { since: clickhouseTime(since), to: clickhouseTime(to) }
  const conditions = [
    `${source.time} >= {since:DateTime64(3, 'UTC')}`,
    `${source.time} < {to:DateTime64(3, 'UTC')}`,
  ]
  if (m.source === 'scores') {
    conditions.push('scorer = {scorer:String}', 'metric = {score_metric:String}')
    params.scorer = m.scorer
    params.score_metric = m.scoreMetric
  } else if (source.filter) conditions.push(source.filter)
  const version = m.source === 'scores' ? 'scorer_version' : "'' AS scorer_version"
  const sql = `SELECT ${SCOPE_COLUMNS.join(', ')}, ${version},
  groupArray(toUnixTimestamp64Milli(${source.time})) AS ts, groupArray(${source.value}) AS vs
FROM ${source.table}
WHERE ${conditions.join('\n  AND ')}
GROUP BY ${SCOPE_COLUMNS.join(', ')}, scorer_version`
  return { sql, params }
}

/** The newest scorer_version with scores for a metric: baselines stay within it. */
export async function latestScorerVersion(
  store: Store,
  scorer: string,
  scoreMetric: string,
): Promise<string | undefined> {
  const rows = await store.query<{ v: string }>(
    'SELECT scorer_version AS v FROM scores WHERE scorer = {scorer:String} AND metric = {m:String} ORDER BY scored_at DESC, scorer_version DESC LIMIT 1',
    { scorer, m: scoreMetric },
  )
  return rows[0]?.v
}

/** The query with its parameters inlined, for people: paste into `driftwatch sql`. */
export function reproduceSql(q: StatsQuery): string {
  const { sql, params } = buildScopeStatsQuery(q)
  const quote = (v: unknown) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  return sql.replace(/\{(\w+):([^}]+)\}/g, (_, name: string, type: string) => {
    const v = params[name]
    if (type === 'String') return quote(v)
    if (type.startsWith('DateTime64')) return `toDateTime64(${quote(v)}, 3, 'UTC')`
    return String(v)
  })
}
