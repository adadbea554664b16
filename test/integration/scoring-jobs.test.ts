// Scoring jobs end to end against the embedded store and a real local OpenAI-compatible
// server: the SQL sampler agrees with its TS mirror, exact rows land in `scores`, nothing is
// scored twice (rerun, late rows, abort mid-run), a new scorer version writes new rows and
// keeps the old ones, the review queue gets its deterministic share, and the refusal detector
// scores every answered interaction once.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import type { Config } from '../../config/schema.ts'
import { interactionRow } from '../../consumers/rows.ts'
import type { Interaction } from '../../contract/interaction.ts'
import { defaultBehaviour, type FakeOpenAI, startFakeOpenAI } from '../../fakes/openai-server.ts'
import { sampleQuery, touchedWindowsQuery } from '../../jobs/sample-query.ts'
import { resolveSamplingPolicy, type SampleCandidate, selectSample } from '../../jobs/sampler.ts'
import { selectedForReview } from '../../jobs/score-rows.ts'
import { createJobsScheduler } from '../../jobs/start-jobs.ts'
import { readWatermark } from '../../jobs/watermarks.ts'
import { silentLogger } from '../../lib/log.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'
import { JUDGE_TEMPLATE_URL } from '../../scoring/judge.ts'
import { detectRefusal, REFUSAL_SCORER_VERSION } from '../../scoring/refusal.ts'
import type { Store } from '../../store/store.ts'
import { createTestStore } from '../helpers/store.ts'

const PRICE = { price_per_1k_prompt_tokens: 0.5, price_per_1k_completion_tokens: 1.5 }

let store: Store
let fake: FakeOpenAI
let events: Interaction[] = []

function makeEvent(i: number): Interaction {
  const e = syntheticInteraction(i, { seed: 11 })
  // Markers the fake server answers to: a Llama Guard verdict and judge scores.
  if (i % 37 === 0) return { ...e, model_output: `${e.model_output} [[guard:unsafe:S1,S10]]` }
  if (i % 41 === 0) return { ...e, model_output: `${e.model_output} [[judge:scores:2,3,4,true]]` }
  return e
}

async function addInteractions(from: number, to: number): Promise<void> {
  const batch = [...Array(to - from)].map((_, k) => makeEvent(from + k))
  await store.insert(
    'interactions',
    batch.map((e, k) => interactionRow(e, { topic: 'scoring-test', partition: 0, offset: String(from + k) })),
  )
  events = [...events, ...batch]
}

function configWith(
  patch: { judge?: object; llama_guard?: object; refusal?: object; review?: object } = {},
): Config {
  const model = {
    enabled: true,
    base_url: fake.url,
    max_concurrency: 4,
    requests_per_second: 1000,
    max_retries: 1,
    ...PRICE,
  }
  return parseConfig({
    jobs: { settle_seconds: 0, backfill_hours: 'all', progress_interval_ms: 60_000 },
    sampling: { rate: 0.1, min_per_scope: 2 },
    review: { fraction: 0.1, ...patch.review },
    scorers: {
      refusal: { batch_size: 64, ...patch.refusal },
      llama_guard: { ...model, model: 'llama-guard-3-8b', ...patch.llama_guard },
      judge: { ...model, model: 'judge-model', ...patch.judge },
    },
  })
}

const scheduler = (config: Config) =>
  createJobsScheduler({ store, config, log: silentLogger, client: { backoff: { initialMs: 5, maxMs: 20 } } })

function expectedSample(config: Config, scorer: 'judge' | 'llama_guard'): string[] {
  const policy = resolveSamplingPolicy(config.sampling, config.scorers[scorer].sampling)
  const candidates: SampleCandidate[] = events.map((e) => ({ ...e, safety_flag: e.safety_flag ?? null }))
  return selectSample(candidates, policy).map((s) => s.row.request_id)
}

const byId = () => new Map(events.map((e) => [e.request_id, e]))

async function scoredIds(scorerVersion: string, metric: string): Promise<string[]> {
  const rows = await store.query<{ request_id: string }>(
    'SELECT request_id FROM scores FINAL WHERE scorer_version = {v:String} AND metric = {m:String} ORDER BY request_id',
    { v: scorerVersion, m: metric },
  )
  return rows.map((r) => r.request_id)
}

/** Physical rows vs distinct keys, without FINAL: equal means nothing was written twice. */
async function duplicates(scorerVersion: string): Promise<number> {
  const [r] = await store.query<{ rows: number; keys: number }>(
    'SELECT count() AS rows, uniqExact(request_id, metric) AS keys FROM scores WHERE scorer_version = {v:String}',
    { v: scorerVersion },
  )
  return Number(r!.rows) - Number(r!.keys)
}

beforeAll(async () => {
  store = await createTestStore()
  fake = await startFakeOpenAI()
  await addInteractions(0, 400)
})

afterAll(async () => {
  await fake.close()
  await store.close()
})

describe('sampling in ClickHouse', () => {
  it('selects exactly the rows, in the order and with the priorities, of the TS sampler', async () => {
    const config = configWith()
    const policy = resolveSamplingPolicy(config.sampling)
    const w = touchedWindowsQuery({
      windowMinutes: 60,
      after: '1970-01-01 00:00:00.000',
      upTo: '2100-01-01 00:00:00.000',
    })
    const windows = (await store.query<{ window_idx: number }>(w.sql, w.params)).map((r) =>
      Number(r.window_idx),
    )
    const q = sampleQuery({
      policy,
      windows,
      upTo: '2100-01-01 00:00:00.000',
      scorerVersion: 'nobody@0',
      primaryMetric: 'x',
    })
    const sql = await store.query<{ request_id: string; priority: number; scope_rank: number }>(
      q.sql,
      q.params,
    )
    const ts = selectSample(
      events.map((e) => ({ ...e, safety_flag: e.safety_flag ?? null })),
      policy,
    )
    expect(sql.length).toBeGreaterThan(40)
    expect(sql.map((r) => [r.request_id, Number(r.priority), Number(r.scope_rank)])).toEqual(
      ts.map((s) => [s.row.request_id, s.priority, s.scopeRank]),
    )
  })
})

describe('model scoring jobs', () => {
  let guardVersion: string
  let judgeVersion: string

  it('llama_guard writes exactly one row per sampled interaction, verdict, categories, scope and cost', async () => {
    const config = configWith()
    const s = await scheduler(config)
    const result = await s.runOnce('llama_guard')
    expect(result).toMatchObject({ status: 'ok' })
    const expected = expectedSample(config, 'llama_guard')
    expect(result.rowsDone).toBe(expected.length)
    const rows = await store.query<Record<string, unknown>>(
      "SELECT * FROM scores FINAL WHERE scorer = 'llama_guard'",
    )
    guardVersion = String(rows[0]!.scorer_version)
    expect(guardVersion).toMatch(/^llama-guard-3-8b@[0-9a-f]{12}$/)
    expect(rows.map((r) => r.request_id).sort()).toEqual([...expected].sort())
    const events = byId()
    for (const r of rows) {
      const e = events.get(String(r.request_id))!
      const unsafe = e.model_output.includes('[[guard:unsafe')
      expect(r).toMatchObject({
        metric: 'unsafe',
        value: unsafe ? 1 : 0,
        label: unsafe ? 'unsafe' : 'safe',
        categories: unsafe ? ['S1', 'S10'] : [],
        category_names: unsafe ? ['Violent Crimes', 'Hate'] : [],
        model_version: e.model_version,
        variant_id: e.variant_id,
        segment: e.segment,
        modality: e.modality,
        interaction_ts: new Date(e.timestamp).toISOString(),
      })
      expect(Number(r.prompt_tokens)).toBeGreaterThan(0)
      expect(Number(r.cost_usd)).toBeCloseTo(
        (Number(r.prompt_tokens) * 0.5 + Number(r.completion_tokens) * 1.5) / 1000,
        9,
      )
    }
    expect(rows.some((r) => r.value === 1)).toBe(true)
    expect(await duplicates(guardVersion)).toBe(0)
    const [run] = await store.query<Record<string, unknown>>(
      "SELECT * FROM job_runs FINAL WHERE job = 'llama_guard'",
    )
    expect(run).toMatchObject({ status: 'ok', rows_done: expected.length, rows_total: expected.length })
    expect(Number(run!.spend_usd)).toBeCloseTo(
      rows.reduce((sum, r) => sum + Number(r.cost_usd), 0),
      9,
    )
    expect(await readWatermark(store, 'llama_guard', guardVersion)).toBeDefined()
  })

  it('judge writes four metrics per row, the reason on hallucination and the cost once', async () => {
    const config = configWith()
    const result = await (await scheduler(config)).runOnce('judge')
    expect(result.status).toBe('ok')
    const rows = await store.query<Record<string, unknown>>(
      "SELECT * FROM scores FINAL WHERE scorer = 'judge' ORDER BY request_id, metric",
    )
    judgeVersion = String(rows[0]!.scorer_version)
    const expected = expectedSample(config, 'judge')
    expect(rows).toHaveLength(expected.length * 4)
    const events = byId()
    for (const r of rows) {
      const e = events.get(String(r.request_id))!
      const marked = e.model_output.includes('[[judge:scores')
      const want = {
        hallucination: marked ? 1 : 0,
        helpfulness: marked ? 2 : 4,
        clarity: marked ? 3 : 4,
        safety: marked ? 4 : 5,
      }
      expect(r.value).toBe(want[r.metric as keyof typeof want])
      if (r.metric === 'hallucination') {
        expect(r.label).toBe(marked ? 'hallucinated' : 'supported')
        expect(r.detail).toMatch(/addresses the question/)
        expect(Number(r.cost_usd)).toBeGreaterThan(0)
      } else {
        expect(r.label).toBe(e.context && e.context.length > 0 ? 'with-context' : 'no-context')
        expect(Number(r.cost_usd)).toBe(0)
      }
    }
    expect(await duplicates(judgeVersion)).toBe(0)
  })

  it('queues the configured share of scored rows for review, chosen by hash', async () => {
    const queued = await store.query<{ request_id: string }>(
      'SELECT request_id FROM review_queue FINAL WHERE scorer_version = {v:String} ORDER BY request_id',
      { v: judgeVersion },
    )
    const scored = await scoredIds(judgeVersion, 'hallucination')
    expect(queued.map((r) => r.request_id)).toEqual(scored.filter((id) => selectedForReview(id, 0.1)))
  })

  it('scores nothing twice: a second run makes no model call and writes no row', async () => {
    fake.reset()
    const s = await scheduler(configWith())
    const { results } = await s.runAll()
    expect(results.map((r) => [r.job, r.status, r.rowsDone])).toEqual([
      ['refusal', 'ok', 400],
      ['llama_guard', 'ok', 0],
      ['judge', 'ok', 0],
    ])
    expect(fake.stats().count).toBe(0)
    expect(await duplicates(judgeVersion)).toBe(0)
    expect(await duplicates(guardVersion)).toBe(0)
  })

  it('samples rows that arrive later by the same rule, and keeps what it scored', async () => {
    const before = await scoredIds(judgeVersion, 'hallucination')
    await addInteractions(400, 480)
    const config = configWith()
    const result = await (await scheduler(config)).runOnce('judge')
    expect(result.status).toBe('ok')
    const after = await scoredIds(judgeVersion, 'hallucination')
    // The minimum per scope is re-evaluated over the whole window: rows chosen earlier stay.
    expect(after).toEqual([...new Set([...before, ...expectedSample(config, 'judge')])].sort())
    expect(result.rowsDone).toBe(after.length - before.length)
    expect(await duplicates(judgeVersion)).toBe(0)
  })

  it('aborted mid-run, then rerun: every sampled row is scored exactly once', async () => {
    const config = configWith({ judge: { model: 'judge-abort', max_concurrency: 2 } })
    const expected = expectedSample(config, 'judge')
    const controller = new AbortController()
    fake.reset()
    fake.setLatency(10)
    fake.setBehaviour((request, context) => {
      if (context.call === 15) controller.abort()
      return defaultBehaviour(request, context)
    })
    try {
      const s = await scheduler(config)
      const first = await s.runOnce('judge', { signal: controller.signal })
      expect(first.status).toBe('aborted')
      const version = (
        await store.query<{ v: string }>(
          "SELECT DISTINCT scorer_version AS v FROM scores WHERE scorer_version LIKE 'judge-abort@%'",
        )
      )[0]!.v
      const partial = await scoredIds(version, 'hallucination')
      expect(partial.length).toBeGreaterThan(5)
      expect(partial.length).toBeLessThan(expected.length)
      expect(await readWatermark(store, 'judge', version)).toBeUndefined()
      const [run] = await store.query<{ status: string; rows_done: number }>(
        'SELECT status, rows_done FROM job_runs FINAL WHERE run_id = {id:String}',
        { id: first.runId },
      )
      expect(run).toEqual({ status: 'aborted', rows_done: partial.length })

      fake.setBehaviour(defaultBehaviour)
      const second = await (await scheduler(config)).runOnce('judge')
      expect(second).toMatchObject({ status: 'ok', rowsDone: expected.length - partial.length })
      expect(await scoredIds(version, 'hallucination')).toEqual([...expected].sort())
      expect(await duplicates(version)).toBe(0)
      // Calls for rows aborted in flight are repeated once; no stored row is scored again.
      expect(fake.stats().count).toBeLessThanOrEqual(expected.length + 2)
    } finally {
      fake.setLatency(0)
      fake.setBehaviour(defaultBehaviour)
    }
  })

  it('a new scorer version (model or prompt) writes new rows and keeps the old ones', async () => {
    const oldRows = await store.query<{ n: number }>(
      'SELECT count() AS n FROM scores FINAL WHERE scorer_version = {v:String}',
      { v: judgeVersion },
    )
    const dir = mkdtempSync(join(tmpdir(), 'dw-prompt-'))
    const prompt = join(dir, 'judge-v2.md')
    writeFileSync(
      prompt,
      `${readFileSync(JUDGE_TEMPLATE_URL, 'utf8')}\n<!-- v2: stricter about numbers -->\n`,
    )
    for (const judge of [{ model: 'judge-model-2' }, { prompt }]) {
      const config = configWith({ judge })
      const result = await (await scheduler(config)).runOnce('judge')
      expect(result.status).toBe('ok')
      const versions = await store.query<{ v: string; n: number }>(
        "SELECT scorer_version AS v, count() AS n FROM scores FINAL WHERE scorer = 'judge' AND metric = 'hallucination' GROUP BY v",
      )
      const fresh = versions.find(
        (r) =>
          r.v !== judgeVersion &&
          !r.v.startsWith('judge-abort') &&
          Number(r.n) === expectedSample(config, 'judge').length,
      )
      expect(fresh).toBeDefined()
    }
    const versions = await store.query<{ v: string }>(
      "SELECT DISTINCT scorer_version AS v FROM scores WHERE scorer = 'judge' ORDER BY v",
    )
    expect(versions.map((r) => r.v)).toEqual(
      expect.arrayContaining([judgeVersion, expect.stringMatching(/^judge-model-2@/)]),
    )
    expect(versions.filter((r) => r.v.startsWith('judge-model@'))).toHaveLength(2) // same model, two prompts
    const kept = await store.query<{ n: number }>(
      'SELECT count() AS n FROM scores FINAL WHERE scorer_version = {v:String}',
      { v: judgeVersion },
    )
    expect(kept).toEqual(oldRows)
  })
})

describe('refusal job', () => {
  it('scores every answered interaction once, batch by batch, and continues from its watermark', async () => {
    const version = REFUSAL_SCORER_VERSION
    const check = async () => {
      const rows = await store.query<{ request_id: string; value: number; detail: string }>(
        'SELECT request_id, value, detail FROM scores FINAL WHERE scorer_version = {v:String} ORDER BY request_id',
        { v: version },
      )
      const answered = events
        .filter((e) => e.status === 'ok')
        .sort((a, b) => (a.request_id < b.request_id ? -1 : 1))
      expect(rows.map((r) => r.request_id)).toEqual(answered.map((e) => e.request_id))
      for (const [i, r] of rows.entries()) {
        const d = detectRefusal(answered[i]!.model_output)
        expect([r.value, r.detail]).toEqual([d.refusal ? 1 : 0, d.pattern ?? ''])
      }
      expect(rows.some((r) => r.value === 1)).toBe(true)
      expect(await duplicates(version)).toBe(0)
    }
    // The refusal job last ran (in run-all above) over rows 0..399; 400..599 came since.
    await addInteractions(480, 600)
    const result = await (await scheduler(configWith())).runOnce('refusal')
    expect(result).toMatchObject({ status: 'ok', rowsDone: 200, rowsTotal: 200 })
    await check()
    const again = await (await scheduler(configWith())).runOnce('refusal')
    expect(again.rowsDone).toBe(0)
    await check()
    const watermark = await readWatermark(store, 'refusal', version)
    expect(watermark?.cursorId).not.toBe('')
  })
})
