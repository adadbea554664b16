// Error recovery of the scoring jobs against a misbehaving model server: 429 with Retry-After,
// 500s, answers slower than the timeout, malformed judge JSON and `unsafe` with an unknown
// category become scoring_failures rows, never scores; retriable ones are retried by a later
// run up to max_attempts and then resolved, never counted twice; an endpoint that is down
// opens the circuit and the run stops without losing rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import type { Config } from '../../config/schema.ts'
import { interactionRow } from '../../consumers/rows.ts'
import {
  defaultBehaviour,
  type FakeBehaviour,
  type FakeOpenAI,
  reply,
  requestText,
  startFakeOpenAI,
} from '../../fakes/openai-server.ts'
import { createJobsScheduler } from '../../jobs/start-jobs.ts'
import { readWatermark } from '../../jobs/watermarks.ts'
import { silentLogger } from '../../lib/log.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'
import type { Store } from '../../store/store.ts'
import { createTestStore } from '../helpers/store.ts'

let fake: FakeOpenAI
const stores: Store[] = []

/** One fresh database with an interaction per marker (answered, so every one is sampled at rate 1). */
async function storeWith(markers: string[]): Promise<{ store: Store; ids: Record<string, string> }> {
  const store = await createTestStore()
  stores.push(store)
  const ids: Record<string, string> = {}
  const rows = markers.map((marker, i) => {
    const e = {
      ...syntheticInteraction(i, { seed: 99 }),
      status: 'ok' as const,
      model_output: `Here is the answer. ${marker}`,
    }
    ids[marker] = e.request_id
    return interactionRow(e, { topic: 'failures-test', partition: 0, offset: String(i) })
  })
  await store.insert('interactions', rows)
  return { store, ids }
}

function config(patch: { judge?: object; llama_guard?: object } = {}): Config {
  const model = {
    enabled: true,
    base_url: fake.url,
    max_concurrency: 4,
    requests_per_second: 1000,
    max_retries: 1,
    timeout_ms: 300,
  }
  return parseConfig({
    jobs: { settle_seconds: 0, backfill_hours: 'all', progress_interval_ms: 60_000 },
    sampling: { rate: 1, min_per_scope: 0 },
    scorers: {
      refusal: { enabled: false },
      llama_guard: { ...model, model: 'llama-guard-3-8b', ...patch.llama_guard },
      judge: { ...model, model: 'judge-model', ...patch.judge },
    },
  })
}

const scheduler = (store: Store, c: Config, failureThreshold = 1000) =>
  createJobsScheduler({
    store,
    config: c,
    log: silentLogger,
    client: {
      backoff: { initialMs: 5, maxMs: 20 },
      circuitBreaker: { failureThreshold, coolDownMs: 60_000 },
    },
  })

/** Markers this file's server understands on top of the default Llama Guard / judge fakes. */
const flaky: FakeBehaviour = (request, context) => {
  const text = requestText(request)
  if (text.includes('[[x:429]]')) return reply.rateLimited('1')
  if (text.includes('[[x:500]]')) return reply.serverError(500)
  if (text.includes('[[x:slow]]')) return reply.delay(1000, reply.content('safe'))
  return defaultBehaviour(request, context)
}

async function failures(store: Store) {
  return store.query<{
    request_id: string
    error_code: string
    retriable: boolean
    attempts: number
    resolved: boolean
  }>(
    'SELECT request_id, error_code, retriable, attempts, resolved FROM scoring_failures FINAL ORDER BY error_code',
  )
}

async function scored(store: Store, metric: string): Promise<string[]> {
  const rows = await store.query<{ request_id: string }>(
    'SELECT request_id FROM scores FINAL WHERE metric = {m:String} ORDER BY request_id',
    { m: metric },
  )
  return rows.map((r) => r.request_id)
}

beforeAll(async () => {
  fake = await startFakeOpenAI()
})

afterAll(async () => {
  await fake.close()
  for (const s of stores) await s.close()
})

describe('llama_guard on a flaky endpoint', () => {
  it('records 429, 500, timeout and unknown-category answers as failures, not scores; retries the retriable ones later', async () => {
    const markers = ['[[x:429]]', '[[x:500]]', '[[x:slow]]', '[[guard:say:unsafe\\nS99]]', 'fine-1', 'fine-2']
    const { store, ids } = await storeWith(markers)
    fake.reset()
    fake.setBehaviour(flaky)
    const first = await (await scheduler(store, config())).runOnce('llama_guard')
    expect(first).toMatchObject({ status: 'ok', rowsDone: 6, rowsTotal: 6 })
    expect(first.message).toMatch(/2 scored, 4 failed/)

    expect(await scored(store, 'unsafe')).toEqual([ids['fine-1'], ids['fine-2']].sort())
    const f = await failures(store)
    expect(f.map((r) => [r.request_id, r.error_code, r.retriable, r.attempts, r.resolved])).toEqual([
      [ids['[[x:429]]'], 'HTTP_429', true, 1, false],
      [ids['[[x:500]]'], 'HTTP_500', true, 1, false],
      [ids['[[x:slow]]'], 'MODEL_TIMEOUT', true, 1, false],
      [ids['[[guard:say:unsafe\\nS99]]'], 'SCORING_OUTPUT', false, 1, false],
    ])
    // Retry-After: 1 was honoured between the two attempts of the rate-limited row.
    const limited = fake.requests.filter((r) => JSON.stringify(r.body).includes('[[x:429]]'))
    expect(limited).toHaveLength(2)
    expect(limited[1]!.receivedAt - limited[0]!.receivedAt).toBeGreaterThanOrEqual(950)
    const [run] = await store.query<{ detail: string }>(
      "SELECT detail FROM job_runs FINAL WHERE job = 'llama_guard'",
    )
    expect(JSON.parse(run!.detail).failed_by_code).toEqual({
      HTTP_429: 1,
      HTTP_500: 1,
      MODEL_TIMEOUT: 1,
      SCORING_OUTPUT: 1,
    })

    // The endpoint recovers: the next run retries the three retriable rows only.
    fake.reset()
    fake.setBehaviour(defaultBehaviour)
    const second = await (await scheduler(store, config())).runOnce('llama_guard')
    expect(second).toMatchObject({ status: 'ok', rowsDone: 3, rowsTotal: 3 })
    expect(fake.stats().count).toBe(3)
    expect(await scored(store, 'unsafe')).toEqual(
      [ids['fine-1'], ids['fine-2'], ids['[[x:429]]'], ids['[[x:500]]'], ids['[[x:slow]]']].sort(),
    )
    const after = await failures(store)
    expect(
      after
        .filter((r) => r.resolved)
        .map((r) => r.request_id)
        .sort(),
    ).toEqual([ids['[[x:429]]'], ids['[[x:500]]'], ids['[[x:slow]]']].sort())
    expect(after.filter((r) => !r.resolved).map((r) => [r.error_code, r.attempts])).toEqual([
      ['SCORING_OUTPUT', 1],
    ])
    const [{ n }] = (await store.query<{ n: number }>('SELECT count() AS n FROM scores')) as [{ n: number }]
    expect(Number(n)).toBe(5)

    fake.reset()
    const third = await (await scheduler(store, config())).runOnce('llama_guard')
    expect(third.rowsDone).toBe(0)
    expect(fake.stats().count).toBe(0)
  })

  it('stops retrying a row after max_attempts runs', async () => {
    const { store } = await storeWith(['[[x:500]]'])
    fake.setBehaviour(flaky)
    const c = config({ llama_guard: { max_attempts: 2, max_retries: 0 } })
    for (const expectedCalls of [1, 1, 0]) {
      fake.reset()
      await (await scheduler(store, c)).runOnce('llama_guard')
      expect(fake.stats().count).toBe(expectedCalls)
    }
    expect((await failures(store)).map((r) => [r.error_code, r.attempts, r.resolved])).toEqual([
      ['HTTP_500', 2, false],
    ])
    expect(await scored(store, 'unsafe')).toEqual([])
    fake.setBehaviour(defaultBehaviour)
  })

  it('stops the run when the endpoint is down (circuit open), keeps the watermark, and loses nothing', async () => {
    const { store } = await storeWith([...Array(12)].map((_, i) => `row-${i}`))
    fake.reset()
    fake.setBehaviour(() => reply.serverError(503))
    const c = config({ llama_guard: { max_retries: 0, max_concurrency: 1 } })
    const down = await (await scheduler(store, c, 3)).runOnce('llama_guard')
    expect(down.status).toBe('failed')
    expect(down.message).toMatch(/circuit open.*rows left for the next run/)
    expect(fake.stats().count).toBe(3)
    expect((await failures(store)).length).toBe(3)
    const [run] = await store.query<{ status: string; detail: string }>(
      "SELECT status, detail FROM job_runs FINAL WHERE job = 'llama_guard'",
    )
    expect(run!.status).toBe('failed')
    const version = (
      await store.query<{ v: string }>('SELECT DISTINCT scorer_version AS v FROM scoring_failures')
    )[0]!.v
    expect(await readWatermark(store, 'llama_guard', version)).toBeUndefined()

    fake.reset()
    fake.setBehaviour(defaultBehaviour)
    const up = await (await scheduler(store, c, 3)).runOnce('llama_guard')
    expect(up).toMatchObject({ status: 'ok', rowsDone: 12 })
    expect(await scored(store, 'unsafe')).toHaveLength(12)
    expect((await failures(store)).every((r) => r.resolved)).toBe(true)
  })
})

describe('judge with malformed answers', () => {
  it('retries a malformed reply once in the same call, then records a final failure', async () => {
    const { store, ids } = await storeWith(['[[judge:malformed]]', '[[judge:malformed-once]]', 'fine'])
    fake.reset()
    fake.setBehaviour(defaultBehaviour)
    const result = await (await scheduler(store, config())).runOnce('judge')
    expect(result).toMatchObject({ status: 'ok', rowsDone: 3 })
    expect(await scored(store, 'hallucination')).toEqual([ids['[[judge:malformed-once]]'], ids.fine].sort())
    expect((await failures(store)).map((r) => [r.request_id, r.error_code, r.retriable])).toEqual([
      [ids['[[judge:malformed]]'], 'SCORING_OUTPUT', false],
    ])
    expect(fake.stats().count).toBe(5) // 2 + 2 + 1: one corrective turn for each malformed first reply
    // The tokens of the failed call still count against the budget.
    const [spend] = await store.query<{ requests: number; tokens: number }>(
      "SELECT sum(requests) AS requests, sum(prompt_tokens) AS tokens FROM scoring_spend WHERE scorer = 'judge'",
    )
    expect(Number(spend!.requests)).toBe(3)
    const [scoredTokens] = await store.query<{ tokens: number }>(
      "SELECT sum(prompt_tokens) AS tokens FROM scores FINAL WHERE scorer = 'judge'",
    )
    expect(Number(spend!.tokens)).toBeGreaterThan(Number(scoredTokens!.tokens))
  })
})
