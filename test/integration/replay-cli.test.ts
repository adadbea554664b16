// driftwatch replay from the command line: recorded traffic (real Kafka ingest, embedded
// ClickHouse) sent to the local fake OpenAI-compatible server as the candidate. Worse on one
// segment -> exit 1 naming it; identical -> exit 0; a budget cut stops cleanly; the JUnit
// file parses (python3's xml.etree); bad input exits 2 with nothing written.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  defaultBehaviour,
  type FakeBehaviour,
  type FakeOpenAI,
  type FakeReply,
  reply,
  requestText,
  startFakeOpenAI,
} from '../../fakes/openai-server.ts'
import { REFUSAL_TEXT } from '../../producers/synthetic.ts'
import { runCli } from '../helpers/cli.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'

let env: Record<string, string>
let fake: FakeOpenAI
let dir: string
const SELECT = "SELECT request_id FROM interactions WHERE variant_id = 'control'"

beforeAll(async () => {
  fake = await startFakeOpenAI()
  const brokers = getBrokers()
  const topic = uniqueTopic('replay')
  await createTopic(brokers, topic, 3)
  dir = mkdtempSync(join(tmpdir(), 'dw-replay-'))
  const config = join(dir, 'driftwatch.yaml')
  writeFileSync(
    config,
    `kafka:
  topics: [${topic}]
  group_id: ${topic}.g
  dead_letter_topic: ${topic}.dlq
scorers:
  judge: { enabled: true, base_url: ${fake.url}, model: judge-m, requests_per_second: 1000, max_retries: 0 }
  llama_guard: { enabled: true, base_url: ${fake.url}, model: llama-guard-3, requests_per_second: 1000, max_retries: 0 }
replay:
  price_per_1k_prompt_tokens: 1
  price_per_1k_completion_tokens: 1
  max_retries: 0
`,
  )
  env = { KAFKA_BROKERS: brokers, DRIFTWATCH_CONFIG: config, DRIFTWATCH_DATA_DIR: join(dir, 'data') }
  const produced = await runCli(['produce', '--synthetic', '3000', '--seed', '21'], env)
  expect(produced.code, produced.stderr).toBe(0)
  const ingested = await runCli(['ingest', '--until-caught-up'], env)
  expect(ingested.code, ingested.stderr).toBe(0)
})
afterAll(async () => {
  await fake?.close()
})

/** The judge and Llama Guard answer as the fake's default; any other model is the candidate. */
const candidate =
  (answer: FakeBehaviour | FakeReply): FakeBehaviour =>
  (request, context) =>
    /judge|guard/.test(request.model)
      ? defaultBehaviour(request, context)
      : typeof answer === 'function'
        ? answer(request, context)
        : answer

const replay = (extra: string[]) =>
  runCli(
    ['replay', '--target', fake.url, '--model', 'cand-v3', '--per-scope', '20', '--format', 'json', ...extra],
    env,
  )

describe('driftwatch replay', () => {
  it('a candidate that refuses invoices exits 1 and names invoice_extraction; the JUnit file parses', async () => {
    fake.setBehaviour(
      candidate((request) =>
        reply.content(
          /invoice/i.test(requestText(request))
            ? REFUSAL_TEXT
            : 'Here is what to do: check the settings page.',
        ),
      ),
    )
    const junit = join(dir, 'replay.xml')
    const r = await replay(['--select', SELECT, '--junit', junit])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/replay: \d+ case\(s\) across/)
    expect(r.stderr).toMatch(/answered/)
    const report = JSON.parse(r.stdout)
    expect(report.regressed).toBe(true)
    const bad = report.by_scope.filter((s: { regressed: boolean }) => s.regressed)
    expect(bad.length).toBeGreaterThan(0)
    expect(
      bad.every(
        (s: { segment: string; metric: string }) =>
          s.segment === 'invoice_extraction' && s.metric === 'refusal_rate',
      ),
    ).toBe(true)
    expect(report.message).toMatch(/regression: refusal_rate in invoice_extraction\//)
    expect(Object.keys(report.by_scope[0])).toEqual(
      expect.arrayContaining([
        'segment',
        'modality',
        'metric',
        'recorded',
        'candidate',
        'diff',
        'p_value',
        'regressed',
      ]),
    )
    const parsed = execFileSync(
      'python3',
      [
        '-c',
        'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); print(len(r.findall(".//testcase")), len(r.findall(".//failure")))',
        junit,
      ],
      { encoding: 'utf8' },
    )
    const [cases, failures] = parsed.trim().split(' ').map(Number)
    expect(cases).toBe(report.by_scope.length)
    expect(failures).toBe(bad.length)

    // Candidate answers are stored as interactions of the candidate, linked to the original.
    const stored = await runCli(
      [
        'sql',
        "SELECT count() AS n, countIf(shadow_of IN (SELECT request_id FROM interactions WHERE variant_id = 'control')) AS linked FROM interactions WHERE variant_id = 'replay' AND model_version = 'cand-v3'",
        '--format',
        'json',
      ],
      env,
    )
    const [row] = JSON.parse(stored.stdout)
    expect(row.n).toBe(report.cases)
    expect(row.linked).toBe(report.cases)
  })

  it('a candidate the judge grades worse on code_assist exits 1 naming code_assist and the judge metrics', async () => {
    // The fake judge reads the answer: this marker makes it grade helpfulness 2 and hallucinated.
    fake.setBehaviour(
      candidate((request) =>
        reply.content(
          /TypeScript function|Python code|SQL to use a window/.test(requestText(request))
            ? 'Try this. [[judge:scores:2,3,5,true]]'
            : 'Here is what to do: check the settings page.',
        ),
      ),
    )
    const r = await replay(['--select', SELECT])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/scoring answers with llama_guard .*judge /)
    const report = JSON.parse(r.stdout)
    const bad = report.by_scope.filter((s: { regressed: boolean }) => s.regressed)
    const metrics = new Set(bad.map((s: { metric: string }) => s.metric))
    expect(metrics.has('helpfulness_mean')).toBe(true)
    expect(metrics.has('hallucination_rate')).toBe(true)
    expect(metrics.has('refusal_rate')).toBe(false)
    expect(new Set(bad.map((s: { segment: string }) => s.segment))).toContain('code_assist')
    const help = bad.find((s: { metric: string }) => s.metric === 'helpfulness_mean')
    expect(help.test).toBe('welch')
    expect(help.candidate.value).toBeLessThan(help.recorded.value)
    expect(report.message).toMatch(/helpfulness_mean in code_assist\//)
    // Both sides are graded by the same scorer versions: candidate rows and the recorded ones filled in.
    const stored = await runCli(
      [
        'sql',
        "SELECT uniqExact(scorer_version) AS versions, countIf(variant_id = 'replay') AS cand, countIf(variant_id != 'replay') AS rec FROM scores WHERE scorer = 'judge'",
        '--format',
        'json',
      ],
      env,
    )
    const [row] = JSON.parse(stored.stdout)
    expect(row.versions).toBe(1)
    expect(row.cand).toBeGreaterThan(0)
    expect(row.rec).toBeGreaterThan(0)
  })

  it('an identical candidate exits 0', async () => {
    fake.setBehaviour(candidate(reply.content('Here is what to do: check the settings page.')))
    const r = await replay(['--select', SELECT])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).regressed).toBe(false)
  })

  it('a budget cut stops cleanly with a clear message', async () => {
    fake.setBehaviour(candidate(reply.content('Fine answer.', { promptTokens: 100, completionTokens: 100 })))
    // 0.2 USD per call at 1 USD per 1k tokens: $1 buys 5 calls.
    const r = await replay(['--select', SELECT, '--budget-usd', '1', '--concurrency', '1'])
    expect([0, 1]).toContain(r.code)
    expect(r.stderr).toMatch(/budget of \$1 reached after 5 of \d+ cases/)
    const report = JSON.parse(r.stdout)
    expect(report.budget_exhausted).toBe(true)
    expect(report.cases).toBe(5)
    expect(report.message).toMatch(/Budget cut: 5 of \d+ cases/)
  })

  it('bad input: not a SELECT, a suite line without input -> exit 2, nothing written', async () => {
    const count = () =>
      runCli(
        ['sql', "SELECT count() AS n FROM interactions WHERE variant_id = 'replay'", '--format', 'json'],
        env,
      )
    const before = JSON.parse((await count()).stdout)
    const drop = await replay(['--select', 'DROP TABLE interactions'])
    expect(drop.code).toBe(2)
    expect(drop.stderr).toMatch(/--select must be one SELECT over interactions/)
    const suite = join(dir, 'bad.jsonl')
    writeFileSync(suite, '{"input": "How do I reset my password?"}\n{"reference": "no input here"}\n')
    const bad = await replay(['--suite', suite])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/suite line .*bad\.jsonl:2 has no input/)
    expect(JSON.parse((await count()).stdout)).toEqual(before)
  })
})
