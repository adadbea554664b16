// A rule_states row that does not match the schema (a truncated write, a hand edit, another
// version's shape) is reported and skipped: the evaluation cycle goes on, and the scope starts
// a fresh test. Before validation on read, JSON.parse threw and every cycle crashed on it.
import { afterAll, describe, expect, it } from 'vitest'
import { createAlertEmitter } from '../../alerts/emitter.ts'
import { parseConfig } from '../../config/load.ts'
import { runEvaluationCycle } from '../../jobs/evaluate/cycle.ts'
import { loadRuleStates } from '../../jobs/evaluate/state-store.ts'
import { createLogger } from '../../lib/log.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'
import { createTestStore } from '../helpers/store.ts'

const stores: Store[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
})

describe('persisted rule states', () => {
  it('a corrupt row is reported and skipped; the cycle still runs', async () => {
    const store = await createTestStore()
    stores.push(store)
    const now = Date.UTC(2026, 10, 20, 1, 0, 0)
    const config = parseConfig({ rules: [{ name: 'p99', metric: 'latency_p99_ms', above: 2000 }] })
    const row = (dedup_key: string, state: string) => ({
      dedup_key,
      rule: 'p99',
      metric: 'latency_p99_ms',
      model_version: 'v1',
      variant_id: 'control',
      segment: 'support',
      modality: 'text',
      status: 'firing',
      state,
      updated_at: clickhouseTime(now - 60_000),
    })
    await store.insert('rule_states', [
      row('k-truncated', '{"dedup_key":"k-truncated","rule":"p99","sta'),
      row('k-shape', JSON.stringify({ dedup_key: 'k-shape', rule: 'p99', status: 'firing' })),
    ])
    const lines: Array<Record<string, unknown>> = []
    const log = createLogger({ level: 'warn', write: (l) => lines.push(JSON.parse(l)) })
    const result = await runEvaluationCycle({
      store,
      rules: config.rules,
      settings: config.evaluation,
      emitter: createAlertEmitter({}),
      lastStable: async () => undefined,
      log,
      now,
    })
    expect(result.fired).toEqual([])
    expect(lines.filter((l) => l.table === 'rule_states').map((l) => l.dedup_key)).toEqual(
      expect.arrayContaining(['k-truncated', 'k-shape']),
    )
    expect((await loadRuleStates(store)).size).toBe(0)
  })
})
