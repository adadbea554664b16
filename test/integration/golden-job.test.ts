// The golden suite as a scheduled job against the local fake endpoint (judge and Llama Guard
// on the same fake), on the real engine: its pass scores make golden_pass_rate a metric, and a
// rule on it pages once the endpoint regresses. Time is simulated: one run per "day" step.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmitterFromConfig } from '../../alerts/from-config.ts'
import { parseConfig } from '../../config/load.ts'
import { type CaptureServer, pagerDutyAccepted, startCaptureServer } from '../../fakes/capture-server.ts'
import {
  defaultBehaviour,
  type FakeBehaviour,
  type FakeOpenAI,
  reply,
  startFakeOpenAI,
} from '../../fakes/openai-server.ts'
import { runEvaluationCycle } from '../../jobs/evaluate/cycle.ts'
import { createGoldenJob } from '../../jobs/replay/golden-job.ts'
import type { Store } from '../../store/store.ts'
import { testLog } from '../helpers/ingest.ts'
import { createTestStore } from '../helpers/store.ts'

const MIN = 60_000
const T0 = Date.UTC(2026, 10, 20, 3, 0, 0)
const GOOD = 'Open Settings, choose Security and press Reset password; a link arrives by email.'

let fake: FakeOpenAI
let pagerduty: CaptureServer
let store: Store
let suite: string

const live =
  (answer: (text: string) => string): FakeBehaviour =>
  (request, context) =>
    /judge|guard/.test(request.model)
      ? defaultBehaviour(request, context)
      : reply.content(answer(String(request.messages.at(-1)?.content ?? '')))

beforeAll(async () => {
  fake = await startFakeOpenAI()
  pagerduty = await startCaptureServer({ respond: pagerDutyAccepted })
  store = await createTestStore()
  const dir = mkdtempSync(join(tmpdir(), 'dw-golden-'))
  suite = join(dir, 'golden.jsonl')
  writeFileSync(
    suite,
    Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        input: `How do I reset my password? (case ${i})`,
        reference: GOOD,
        weight: 1 + (i % 3),
      }),
    ).join('\n'),
  )
})
afterAll(async () => {
  await fake?.close()
  await pagerduty?.close()
  await store?.close()
})

describe('golden job', () => {
  it('stores a pass score per case; a rule on golden_pass_rate pages when the endpoint regresses', async () => {
    const config = parseConfig({
      scorers: {
        judge: { enabled: true, base_url: fake.url, model: 'judge-m', requests_per_second: 1000 },
        llama_guard: { enabled: true, base_url: fake.url, model: 'llama-guard-3', requests_per_second: 1000 },
      },
      golden: { suite, target: fake.url, model: 'live-v1' },
      alerts: { pagerduty: { url: `${pagerduty.url}/v2/enqueue` } },
      rules: [
        { name: 'golden-pass', metric: 'golden_pass_rate', below: 0.9, min_samples: 30, action: 'page' },
      ],
      evaluation: { min_samples: 30 },
    })
    const job = createGoldenJob({ golden: config.golden! })
    const emitter = createEmitterFromConfig({ config, env: { PAGERDUTY_ROUTING_KEY: 'rk' }, log: testLog })
    const runAt = async (t: number) =>
      job.run({
        store,
        config,
        log: testLog,
        signal: new AbortController().signal,
        runId: `golden-${t}`,
        progress: () => {},
        now: () => t,
      })
    const cycle = (t: number) =>
      runEvaluationCycle({
        store,
        rules: config.rules,
        settings: config.evaluation,
        emitter,
        lastStable: async () => undefined,
        log: testLog,
        now: t,
      })

    fake.setBehaviour(live(() => GOOD))
    const good = await runAt(T0)
    expect(good.message).toMatch(/golden: 40 of 40 passed/)
    expect((await cycle(T0 + MIN)).fired).toHaveLength(0)

    // The endpoint regresses: the judge finds hallucinations in every other answer.
    fake.setBehaviour(
      live((text) =>
        /case \d*[02468]\)/.test(text)
          ? `${GOOD} Also your account is deleted. [[judge:scores:2,3,5,true]]`
          : GOOD,
      ),
    )
    let fired = 0
    for (let step = 2; step <= 6 && fired === 0; step++) {
      const t = T0 + step * 10 * MIN
      const bad = await runAt(t)
      expect(bad.message).toMatch(/golden: 20 of 40 passed/)
      expect(bad.detail.weighted_failures).toBeGreaterThan(0)
      fired += (await cycle(t + MIN)).fired.length
    }
    expect(fired).toBe(1)
    const pages = pagerduty.requests.map((r) => r.body as { event_action: string; dedup_key: string })
    expect(pages.map((p) => p.event_action)).toEqual(['trigger'])
    expect(pages[0]!.dedup_key).toMatch(/golden-pass/)

    const rows = await store.query<{ n: number; passed: number }>(
      "SELECT count() AS n, sum(value) AS passed FROM scores FINAL WHERE scorer = 'golden' AND variant_id = 'golden'",
    )
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(80)
  })
})
