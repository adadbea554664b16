// Shadow deployments from the command line: synthetic traffic with shadow twins
// (produce --shadow-version) through real Kafka into embedded ClickHouse, the `shadow` job
// measuring divergence with the fake server's /v1/embeddings (identical answers -> 0,
// rewritten -> high), pairing idempotent on re-run, the endpoint failing -> lexical fallback
// that says so (log line, method column, report), and a rule on shadow_divergence_rate firing.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeOpenAI, reply, startFakeOpenAI } from '../../fakes/openai-server.ts'
import { runCli } from '../helpers/cli.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'

let env: Record<string, string>
let fake: FakeOpenAI

const sql = async (query: string) => {
  const r = await runCli(['sql', query, '--format', 'json'], env)
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>[]
}

const produceAndIngest = async (seed: string) => {
  const produced = await runCli(
    [
      'produce',
      '--synthetic',
      '800',
      '--seed',
      seed,
      '--shadow-version',
      'v2-shadow',
      '--shadow-rewrite-rate',
      '0.3',
    ],
    env,
  )
  expect(produced.code, produced.stderr).toBe(0)
  const out = JSON.parse(produced.stdout)
  expect(out.sent).toBe(800)
  expect(out.shadow_twins).toBeGreaterThan(700)
  const ingested = await runCli(['ingest', '--until-caught-up'], env)
  expect(ingested.code, ingested.stderr).toBe(0)
  return out.shadow_twins as number
}

let twins = 0

beforeAll(async () => {
  fake = await startFakeOpenAI()
  const brokers = getBrokers()
  const topic = uniqueTopic('shadow')
  await createTopic(brokers, topic, 3)
  const dir = mkdtempSync(join(tmpdir(), 'dw-shadow-'))
  const config = join(dir, 'driftwatch.yaml')
  writeFileSync(
    config,
    `kafka:
  topics: [${topic}]
  group_id: ${topic}.g
  dead_letter_topic: ${topic}.dlq
jobs:
  settle_seconds: 0
alerts:
  kafka: false
evaluation:
  pending_evaluations: 1
  min_samples: 50
shadow:
  divergence_threshold: 0.3
  batch_size: 200
  review_top: 5
  embeddings:
    base_url: ${fake.url}
    model: embed-small
    batch_size: 50
    max_retries: 0
rules:
  - name: shadow-diverges
    metric: shadow_divergence_rate
    where: { model_version: v2-shadow }
    above: 0.1
    action: ticket
`,
  )
  env = { KAFKA_BROKERS: brokers, DRIFTWATCH_CONFIG: config, DRIFTWATCH_DATA_DIR: join(dir, 'data') }
  twins = await produceAndIngest('31')
})
afterAll(async () => {
  await fake?.close()
})

describe('driftwatch jobs run shadow', () => {
  it('identical answers -> divergence 0, rewritten answers -> high (embeddings, batched)', async () => {
    const r = await runCli(['jobs', 'run', 'shadow'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^shadow\s+ok\s+/)
    expect(r.stdout).toMatch(new RegExp(`${twins} new pairs \\(${twins} embedding, 0 lexical\\)`))
    expect(fake.embeddingsRequests().length).toBeGreaterThan(1)
    expect(fake.embeddingsRequests().every((q) => (q.input as string[]).length <= 50)).toBe(true)

    const [split] = await sql(`SELECT count() AS pairs,
        countIf(s.model_output = p.model_output AND s.model_output != '') AS identical,
        countIf(s.model_output = p.model_output AND s.model_output != '' AND sp.distance = 0) AS identical_zero,
        countIf(s.model_output LIKE 'Thanks for reaching out!%' AND p.model_output != '' AND p.status = 'ok') AS rewritten,
        countIf(s.model_output LIKE 'Thanks for reaching out!%' AND p.model_output != '' AND p.status = 'ok' AND sp.distance > 0.7) AS rewritten_far,
        uniqExact(sp.method) AS methods, any(sp.method) AS method
      FROM shadow_pairs AS sp FINAL
      INNER JOIN interactions AS s ON s.request_id = sp.shadow_request_id
      INNER JOIN interactions AS p ON p.request_id = sp.production_request_id`)
    expect(split!.pairs).toBe(twins)
    expect(split!.identical).toBeGreaterThan(300)
    expect(split!.identical_zero).toBe(split!.identical)
    expect(split!.rewritten).toBeGreaterThan(100)
    expect(split!.rewritten_far).toBe(split!.rewritten)
    expect([split!.methods, split!.method]).toEqual([1, 'embedding'])
    // The most divergent pairs are queued for review under the shadow scorer.
    const [queued] = await sql("SELECT count() AS n FROM review_queue FINAL WHERE scorer = 'shadow'")
    expect(queued!.n).toBe(5)
    // The reviewer sees both answers and labels `divergent`.
    const exported = await runCli(['review', 'export', '--format', 'jsonl'], env)
    expect(exported.code, exported.stderr).toBe(0)
    const items = exported.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.scorer === 'shadow')
    expect(items.length).toBe(5)
    for (const item of items) {
      expect(item.divergent).toBeNull()
      expect(String(item.production_output)).not.toBe('')
      expect(item.production_output).not.toBe(item.model_output)
    }
  })

  it('pairing is idempotent: a re-run adds no pair and no score', async () => {
    const r = await runCli(['jobs', 'run', 'shadow'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/0 new pairs/)
    const [counts] = await sql(`SELECT
        (SELECT count() FROM shadow_pairs) AS rows,
        (SELECT uniqExact(shadow_request_id) FROM shadow_pairs) AS distinct_pairs,
        (SELECT count() FROM scores WHERE scorer = 'shadow' AND metric = 'divergent') AS scores`)
    expect(counts).toEqual({ rows: twins, distinct_pairs: twins, scores: twins })
  })

  it('the embeddings endpoint failing falls back to lexical and says so (log, method column, report)', async () => {
    const more = await produceAndIngest('32')
    fake.setEmbeddingsBehaviour(reply.serverError(503))
    const r = await runCli(['jobs', 'run', 'shadow'], { ...env, DRIFTWATCH_LOG_LEVEL: 'warn' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^shadow\s+degraded\s+/)
    expect(r.stdout).toMatch(new RegExp(`${more} new pairs \\(0 embedding, ${more} lexical\\)`))
    expect(r.stdout).toMatch(/fell back to lexical: embeddings endpoint failed: .*503/)
    expect(r.stderr).toMatch(/shadow: falling back to lexical similarity/)
    const [lexical] =
      await sql(`SELECT count() AS n, countIf(fallback_reason LIKE 'embeddings endpoint failed%') AS said,
        countIf(s.model_output = p.model_output AND sp.distance = 0) AS identical_zero,
        countIf(s.model_output = p.model_output) AS identical
      FROM shadow_pairs AS sp FINAL
      INNER JOIN interactions AS s ON s.request_id = sp.shadow_request_id
      INNER JOIN interactions AS p ON p.request_id = sp.production_request_id
      WHERE sp.method = 'lexical'`)
    expect(lexical).toMatchObject({ n: more, said: more })
    expect(lexical!.identical_zero).toBe(lexical!.identical)

    const report = await runCli(['shadow', 'report', '--format', 'json'], env)
    expect(report.code, report.stderr).toBe(0)
    const doc = JSON.parse(report.stdout)
    expect(doc.pairs).toBe(twins + more)
    expect(doc.fallback.pairs).toBe(more)
    expect(doc.fallback.reasons[0]).toMatch(/embeddings endpoint failed/)
    const support = doc.scopes.find(
      (s: { segment: string; modality: string }) => s.segment === 'customer_support' && s.modality === 'text',
    )
    expect(support.methods.embedding).toBeGreaterThan(0)
    expect(support.methods.lexical).toBeGreaterThan(0)
    expect(support.latency_ms.p95.production).toBeGreaterThan(0)
    expect(support.cost_usd.p_value).not.toBeNull()
    const table = await runCli(['shadow', 'report'], env)
    expect(table.stdout).toMatch(/measured lexically after a fallback \(embeddings endpoint failed/)
  })

  it('a rule on shadow_divergence_rate fires for the shadow version', async () => {
    fake.setEmbeddingsBehaviour(reply.vectors())
    const r = await runCli(['jobs', 'run', 'evaluate'], env)
    expect(r.code, r.stderr).toBe(0)
    const status = JSON.parse((await runCli(['status', '--format', 'json'], env)).stdout)
    const states = status.rules.filter((s: { rule: string }) => s.rule === 'shadow-diverges')
    expect(states.length).toBeGreaterThan(0)
    expect(states.every((s: { model_version: string }) => s.model_version === 'v2-shadow')).toBe(true)
    expect(states.some((s: { status: string }) => s.status === 'firing')).toBe(true)
  })

  it('shadow.enabled: false unregisters the job, and asking for it says how to turn it on', async () => {
    const off = join(mkdtempSync(join(tmpdir(), 'dw-shadow-off-')), 'driftwatch.yaml')
    writeFileSync(off, 'shadow:\n  enabled: false\n')
    const r = await runCli(['jobs', 'run', 'shadow', '--config', off], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/shadow is not enabled/)
    expect(r.stderr).toMatch(/set shadow\.enabled: true/)
  })
})
