// Cost control of the model scorers: when the daily budget runs low, sampling keeps the
// per-scope minimum first, then stops; the run is recorded as degraded in job_runs with the
// numbers and logged, never silent; the day's spend survives a restart (it is summed from
// the ledger), so a new process does not spend the budget again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import type { Config } from '../../config/schema.ts'
import { interactionRow } from '../../consumers/rows.ts'
import type { Interaction } from '../../contract/interaction.ts'
import { type FakeOpenAI, reply, startFakeOpenAI } from '../../fakes/openai-server.ts'
import { PRIORITY, resolveSamplingPolicy, selectSample } from '../../jobs/sampler.ts'
import { createJobsScheduler } from '../../jobs/start-jobs.ts'
import { createLogger } from '../../lib/log.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'
import type { Store } from '../../store/store.ts'
import { createTestStore } from '../helpers/store.ts'

let fake: FakeOpenAI
const stores: Store[] = []

/** One scope, no errors or flagged rows: the sample is the minimum plus the rate, nothing forced. */
function oneScope(i: number, minute = 0): Interaction {
  const e = syntheticInteraction(i, { seed: 5 })
  return {
    ...e,
    timestamp: Date.UTC(2025, 0, 6, 9, minute) + i,
    model_version: 'v1',
    variant_id: 'control',
    segment: 'customer_support',
    modality: 'text',
    status: 'ok',
    safety_flag: null,
  }
}

async function seeded(events: Interaction[]): Promise<Store> {
  const store = await createTestStore()
  stores.push(store)
  await store.insert(
    'interactions',
    events.map((e, i) => interactionRow(e, { topic: 'budget', partition: 0, offset: String(i) })),
  )
  return store
}

function config(guard: object): Config {
  return parseConfig({
    jobs: { settle_seconds: 0, backfill_hours: 'all', progress_interval_ms: 60_000 },
    sampling: { rate: 0.2, min_per_scope: 3, window_minutes: 60 },
    scorers: {
      refusal: { enabled: false },
      llama_guard: {
        enabled: true,
        base_url: fake.url,
        model: 'llama-guard-3-8b',
        max_concurrency: 1,
        requests_per_second: 1000,
        // Every call below costs exactly 1000 prompt tokens = $0.01.
        price_per_1k_prompt_tokens: 0.01,
        price_per_1k_completion_tokens: 0,
        ...guard,
      },
    },
  })
}

function run(store: Store, c: Config, lines: string[] = []) {
  const log = createLogger({ level: 'warn', write: (line) => void lines.push(line) })
  return createJobsScheduler({ store, config: c, log }).then((s) => s.runOnce('llama_guard'))
}

async function runRow(store: Store, runId: string) {
  const [row] = await store.query<{ status: string; message: string; detail: string; spend_usd: number }>(
    'SELECT status, message, detail, spend_usd FROM job_runs FINAL WHERE run_id = {id:String}',
    { id: runId },
  )
  // biome-ignore lint/suspicious/noExplicitAny: test reads nested JSON fields of job_runs.detail
  return { ...row!, detail: JSON.parse(row!.detail) as Record<string, any> }
}

beforeAll(async () => {
  fake = await startFakeOpenAI({
    behaviour: () => reply.content('safe', { promptTokens: 1000, completionTokens: 0 }),
  })
})

afterAll(async () => {
  await fake.close()
  for (const s of stores) await s.close()
})

describe('daily budget', () => {
  it('degrades to the per-scope minimum first, says so, and records a degraded run', async () => {
    const events = [...Array(200)].map((_, i) => oneScope(i))
    const store = await seeded(events)
    const c = config({ usd_per_day: 1, degrade_at: 0.005 })
    const sample = selectSample(
      events.map((e) => ({ ...e, safety_flag: null })),
      resolveSamplingPolicy(c.sampling),
    )
    const minimum = sample.filter((s) => s.priority === PRIORITY.minimum).map((s) => s.row.request_id)
    expect(minimum).toHaveLength(3)
    const lines: string[] = []
    const result = await run(store, c, lines)
    expect(result.status).toBe('degraded')
    const scored = await store.query<{ request_id: string }>(
      'SELECT request_id FROM scores FINAL ORDER BY request_id',
    )
    expect(scored.map((r) => r.request_id)).toEqual([...minimum].sort())
    const row = await runRow(store, result.runId)
    expect(row.status).toBe('degraded')
    expect(row.message).toMatch(/not scored because the daily budget was reached/)
    expect(row.detail).toMatchObject({ scored: 3, skipped_budget: sample.length - 3, degraded_at_row: 3 })
    expect(row.detail.skipped_by_scope).toEqual({
      'v1 | control | customer_support | text': sample.length - 3,
    })
    expect(lines.some((l) => /sampling degraded to the per-scope minimum/.test(l))).toBe(true)
  })

  it('stops at the USD cap, and a restarted process does not spend it again', async () => {
    const events = [...Array(200)].map((_, i) => oneScope(i))
    const store = await seeded(events)
    const c = config({ usd_per_day: 0.05, degrade_at: 1 })
    fake.reset()
    const lines: string[] = []
    const first = await run(store, c, lines)
    expect(first.status).toBe('degraded')
    expect(fake.stats().count).toBeGreaterThanOrEqual(4)
    expect(fake.stats().count).toBeLessThanOrEqual(5)
    const row = await runRow(store, first.runId)
    expect(row.spend_usd).toBeLessThanOrEqual(0.05 + 1e-9)
    expect(row.detail.budget).toMatchObject({ usd_per_day: 0.05 })
    expect(lines.some((l) => /daily budget reached; scoring stopped/.test(l))).toBe(true)

    // New rows in a later window, a new process (fresh scheduler, budget read from the ledger).
    const later = [...Array(50)].map((_, i) => oneScope(1000 + i, 120))
    await store.insert(
      'interactions',
      later.map((e, i) => interactionRow(e, { topic: 'budget', partition: 0, offset: String(1000 + i) })),
    )
    fake.reset()
    const second = await run(store, c)
    expect(second.status).toBe('degraded')
    expect(fake.stats().count).toBe(0)
    const again = await runRow(store, second.runId)
    expect(again.detail).toMatchObject({ scored: 0 })
    expect(again.detail.skipped_budget).toBeGreaterThan(0)
    expect(again.detail.budget.spent_usd).toBeCloseTo(row.spend_usd, 9)
  })

  it('stops at the token cap too', async () => {
    const store = await seeded([...Array(100)].map((_, i) => oneScope(i)))
    fake.reset()
    const result = await run(store, config({ tokens_per_day: 2500, degrade_at: 1 }))
    expect(result.status).toBe('degraded')
    expect(fake.stats().count).toBe(2)
    const [spend] = await store.query<{ tokens: number }>(
      'SELECT sum(prompt_tokens + completion_tokens) AS tokens FROM scoring_spend',
    )
    expect(Number(spend!.tokens)).toBe(2000)
  })
})
