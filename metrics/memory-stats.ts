// A stats source for backtests: each metric's stored values are read ONCE (per scope, in time
// order) and indexed — prefix counts and sums for rates and means, a wavelet matrix for exact
// quantiles and exceedance counts — so every StatsQuery of every step is answered with two
// binary searches per scope instead of a scan. Same semantics as buildScopeStatsQuery: window
// [from, to) on the metric's time column (or each scope's own start from startsByScope), the
// `where` filter, one scorer version, variants pooled for baselines, quantilesExact's element
// floor(level · n). Means come from shifted sums (ClickHouse's varSamp may differ in the last
// bits).

import { ALL, baselineKey, SCOPE_COLUMNS, type Scope, scopeKey } from '../contract/scope.ts'
import { type RangeQuantile, rangeQuantile } from '../stats/range-quantile.ts'
import type { Store } from '../store/store.ts'
import { isoTime } from '../store/time.ts'
import type { MetricDefinition } from './registry.ts'
import {
  exceedanceThreshold,
  latestScorerVersion,
  metricValuesQuery,
  quantileBandwidth,
  type ScopeStats,
  type StatsQuery,
  type StatsSource,
  toStats,
} from './scope-stats.ts'

/** One scope's values of one metric (and scorer version), in time order. */
export interface ScopeSeries {
  scope: Scope
  times: Float64Array
  /** Prefix sums: sums[i] = Σ values[0..i) (rates: the count of events). */
  sums: Float64Array
  /** Means: prefix sums of (value - shift)², and the shift. */
  squares?: Float64Array
  shift: number
  /** Quantiles: exact order statistics over index ranges. */
  order?: RangeQuantile
}

export interface SeriesRows {
  scope: Scope
  times: ArrayLike<number>
  values: ArrayLike<number>
}

/** Indexes one scope's rows (any order) for a metric of this kind. */
export function scopeSeries(kind: MetricDefinition['kind'], rows: SeriesRows): ScopeSeries {
  const n = rows.times.length
  let ordered = true
  for (let i = 1; i < n && ordered; i++) ordered = rows.times[i - 1]! <= rows.times[i]!
  const times = new Float64Array(n)
  const values = new Float64Array(n)
  if (ordered) {
    times.set(rows.times)
    values.set(rows.values)
  } else {
    const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => rows.times[a]! - rows.times[b]!)
    for (let i = 0; i < n; i++) {
      times[i] = rows.times[idx[i]!]!
      values[i] = rows.values[idx[i]!]!
    }
  }
  const shift = kind === 'mean' && n > 0 ? values[0]! : 0
  const sums = new Float64Array(n + 1)
  const squares = kind === 'mean' ? new Float64Array(n + 1) : undefined
  for (let i = 0; i < n; i++) {
    sums[i + 1] = sums[i]! + (kind === 'mean' ? values[i]! - shift : values[i]!)
    if (squares) squares[i + 1] = squares[i]! + (values[i]! - shift) ** 2
  }
  return {
    scope: rows.scope,
    times,
    sums,
    squares,
    shift,
    order: kind === 'quantile' ? rangeQuantile(values) : undefined,
  }
}

/** First index with times[i] >= t. */
function firstAtOrAfter(times: Float64Array, t: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (times[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

const matches = (q: StatsQuery, scope: Scope) =>
  SCOPE_COLUMNS.every((c) => {
    const wanted = q.where?.[c]
    return wanted === undefined || wanted === ALL || scope[c] === wanted
  })

/**
 * Answers a StatsQuery over indexed series (one metric, one scorer version; variants already
 * pooled for a poolVariants query): what
 * fetchScopeStats returns for the same query over the same rows.
 */
export function seriesStats(
  metric: MetricDefinition,
  series: readonly ScopeSeries[],
  q: StatsQuery,
): ScopeStats[] {
  if (q.poolVariants && q.startsByScope && Object.keys(q.startsByScope).length > 0) {
    throw new RangeError('a pooled (baseline) query has no per-scope starts')
  }
  const out: ScopeStats[] = []
  for (const s of series) {
    if (!matches(q, s.scope)) continue
    const from = q.startsByScope?.[scopeKey(s.scope)] ?? q.from
    const l = firstAtOrAfter(s.times, from)
    const r = firstAtOrAfter(s.times, q.to)
    const n = r - l
    if (n <= 0) continue
    const row: Parameters<typeof toStats>[1] = { ...s.scope, n }
    if (metric.kind === 'rate') row.x = s.sums[r]! - s.sums[l]!
    else if (metric.kind === 'mean') {
      const sum = s.sums[r]! - s.sums[l]!
      const sq = s.squares![r]! - s.squares![l]!
      row.mean = s.shift + sum / n
      row.variance = n > 1 ? Math.max(0, (sq - (sum * sum) / n) / (n - 1)) : Number.NaN
    } else {
      const p = (metric as { p: number }).p
      const h = quantileBandwidth(p)
      // ClickHouse quantileExact: the element at floor(level · n) of the sorted values.
      row.qs = [p - h, p, p + h].map((level) => s.order!.kth(l, r, Math.min(n - 1, Math.floor(level * n))))
    }
    const stats = toStats(metric, row)
    stats.first = s.times[l]!
    stats.last = s.times[r - 1]!
    const threshold = q.exceedance ? exceedanceThreshold(q.exceedance, stats.scope) : undefined
    if (threshold !== undefined) stats.exceed = { threshold, count: s.order!.countAbove(l, r, threshold) }
    out.push(stats)
  }
  return out
}

interface ValuesRow {
  model_version: string
  variant_id: string
  segment: string
  modality: string
  scorer_version: string
  ts: (number | string)[]
  vs: (number | string)[]
}

interface VersionIndex {
  series: ScopeSeries[]
  /** Variants pooled per (model_version, segment, modality): built on the first baseline query. */
  pooled: () => ScopeSeries[]
}

/**
 * A stats source over what is stored in [since, to): each metric's values read once, on first
 * use, then every query answered from the index (queries must stay inside that range).
 * Scorer versions as the store says. Memory: ~(24 + 4 · log2(distinct values)) bytes per
 * quantile value (twice with pooled baselines), ~16 bytes per rate or mean value.
 */
export function memoryStatsSource(store: Store, since: number, to: number): StatsSource {
  const byMetric = new Map<string, Promise<Map<string, VersionIndex>>>()
  const versions = new Map<string, Promise<string | undefined>>()
  const load = async (metric: MetricDefinition) => {
    const { sql, params } = metricValuesQuery(metric, since, to)
    const rows = await store.query<ValuesRow>(sql, params)
    const grouped = new Map<string, SeriesRows[]>()
    for (const row of rows) {
      const scope: Scope = {
        model_version: row.model_version,
        variant_id: row.variant_id,
        segment: row.segment,
        modality: row.modality,
      }
      const list = grouped.get(row.scorer_version) ?? []
      list.push({ scope, times: row.ts.map(Number), values: row.vs.map(Number) })
      grouped.set(row.scorer_version, list)
    }
    const index = new Map<string, VersionIndex>()
    for (const [version, list] of grouped) {
      let pooled: ScopeSeries[] | undefined
      const pool = (): ScopeSeries[] => {
        if (pooled) return pooled
        const pools = new Map<string, { scope: Scope; times: number[]; values: number[] }>()
        for (const r of list) {
          const scope = { ...r.scope, variant_id: ALL }
          const key = `${scope.model_version}|${baselineKey(scope)}`
          const into = pools.get(key) ?? { scope, times: [], values: [] }
          for (let i = 0; i < r.times.length; i++) {
            into.times.push(r.times[i]!)
            into.values.push(r.values[i]!)
          }
          pools.set(key, into)
        }
        pooled = [...pools.values()].map((r) => scopeSeries(metric.kind, r))
        return pooled
      }
      index.set(version, { series: list.map((r) => scopeSeries(metric.kind, r)), pooled: pool })
    }
    return index
  }
  return {
    async scopeStats(q) {
      let index = byMetric.get(q.metric.name)
      if (!index) {
        index = load(q.metric)
        byMetric.set(q.metric.name, index)
      }
      const lowest = Math.min(q.from, ...Object.values(q.startsByScope ?? {}))
      if (q.to > to || lowest < since) {
        throw new RangeError(
          `the backtest index holds [${isoTime(since)}, ${isoTime(to)}); asked [${isoTime(lowest)}, ${isoTime(q.to)})`,
        )
      }
      const entry = (await index).get(q.metric.source === 'scores' ? (q.scorerVersion ?? '') : '')
      return entry ? seriesStats(q.metric, q.poolVariants ? entry.pooled() : entry.series, q) : []
    },
    latestScorerVersion(scorer, scoreMetric) {
      const key = `${scorer}\u0000${scoreMetric}`
      let v = versions.get(key)
      if (!v) {
        v = latestScorerVersion(store, scorer, scoreMetric)
        versions.set(key, v)
      }
      return v
    },
  }
}
