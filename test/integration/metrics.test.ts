// /metrics, /health and /ready of a process that ingests from a real broker and scores with
// the refusal detector and a judge behind a local OpenAI-compatible fake: the counters move
// with what was really stored and scored, read back with a Prometheus text parser.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { startIngestService } from '../../consumers/ingest-service.ts'
import { type FakeOpenAI, startFakeOpenAI } from '../../fakes/openai-server.ts'
import { createJobsScheduler } from '../../jobs/start-jobs.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import { type LocalServer, startLocalServer } from '../../server/http.ts'
import { createTelemetry, type Telemetry } from '../../server/telemetry.ts'
import type { Store } from '../../store/store.ts'
import { produceJson, produceRaw, testLog } from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'
import { scrape } from '../helpers/prometheus.ts'
import { createTestStore } from '../helpers/store.ts'

let store: Store
let fake: FakeOpenAI
let server: LocalServer
let telemetry: Telemetry

beforeAll(async () => {
  store = await createTestStore()
  fake = await startFakeOpenAI()
  telemetry = createTelemetry({ registry: new Registry(), store, log: testLog })
  server = await startLocalServer({
    host: '127.0.0.1',
    port: 0,
    routes: telemetry.routes(),
    log: testLog,
    auth: { mode: 'tokens', tokens: { reader: 'rdr' } },
  })
})
afterAll(async () => {
  await server?.close()
  await fake?.close()
  await store?.close()
})

const reader = { authorization: 'Bearer rdr' }

describe('prometheus metrics', () => {
  it('counts real ingest and scoring, with lag, readiness and process metrics', async () => {
    const brokers = getBrokers()
    const topic = uniqueTopic('metrics')
    await createTopic(brokers, topic, 2)
    await produceJson(brokers, topic, 600, { seed: 51 })
    await produceRaw(brokers, topic, [{ value: Buffer.from('not json') }])
    const config = parseConfig({
      kafka: {
        brokers: brokers.split(','),
        topics: [topic],
        group_id: `${topic}.g`,
        dead_letter_topic: `${topic}.dlq`,
      },
      ingest: { flush_interval_ms: 200 },
      jobs: { settle_seconds: 0, backfill_hours: 'all' },
      sampling: { rate: 0.05, min_per_scope: 1 },
      scorers: {
        judge: {
          enabled: true,
          base_url: fake.url,
          model: 'judge-model',
          requests_per_second: 1000,
          price_per_1k_prompt_tokens: 0.5,
          price_per_1k_completion_tokens: 1.5,
        },
      },
    })
    // Health needs no token; metrics do.
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401)
    const before = await scrape(server.url, reader)
    expect(before.value('driftwatch_ingest_rows_total')).toBe(0)

    const kafka = createKafka({ config: config.kafka, brokers: brokers.split(','), log: testLog })
    const ingest = await startIngestService({ kafka, store, config, log: testLog })
    telemetry.watchIngest(ingest)
    try {
      await ingest.waitUntilCaughtUp(AbortSignal.timeout(60_000))
      const ready = await fetch(`${server.url}/ready`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ ready: true, store: true, consumer_in_group: true })
      const after = await scrape(server.url, reader)
      expect(after.value('driftwatch_ingest_rows_total', { outcome: 'stored' })).toBe(600)
      expect(after.value('driftwatch_ingest_rows_total', { outcome: 'dead_lettered' })).toBe(1)
      expect(after.value('driftwatch_ingest_dead_lettered_total', { reason: 'not_json' })).toBe(1)
      expect(after.value('driftwatch_ingest_bytes_total')).toBeGreaterThan(600 * 200)
      expect(after.count('driftwatch_ingest_insert_duration_seconds')).toBeGreaterThan(0)
      expect(after.value('driftwatch_ingest_lag_messages')).toBe(0)
      expect(after.value('driftwatch_ingest_in_group')).toBe(1)
      expect(after.value('driftwatch_process_resident_memory_bytes')).toBeGreaterThan(0)
    } finally {
      await ingest.stop()
    }
    expect((await fetch(`${server.url}/ready`)).status).toBe(503)

    const scheduler = await createJobsScheduler({
      store,
      config,
      log: testLog,
      onProgress: (report) => telemetry.onJobReport(report),
    })
    await scheduler.runOnce('refusal')
    await scheduler.runOnce('judge')
    const scored = await scrape(server.url, reader)
    const rows = await store.query<{ scorer: string; n: number; usd: number }>(
      "SELECT scorer, uniqExact(request_id) AS n, sum(cost_usd) AS usd FROM scores WHERE scorer IN ('refusal', 'judge') GROUP BY scorer",
    )
    const stored = new Map(rows.map((r) => [r.scorer, r]))
    // The refusal detector handles every row (scoring the answered ones); the judge its sample.
    expect(scored.value('driftwatch_scoring_requests_total', { scorer: 'refusal', outcome: 'ok' })).toBe(600)
    expect(Number(stored.get('refusal')!.n)).toBeGreaterThan(500)
    const judged = scored.value('driftwatch_scoring_requests_total', { scorer: 'judge', outcome: 'ok' })
    expect(judged).toBe(Number(stored.get('judge')!.n))
    expect(judged).toBeGreaterThan(0)
    expect(scored.value('driftwatch_scoring_requests_total', { scorer: 'judge', outcome: 'failed' })).toBe(0)
    expect(scored.value('driftwatch_scoring_spend_usd_total', { scorer: 'judge' })).toBeCloseTo(
      Number(stored.get('judge')!.usd),
      6,
    )
    // (parse-prometheus-text-format folds the series of a labelled histogram: check its type.)
    expect(scored.families.get('driftwatch_job_duration_seconds')?.type).toBe('HISTOGRAM')
    expect(scored.families.get('driftwatch_incidents_firing')?.type).toBe('GAUGE')
  })
})
