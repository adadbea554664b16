// driftwatch backtest over a stored stream: the same fires and resolves, at the same steps,
// as live evaluation cycles run with an injected clock while the same data arrived; and the
// backtest leaves the live rule states and alert history untouched.
import { afterAll, describe, expect, it } from 'vitest'
import type { AlertEmitter } from '../../alerts/emitter.ts'
import { parseConfig } from '../../config/load.ts'
import { runBacktest } from '../../jobs/evaluate/backtest.ts'
import { runEvaluationCycle } from '../../jobs/evaluate/cycle.ts'
import { recordEvaluations } from '../../jobs/evaluate/history.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'
import { testLog } from '../helpers/ingest.ts'
import { createTestStore } from '../helpers/store.ts'

const MIN = 60_000
const T0 = Date.UTC(2026, 10, 20, 23, 40, 0) // the stream crosses 00:00 UTC
const stores: Store[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
})

const NO_SINKS: AlertEmitter = { sinksFor: () => [], emit: async () => [] }
const config = parseConfig({
  rules: [
    {
      name: 'invoice-hallucination',
      metric: 'hallucination_rate',
      where: { segment: 'invoice_extraction' },
      above: 0.01,
      action: 'rollback',
    },
    {
      name: 'hallucination-increase',
      metric: 'hallucination_rate',
      compare_to: 'last_stable',
      increase_by: 0.005,
      action: 'page',
    },
  ],
  evaluation: { min_samples: 300, resolve_window: '5m' },
})
const lastStable = async (excluding?: string) => (excluding === 'v1' ? undefined : 'v1')

function minuteOfScores(t: number, counters: Map<string, number>, v2rate: number) {
  const rows: Record<string, unknown>[] = []
  for (const [version, variant, rate] of [
    ['v1', 'control', 0.004],
    ['v2', 'canary', v2rate],
  ] as const) {
    for (let i = 0; i < 200; i++) {
      const key = `${version}`
      const k = (counters.get(key) ?? 0) + 1
      counters.set(key, k)
      const value = Math.floor(k * rate) > Math.floor((k - 1) * rate) ? 1 : 0
      rows.push({
        request_id: `${key}/${k}`,
        scorer: 'judge',
        scorer_version: 'llama-judge@aaaa',
        metric: 'hallucination',
        value,
        label: value ? 'hallucination' : 'grounded',
        categories: [],
        category_names: [],
        detail: '',
        prompt_tokens: 100,
        completion_tokens: 20,
        cost_usd: 0,
        model_version: version,
        variant_id: variant,
        segment: 'invoice_extraction',
        modality: 'text',
        interaction_ts: clickhouseTime(t - MIN + (i * MIN) / 200),
        run_id: 'test',
        scored_at: clickhouseTime(t),
      })
    }
  }
  return rows
}

describe('driftwatch backtest', () => {
  it('replays the same fires and resolves at the same steps as live cycles, and writes nothing live', async () => {
    const store = await createTestStore()
    stores.push(store)
    const counters = new Map<string, number>()
    const live: string[] = []
    const minutes = 50
    for (let minute = 1; minute <= minutes; minute++) {
      const t = T0 + minute * MIN
      await store.insert('scores', minuteOfScores(t, counters, minute <= 20 ? 0.025 : 0.002))
      const r = await runEvaluationCycle({
        store,
        rules: config.rules,
        settings: config.evaluation,
        emitter: NO_SINKS,
        lastStable,
        log: testLog,
        now: t,
      })
      await recordEvaluations(store, r.states, t) // as the live evaluate job does
      for (const a of r.fired) live.push(`${minute} fire ${a.dedup_key}`)
      for (const a of r.resolved) live.push(`${minute} resolve ${a.dedup_key}`)
    }
    expect(live.some((e) => e.includes(' fire '))).toBe(true)
    expect(live.some((e) => e.includes(' resolve '))).toBe(true)

    const count = async (table: string) =>
      Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${table}`))[0]!.n)
    const liveTables = () =>
      Promise.all([count('rule_states'), count('alerts'), count('rule_evaluations')]).then(
        ([states, alerts, looks]) => ({ states, alerts, looks }),
      )
    const before = await liveTables()
    expect(before.looks).toBeGreaterThan(0)
    const report = await runBacktest({
      store,
      rules: config.rules,
      settings: config.evaluation,
      from: T0 + MIN,
      to: T0 + minutes * MIN,
      step: MIN,
      changeAt: T0,
      lastStable,
      log: testLog,
    })
    const replayed = report.timeline.map((e) => `${(Date.parse(e.at) - T0) / MIN} ${e.event} ${e.dedup_key}`)
    expect(replayed).toEqual(live)
    expect(await liveTables()).toEqual(before) // no state, alert or look history written

    const fire = report.timeline.find((e) => e.event === 'fire')!
    expect(fire).toMatchObject({ rule: expect.any(String), scope: { model_version: 'v2' } })
    expect(fire.message).toMatch(/hallucination_rate/)
    const summary = report.summary.find((s) => s.rule === 'invoice-hallucination')!
    expect(summary.pages).toBe(1)
    expect(summary.delay_minutes).toBe((Date.parse(summary.first_fire_at!) - T0) / MIN)
    expect(summary.pages_per_day).toBeGreaterThan(0)
  })
})
