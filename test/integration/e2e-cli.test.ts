// The whole chain from the command line, as an operator runs it: produce → ingest → score →
// evaluate → page and rollback trigger → status and verdict. Real broker, a local PagerDuty
// capture server, and the store in both modes: embedded ClickHouse (chDB in a data folder), and
// server mode, CLICKHOUSE_URL pointing at the ClickHouse HTTP test harness
// (test/harness/clickhouse-http-harness.ts) with a database of its own. One test body for both.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CaptureServer, pagerDutyAccepted, startCaptureServer } from '../../fakes/capture-server.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { type RunningHarness, startHttpHarness } from '../helpers/harness.ts'
import { createTopic, getBrokers, readMessages, uniqueTopic } from '../helpers/kafka.ts'
import { testDatabase } from '../helpers/store.ts'

type Mode = 'embedded' | 'server (harness)'

interface Setup {
  mode: Mode
  brokers: string
  env: Record<string, string>
  rollbackTopic: string
  pagerduty: CaptureServer
  /** Server mode only: the harness, and a client of its own on the run's database. */
  harness?: RunningHarness
  client?: ClickHouseClient
}

async function setUp(mode: Mode, setup: Partial<Setup>): Promise<Setup> {
  const brokers = getBrokers()
  setup.pagerduty = await startCaptureServer({ respond: pagerDutyAccepted })
  const topic = uniqueTopic('e2e')
  const rollbackTopic = uniqueTopic('e2e-rollback')
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
    url: ${setup.pagerduty.url}/v2/enqueue
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
  const env: Record<string, string> = {
    KAFKA_BROKERS: brokers,
    DRIFTWATCH_CONFIG: config,
    DRIFTWATCH_DATA_DIR: join(dir, 'data'),
    DRIFTWATCH_HTTP_PORT: '0',
    PAGERDUTY_ROUTING_KEY: 'rk-e2e',
  }
  if (mode === 'server (harness)') {
    // Kept on `setup` as soon as it runs, so afterAll stops it even if a later step throws.
    setup.harness = await startHttpHarness()
    const database = testDatabase('e2e')
    env.CLICKHOUSE_URL = setup.harness.url
    env.CLICKHOUSE_DATABASE = database
    setup.client = createClient({ url: setup.harness.url, database, log: { level: ClickHouseLogLevel.OFF } })
  }
  return { ...setup, mode, brokers, env, rollbackTopic } as Setup
}

async function tearDown(setup: Partial<Setup>): Promise<void> {
  await setup.client?.close()
  await setup.harness?.stop()
  await setup.pagerduty?.close()
}

async function sqlJson<T>(setup: Setup, query: string): Promise<T[]> {
  if (setup.client) {
    // Read back straight from the harness with the client's own defaults (64-bit integers as
    // strings, as a server sends them), not through driftwatch.
    const result = await setup.client.query({ query, format: 'JSONEachRow' })
    return (await result.json()) as T[]
  }
  const out = await runCli(['sql', query, '--format', 'json'], setup.env)
  expect(out.code, out.stderr).toBe(0)
  return JSON.parse(out.stdout) as T[]
}

async function storedCounts(setup: Setup): Promise<{ rows: number; ids: number }> {
  const [row] = await sqlJson<{ rows: string | number; ids: string | number }>(
    setup,
    'SELECT count() AS rows, uniqExact(request_id) AS ids FROM interactions',
  )
  return { rows: Number(row!.rows), ids: Number(row!.ids) }
}

/** Alerts as last recorded (the table keeps a row per delivery step) that PagerDuty confirmed. */
async function pagedAlerts(setup: Setup): Promise<number> {
  const [row] = await sqlJson<{ n: string | number }>(
    setup,
    `SELECT count() AS n FROM (
       SELECT alert_id, argMax(sent_to, created_at) AS sent_to FROM alerts GROUP BY alert_id
     ) WHERE has(sent_to, 'pagerduty')`,
  )
  return Number(row!.n)
}

// `status --format json` of each mode, for the comparison at the end. The synthetic traffic is
// the same (seed 77, timestamps ending at "now", all inside status's one-hour window), so the
// two stores must give the same answer but for when each rule state was written.
const statusByMode = new Map<Mode, unknown>()

function withoutUpdateTimes(status: { rules: { last_update?: unknown }[] }): unknown {
  return { ...status, rules: status.rules.map(({ last_update: _, ...rule }) => rule) }
}

// e2e-cli runs ~17 s on the embedded store; the server variant runs the same body (the
// harness adds its start-up and the HTTP round trips), well inside the CI budget, so both
// run the whole flow rather than a cut-down one.
describe.each<[Mode]>([['embedded'], ['server (harness)']])('end to end from the CLI, %s store', (mode) => {
  const partial: Partial<Setup> = {}
  let setup: Setup
  beforeAll(async () => {
    setup = await setUp(mode, partial)
  }, 90_000)
  afterAll(async () => {
    await tearDown(partial)
  })

  it('a canary that refuses more is caught, paged once, and its rollback trigger published', async () => {
    const { env, brokers, rollbackTopic, pagerduty } = setup
    const produced = await runCli(
      ['produce', '--synthetic', '15000', '--seed', '77', '--drift', '{"v2":{"refusalRate":0.25}}'],
      env,
    )
    expect(produced.code, produced.stderr).toBe(0)
    const ingested = await runCli(['ingest', '--until-caught-up'], env)
    expect(ingested.code, ingested.stderr).toBe(0)
    expect(ingested.stderr).toMatch(/ingest: done, 15,000 rows stored/)
    // Every row once, in the store this mode writes to (for the server: read back from the
    // harness directly, so a run that silently fell back to an embedded folder fails here).
    expect(await storedCounts(setup)).toEqual({ rows: 15_000, ids: 15_000 })

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

    // The alert log is in the same store: each page recorded once, as confirmed.
    expect(await pagedAlerts(setup)).toBe(triggers.length)

    const status = await runCli(['status', '--format', 'json'], env)
    expect(status.code, status.stderr).toBe(0)
    statusByMode.set(mode, withoutUpdateTimes(JSON.parse(status.stdout)))
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

    // An operator's typo: ClickHouse's message once, as driftwatch's own line. Over HTTP the
    // client used to print the failed request first (settings, query id, a stack trace).
    const typo = await runCli(['sql', 'SELEC count() FROM interactions'], env)
    expect(typo.code).toBe(1)
    expect(typo.stderr).toMatch(/^driftwatch: Syntax error/)
    expect(typo.stderr).not.toMatch(/@clickhouse\/client|at .*\.ts:\d+/)

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

describe('end to end from the CLI, both stores', () => {
  it('server mode reports traffic, rule states and exposure exactly as the embedded store does', () => {
    expect([...statusByMode.keys()], 'both runs above must have reached status').toEqual([
      'embedded',
      'server (harness)',
    ])
    expect(statusByMode.get('server (harness)')).toEqual(statusByMode.get('embedded'))
  })
})
