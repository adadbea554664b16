// The whole chain from the command line, as an operator runs it: produce → ingest → score →
// evaluate → page and rollback trigger → status and verdict. Real broker, embedded
// ClickHouse, a local PagerDuty capture server.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CaptureServer, pagerDutyAccepted, startCaptureServer } from '../../fakes/capture-server.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { createTopic, getBrokers, readMessages, uniqueTopic } from '../helpers/kafka.ts'

let pagerduty: CaptureServer
let brokers: string
let env: Record<string, string>
let rollbackTopic: string

beforeAll(async () => {
  brokers = getBrokers()
  pagerduty = await startCaptureServer({ respond: pagerDutyAccepted })
  const topic = uniqueTopic('e2e')
  rollbackTopic = uniqueTopic('e2e-rollback')
  await createTopic(brokers, topic, 3)
  await createTopic(brokers, rollbackTopic, 1)
  const dir = mkdtempSync(join(tmpdir(), 'dw-e2e-'))
  const config = join(dir, 'driftwatch.yaml')
  writeFileSync(
    config,
    `kafka:
  topics: [${topic}]
  group_id: ${topic}.g
  dead_letter_topic: ${topic}.dlq
  rollback_topic: ${rollbackTopic}
alerts:
  pagerduty:
    url: ${pagerduty.url}/v2/enqueue
rules:
  - name: refusal-spike
    metric: refusal_rate
    where: { segment: customer_support, modality: text }
    compare_to: last_stable
    increase_by: 0.05
    min_samples: 150
    action: rollback
exposure:
  - { segment: customer_support, metric: refusal_rate, usd_per_failure: 12 }
evaluation:
  pending_evaluations: 1
jobs:
  settle_seconds: 0   # the test runs the jobs right after ingest; production waits 10 s
`,
  )
  env = {
    KAFKA_BROKERS: brokers,
    DRIFTWATCH_CONFIG: config,
    DRIFTWATCH_DATA_DIR: join(dir, 'data'),
    DRIFTWATCH_HTTP_PORT: '0',
    PAGERDUTY_ROUTING_KEY: 'rk-e2e',
  }
})
afterAll(async () => {
  await pagerduty?.close()
})

describe('end to end from the CLI', () => {
  it('a canary that refuses more is caught, paged once, and its rollback trigger published', async () => {
    const produced = await runCli(
      ['produce', '--synthetic', '15000', '--seed', '77', '--drift', '{"v2":{"refusalRate":0.25}}'],
      env,
    )
    expect(produced.code, produced.stderr).toBe(0)
    const ingested = await runCli(['ingest', '--until-caught-up'], env)
    expect(ingested.code, ingested.stderr).toBe(0)
    expect(ingested.stderr).toMatch(/ingest: done, 15,000 rows stored/)

    const stable = await runCli(
      ['deploy', 'mark-stable', 'v1', '--note', 'in production before the canary'],
      env,
    )
    expect(stable.code, stable.stderr).toBe(0)

    const jobs = await runCli(['jobs', 'run-all', '--once'], env)
    expect(jobs.code, jobs.stderr).toBe(0)

    // One incident per regressed scope (v2 serves the canary and the shadow variant), none for v1.
    const triggers = pagerduty.requests.map(
      (r) =>
        r.body as {
          event_action: string
          dedup_key: string
          payload: { custom_details: Record<string, unknown> }
        },
    )
    expect(triggers.length).toBeGreaterThanOrEqual(1)
    expect(new Set(triggers.map((t) => t.dedup_key)).size).toBe(triggers.length)
    for (const t of triggers) {
      expect(t.event_action).toBe('trigger')
      expect(t.payload.custom_details).toMatchObject({
        rule: 'refusal-spike',
        from_version: 'v2',
        to_version: 'v1',
      })
      // Dollars at risk of the candidate vs the baseline (exposure:, measured traffic).
      const d = t.payload.custom_details as {
        observed: number
        baseline: number
        exposure: {
          usd_per_failure: number
          daily_traffic: number
          candidate: { usd_per_day: number }
          baseline: { usd_per_day: number }
          delta_usd_per_day: number
        }
      }
      expect(d.exposure.usd_per_failure).toBe(12)
      expect(d.exposure.daily_traffic).toBeGreaterThan(0)
      expect(d.exposure.candidate.usd_per_day).toBeCloseTo(d.observed * d.exposure.daily_traffic * 12, 6)
      expect(d.exposure.baseline.usd_per_day).toBeCloseTo(d.baseline * d.exposure.daily_traffic * 12, 6)
      expect(d.exposure.delta_usd_per_day).toBeGreaterThan(0)
    }

    const messages = await readMessages(brokers, rollbackTopic, {
      done: (count) => count >= triggers.length,
      waitMs: 15_000,
    })
    expect(messages).toHaveLength(triggers.length)
    for (const message of messages) {
      const trigger = JSON.parse(message.value!.toString())
      expect(trigger).toMatchObject({
        rule: 'refusal-spike',
        metric: 'refusal_rate',
        state: 'firing',
        from_version: 'v2',
        to_version: 'v1',
        action: 'rollback',
      })
      expect(trigger.observed - trigger.baseline).toBeGreaterThan(0.05)
      expect(trigger.exposure.delta_usd_per_day).toBeCloseTo(
        (trigger.observed - trigger.baseline) * trigger.exposure.daily_traffic * 12,
        6,
      )
      expect(triggers.map((t) => t.dedup_key)).toContain(trigger.dedup_key)
    }

    // Running the jobs again: still firing, no second page.
    expect((await runCli(['jobs', 'run-all', '--once'], env)).code).toBe(0)
    expect(pagerduty.requests).toHaveLength(triggers.length)

    const status = await runCli(['status', '--format', 'json'], env)
    expect(status.code, status.stderr).toBe(0)
    const rules = JSON.parse(status.stdout).rules as { rule: string; status: string; model_version: string }[]
    expect(rules.filter((r) => r.status === 'firing').map((r) => `${r.rule}:${r.model_version}`)).toContain(
      'refusal-spike:v2',
    )
    // Traffic per scope comes from the metric registry: requests, error_rate and p99 per scope.
    const scopes = JSON.parse(status.stdout).scopes as {
      requests: number
      error_rate: number
      model_version: string
    }[]
    expect(scopes.length).toBeGreaterThan(0)
    for (const s of scopes) {
      expect(Number(s.requests)).toBeGreaterThan(0)
      expect(s.error_rate).toBeGreaterThanOrEqual(0)
    }
    // status prices each rule scope's last look against its baseline (exposure:).
    const exposure = JSON.parse(status.stdout).exposure as {
      rule: string
      model_version: string
      segment: string
      usd_per_failure: number
      daily_traffic: number
      candidate: { failures_per_day: number; usd_per_day: number }
      baseline: { usd_per_day: number }
      delta_usd_per_day: number
    }[]
    const firingV2 = rules.find((r) => r.status === 'firing' && r.model_version === 'v2') as unknown as {
      observed: number
      baseline: number
      variant_id: string
    }
    const priced = exposure.find((e) => e.model_version === 'v2' && e.rule === 'refusal-spike')!
    expect(priced).toMatchObject({ segment: 'customer_support', usd_per_failure: 12 })
    expect(priced.daily_traffic).toBeGreaterThan(0)
    expect(priced.candidate.failures_per_day).toBeGreaterThan(0)
    expect(priced.delta_usd_per_day).toBeGreaterThan(0)
    const sameScope = exposure.find(
      (e) =>
        e.model_version === 'v2' &&
        (e as unknown as { variant_id: string }).variant_id === firingV2.variant_id,
    )!
    expect(sameScope.candidate.usd_per_day).toBeCloseTo(firingV2.observed * sameScope.daily_traffic * 12, 6)
    const table = await runCli(['status'], env)
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/latency_p99_ms[\s\S]*Rules \(\d+ configured\)[\s\S]*refusal-spike/)
    expect(table.stdout).toMatch(/Money at risk per day[\s\S]*delta_usd_per_day[\s\S]*v2\s.*customer_support/)

    const serve = startCli(['serve'], env)
    try {
      let verdict: { verdict: string; reason: string } | undefined
      const deadline = Date.now() + 30_000
      while (!verdict && Date.now() < deadline) {
        const url = /serve: (http:\/\/\S+)/.exec(serve.stderr())?.[1]
        if (url) verdict = (await (await fetch(`${url}/verdict?version=v2`)).json()) as typeof verdict
        else await new Promise((r) => setTimeout(r, 200))
      }
      expect(verdict).toMatchObject({ verdict: 'fail', reason: 'firing: refusal-spike' })
    } finally {
      serve.child.kill('SIGTERM')
      await serve.done
    }
  })
})
