// The backtest's stats index answers every query as the store does: counts, quantiles
// (quantilesExact's element), exceedance counts, pooled baselines, per-scope starts, filters.
import { afterAll, describe, expect, it } from 'vitest'
import { CYCLE_RULES, insertInteractionsSql, insertScoresSql, NOW } from '../../bench/detection-cycle.ts'
import { scopeKey } from '../../contract/scope.ts'
import { memoryStatsSource } from '../../metrics/memory-stats.ts'
import { metricDefinition } from '../../metrics/registry.ts'
import { fetchScopeStats, type ScopeStats, type StatsQuery } from '../../metrics/scope-stats.ts'
import { createRng } from '../../stats/random.ts'
import type { Store } from '../../store/store.ts'
import { createTestStore } from '../helpers/store.ts'

const HOUR = 3_600_000
const stores: Store[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
})

const byKey = (rows: ScopeStats[]): Record<string, ScopeStats> =>
  Object.fromEntries(
    rows.map((r): [string, ScopeStats] => [scopeKey(r.scope), r]).sort(([a], [b]) => a.localeCompare(b)),
  )

describe('memory stats source (backtest index)', () => {
  it('gives the same numbers as the store for rate, quantile and pooled queries over random windows', async () => {
    const store = await createTestStore()
    stores.push(store)
    await store.command(insertInteractionsSql(), { now: NOW, rows: 20_000 })
    await store.command(insertScoresSql(), { every: 1 })
    const source = memoryStatsSource(store, NOW - 8 * 24 * HOUR, NOW)
    const rng = createRng(7)
    const metrics = ['hallucination_rate', 'refusal_rate', 'latency_p99_ms', 'error_rate', 'latency_p50_ms']
    let compared = 0
    for (let i = 0; i < 40; i++) {
      const metric = metricDefinition(metrics[i % metrics.length]!)
      const to = NOW - Math.floor(rng.uniform() * 48) * HOUR - Math.floor(rng.uniform() * 60) * 60_000
      const from = to - (1 + Math.floor(rng.uniform() * 100)) * HOUR
      const scorerVersion =
        metric.source === 'scores' ? (metric.scorer === 'judge' ? 'judge@bench' : 'refusal@bench') : undefined
      const pooled = i % 3 === 0
      const q: StatsQuery = {
        metric,
        from,
        to,
        scorerVersion,
        where:
          i % 4 === 1 ? { segment: 'invoice_extraction' } : i % 4 === 2 ? { model_version: 'v2' } : undefined,
        poolVariants: pooled,
      }
      if (!pooled && i % 2 === 1) {
        const live = await fetchScopeStats(store, q)
        q.startsByScope = Object.fromEntries(
          live.slice(0, 3).map((r, j) => [scopeKey(r.scope), from + (j - 1) * 3 * HOUR]),
        )
      }
      if (metric.kind === 'quantile') {
        q.exceedance = pooled
          ? { by: 'baseline', thresholds: { 'support_chat|text': 2100, 'invoice_extraction|text': 2500 } }
          : { by: 'scope', thresholds: {}, otherwise: 1500 + 100 * (i % 7) }
      }
      const expected = byKey(await fetchScopeStats(store, q))
      const actual = byKey(await source.scopeStats(q))
      expect(Object.keys(actual)).toEqual(Object.keys(expected))
      for (const [key, e] of Object.entries(expected)) {
        const a = actual[key]!
        expect({
          key,
          n: a.n,
          x: a.x,
          value: a.value,
          first: a.first,
          last: a.last,
          exceed: a.exceed,
        }).toEqual({
          key,
          n: e.n,
          x: e.x,
          value: e.value,
          first: e.first,
          last: e.last,
          exceed: e.exceed,
        })
        expect(a.standardError).toBeCloseTo(e.standardError, 9)
        compared++
      }
    }
    expect(compared).toBeGreaterThan(100)
    expect(CYCLE_RULES.length).toBeGreaterThan(0)
  }, 120_000)
})
