// The scoring jobs and human review as a user drives them: `driftwatch jobs list | run |
// run-all --once | (foreground)` and `driftwatch review export | import | stats`, each in its
// own process over one embedded store, with interactions ingested from Kafka and the model
// scorers pointed at a local fake OpenAI-compatible server that checks the API key.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultBehaviour, type FakeOpenAI, reply, startFakeOpenAI } from '../../fakes/openai-server.ts'
import { csvLine, parseCsv } from '../../review/csv.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { produceJson } from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'

let fake: FakeOpenAI
let dir: string
let env: Record<string, string>

function writeConfig(name: string, judgeModel = 'judge-model'): string {
  const file = join(dir, name)
  writeFileSync(
    file,
    `jobs:
  settle_seconds: 0
  backfill_hours: all
sampling:
  rate: 0.2
  min_per_scope: 1
review:
  fraction: 0.5
scorers:
  llama_guard:
    enabled: true
    base_url: ${fake.url}
    model: llama-guard-3-8b
    api_key_env: DW_TEST_MODEL_KEY
    requests_per_second: 1000
  judge:
    enabled: true
    base_url: ${fake.url}
    model: ${judgeModel}
    api_key_env: DW_TEST_MODEL_KEY
    requests_per_second: 1000
    max_retries: 0
`,
  )
  return file
}

let config: string

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'test-key-123' })
  dir = mkdtempSync(join(tmpdir(), 'dw-jobs-cli-'))
  const brokers = getBrokers()
  const topic = uniqueTopic('jobs-cli')
  await createTopic(brokers, topic, 1)
  env = {
    KAFKA_BROKERS: brokers,
    DRIFTWATCH_DATA_DIR: join(dir, 'data'),
    DRIFTWATCH_HTTP_PORT: '0',
    DW_TEST_MODEL_KEY: 'test-key-123',
  }
  config = writeConfig('driftwatch.yaml')
  await produceJson(brokers, topic, 300, { seed: 21 })
  const ingest = await runCli(['ingest', '--topic', topic, '--group', `${topic}.g`, '--until-caught-up'], env)
  expect(ingest.code).toBe(0)
})

afterAll(async () => {
  await fake.close()
})

describe('driftwatch jobs', () => {
  it('lists the jobs with their schedules before any run', async () => {
    const r = await runCli(['jobs', 'list', '--config', config, '--format', 'json'], env)
    expect(r.code).toBe(0)
    const jobs = JSON.parse(r.stdout) as Array<Record<string, unknown>>
    expect(jobs.map((j) => [j.job, j.enabled, j.schedule, j.last_status])).toEqual([
      ['refusal', true, '* * * * *', null],
      ['llama_guard', true, '*/5 * * * *', null],
      ['judge', true, '*/5 * * * *', null],
      ['detect_versions', true, '* * * * *', null],
      ['shadow', true, '*/5 * * * *', null],
      ['evaluate', true, expect.any(String), null],
    ])
  })

  it('runs one job, names the jobs when asked for one that does not exist', async () => {
    const r = await runCli(['jobs', 'run', 'refusal', '--config', config], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^refusal\s+ok\s+300\/300 rows/)
    const bad = await runCli(['jobs', 'run', 'guard', '--config', config], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/no job named "guard"/)
    expect(bad.stderr).toMatch(/refusal, llama_guard, judge/)
  })

  it('runs every job once with progress on stderr, sending the API key from the named variable', async () => {
    const r = await runCli(['jobs', 'run-all', '--once', '--config', config], env)
    expect(r.code).toBe(0)
    expect(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/).slice(0, 2)),
    ).toEqual([
      ['refusal', 'ok'],
      ['llama_guard', 'ok'],
      ['judge', 'ok'],
      // The rule jobs run after the scores they read, as in `driftwatch start`.
      ['detect_versions', 'ok'],
      ['shadow', 'ok'],
      ['evaluate', 'ok'],
    ])
    expect(r.stderr).toMatch(/judge: (\d+)\/\1 rows \(100%\), [\d.]+ rows\/s, \$0\.0000 spent, in /)
    expect(fake.requests.every((q) => q.status === 200)).toBe(true)
    const list = JSON.parse(
      (await runCli(['jobs', 'list', '--config', config, '--format', 'json'], env)).stdout,
    )
    expect(list.map((j: Record<string, unknown>) => j.last_status)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
    ])
  })

  it('exits non-zero when a job fails, and explains a missing API key variable', async () => {
    fake.setBehaviour(() => reply.serverError(503))
    try {
      const r = await runCli(
        ['jobs', 'run-all', '--once', '--config', writeConfig('down.yaml', 'judge-model-2')],
        env,
      )
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(/^judge\s+failed\s+.*circuit open/m)
      expect(r.stdout).toMatch(/^evaluate\s+skipped\s+.*dependency judge did not succeed/m)
    } finally {
      fake.setBehaviour(defaultBehaviour)
    }
    const noKey = await runCli(['jobs', 'run', 'judge', '--config', config], {
      ...env,
      DW_TEST_MODEL_KEY: '',
    })
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toMatch(/api_key_env names DW_TEST_MODEL_KEY, which is not set/)
  })

  it('runs the scheduler in the foreground until stopped', async () => {
    const running = startCli(['jobs', '--config', config], env)
    const deadline = Date.now() + 30_000
    while (!/jobs: scheduled/.test(running.stderr()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    expect(running.stderr()).toMatch(
      /jobs: scheduled refusal \(\* \* \* \* \*\), llama_guard \(\*\/5 \* \* \* \*\), judge/,
    )
    running.child.kill('SIGTERM')
    const done = await running.done
    expect(done.code).toBe(0)
  })
})

describe('driftwatch review', () => {
  it('exports the queue, imports labels (rejecting a bad file by line and field) and reports kappa', async () => {
    const out = join(dir, 'review.csv')
    const exported = await runCli(
      ['review', 'export', '--format', 'csv', '--out', out, '--config', config],
      env,
    )
    expect(exported.code).toBe(0)
    const [header, ...rows] = parseCsv(readFileSync(out, 'utf8'))
    expect(rows.length).toBeGreaterThan(10)
    const col = (name: string) => header!.cells.indexOf(name)
    expect(col('user_input')).toBeGreaterThan(0)
    const filled = rows.map((row, i) => {
      const cells = [...row.cells]
      if (cells[col('scorer')] === 'judge') {
        cells[col('hallucination')] = i % 5 === 0 ? 'yes' : 'no'
        cells[col('helpfulness')] = i % 3 === 0 ? '3' : '4'
      } else {
        cells[col('unsafe')] = 'no'
      }
      return cells
    })
    const bad = join(dir, 'bad.csv')
    const broken = filled.map((c) => [...c])
    broken[1]![col('helpfulness')] = '7'
    broken[1]![col('unsafe')] = ''
    broken[1]![col('scorer')] = 'judge'
    writeFileSync(bad, csvLine(header!.cells) + broken.map((c) => csvLine(c)).join(''))
    const rejected = await runCli(['review', 'import', bad, '--config', config], env)
    expect(rejected.code).toBe(2)
    expect(rejected.stderr).toMatch(/line \d+: helpfulness: expected an integer from 1 to 5, got 7/)
    expect(rejected.stderr).toMatch(/nothing imported/)

    const good = join(dir, 'labels.csv')
    writeFileSync(good, csvLine(header!.cells) + filled.map((c) => csvLine(c)).join(''))
    const imported = await runCli(['review', 'import', good, '--reviewer', 'ana', '--config', config], env)
    expect(imported.code).toBe(0)
    expect(imported.stdout).toMatch(/imported \d+ labels from \d+ lines/)

    const stats = await runCli(['review', 'stats', '--format', 'json', '--config', config], env)
    expect(stats.code).toBe(0)
    const agreement = JSON.parse(stats.stdout) as Array<Record<string, unknown>>
    const metrics = agreement.map((a) => `${String(a.scorer_version).split('@')[0]}:${a.metric}`)
    expect(metrics).toEqual(
      expect.arrayContaining([
        'judge-model:hallucination',
        'judge-model:helpfulness',
        'llama-guard-3-8b:unsafe',
      ]),
    )
    const halluc = agreement.find((a) => a.metric === 'hallucination')!
    expect(halluc.n).toBe(filled.filter((c) => c[col('scorer')] === 'judge').length)
    expect(typeof halluc.agreement).toBe('number')

    const again = await runCli(['review', 'export', '--format', 'jsonl', '--config', config], env)
    expect(again.stdout).toBe('') // everything queued is labelled now
    const all = await runCli(
      ['review', 'export', '--format', 'jsonl', '--all', '--with-scores', '--config', config],
      env,
    )
    expect(all.stdout.trim().split('\n')).toHaveLength(rows.length)
    expect(JSON.parse(all.stdout.split('\n')[0]!)).toHaveProperty('model_scores')
  })
})
