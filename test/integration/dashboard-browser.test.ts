// The dashboard in headless Chromium (Debian's package, driven by playwright-core through
// executablePath; nothing downloaded), over `driftwatch serve` after a real drift run from
// the CLI: produce with --drift, ingest, mark v1 stable, run the jobs (refusal, a judge
// behind a local OpenAI-compatible fake, the evaluation). Screenshots of each page go to
// .ci/screenshots/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeOpenAI, startFakeOpenAI } from '../../fakes/openai-server.ts'
import { type Running, runCli, startCli } from '../helpers/cli.ts'
import { instanceSql } from '../helpers/instance.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SHOTS = join(import.meta.dirname, '..', '..', '.ci', 'screenshots')

let fake: FakeOpenAI
let env: Record<string, string>
let dataDir: string
let serve: Running
let url: string
let browser: Browser
let page: Page

const sql = (query: string) => instanceSql(url, query)

async function open(hash: string): Promise<void> {
  // A fresh document per page: nothing left over from the previous test's page.
  await page.goto('about:blank')
  await page.goto(`${url}/${hash}`)
  await page.waitForSelector(`#app[data-loaded="${hash.replace(/^#/, '') || '/'}"]`)
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (.ci/run does)`).toBe(true)
  mkdirSync(SHOTS, { recursive: true })
  fake = await startFakeOpenAI()
  const brokers = getBrokers()
  const topic = uniqueTopic('dash')
  const rollbackTopic = uniqueTopic('dash-rollback')
  await createTopic(brokers, topic, 3)
  await createTopic(brokers, rollbackTopic, 1)
  const dir = mkdtempSync(join(tmpdir(), 'dw-dash-'))
  dataDir = join(dir, 'data')
  const config = join(dir, 'driftwatch.yaml')
  writeFileSync(
    config,
    `kafka:
  topics: [${topic}]
  group_id: ${topic}.g
  dead_letter_topic: ${topic}.dlq
  rollback_topic: ${rollbackTopic}
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
  settle_seconds: 0
review:
  fraction: 1
  scorers: [judge]
scorers:
  judge:
    enabled: true
    base_url: ${fake.url}
    model: judge-model
    requests_per_second: 1000
    max_concurrency: 8
    price_per_1k_prompt_tokens: 0.5
    price_per_1k_completion_tokens: 1.5
    sampling: { rate: 0.001, min_per_scope: 1 }
`,
  )
  env = {
    KAFKA_BROKERS: brokers,
    DRIFTWATCH_CONFIG: config,
    DRIFTWATCH_DATA_DIR: dataDir,
    DRIFTWATCH_HTTP_PORT: '0',
  }
  const steps: string[][] = [
    ['produce', '--synthetic', '15000', '--seed', '77', '--drift', '{"v2":{"refusalRate":0.25}}'],
    ['ingest', '--until-caught-up'],
    ['deploy', 'mark-stable', 'v1', '--note', 'in production before the canary'],
    ['jobs', 'run-all', '--once'],
    // A second cycle: the rule page's p-value history has two looks per scope.
    ['jobs', 'run-all', '--once'],
  ]
  for (const step of steps) {
    const result = await runCli(step, env)
    expect(result.code, `${step.join(' ')}: ${result.stderr}`).toBe(0)
  }
  serve = startCli(['serve'], env)
  const deadline = Date.now() + 60_000
  while (!url && Date.now() < deadline) {
    url = /serve: (http:\/\/\S+)/.exec(serve.stderr())?.[1] ?? ''
    if (!url) await new Promise((r) => setTimeout(r, 200))
  }
  expect(url, serve.stderr()).toMatch(/^http/)
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
})

afterAll(async () => {
  await browser?.close()
  if (serve) {
    serve.child.kill('SIGTERM')
    await serve.done
  }
  await fake?.close()
})

describe('dashboard in a real browser', () => {
  it('overview shows the firing incident of the drift run first, with verdicts and the last stable version', async () => {
    await open('')
    const first = page.locator('#incidents tbody tr').first()
    await expect.poll(() => first.innerText()).toMatch(/firing\s+refusal-spike\s+v2/)
    expect(await page.locator('#versions').innerText()).toMatch(/v2\s+detected\s+fail/)
    expect(await page.locator('main').innerText()).toMatch(/Last stable \(rollback target\): v1/)
    expect(await page.locator('#last-cycle').innerText()).toMatch(/ok/)
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true })
  })

  it('a rule page draws its chart per scope with the threshold line', async () => {
    await open('#/rule/refusal-spike')
    await page.waitForSelector('#charts .chart canvas')
    const chart = page.locator('#charts .chart[data-scope^="v2"]').first()
    expect(await chart.locator('.u-legend').innerText()).toMatch(/threshold/)
    const size = await chart
      .locator('canvas')
      .evaluate(
        (c) =>
          (c as unknown as { width: number; height: number }).width *
          (c as unknown as { height: number }).height,
      )
    expect(size).toBeGreaterThan(0)
    expect(await page.locator('#reproduce').innerText()).toMatch(/SELECT[\s\S]+FROM (scores|interactions)/)
    // A tiny p-value reads as one (2.8e-35, never 0.0000); the one-sided test's CI as a single bound.
    const v2State = await page.locator('#states tbody tr', { hasText: 'v2 / canary' }).innerText()
    expect(v2State).toMatch(/\t(\d\.\de-\d+|0\.\d{4}|0|1)\t/)
    expect(v2State).not.toMatch(/0\.0000/)
    // The CI cell: one bound (≥ x / ≤ x), both, or none (the exact rate-change test reports
    // no interval of the change); never the half-empty "x – –".
    expect(v2State).toMatch(/\t(≥ -?\d|≤ -?\d|-?\d\S* – -?\d|–)/)
    expect(v2State).not.toMatch(/– –/)
    // The test over time: a p-value series per scope from the stored looks of both cycles.
    const looks = await sql(
      "SELECT dedup_key, count() AS n FROM rule_evaluations WHERE rule = 'refusal-spike' AND p_value IS NOT NULL GROUP BY dedup_key",
    )
    expect(looks.length).toBeGreaterThan(0)
    for (const l of looks) expect(Number(l.n)).toBe(2)
    const pvalues = page.locator('#pvalue-chart')
    await pvalues.locator('canvas').waitFor()
    expect(Number(await pvalues.getAttribute('data-series'))).toBe(looks.length)
    // Drawn, not just created: a full-width canvas (a chart that failed to build collapses).
    const pvWidth = await pvalues
      .locator('canvas')
      .evaluate((c) => (c as unknown as { clientWidth: number }).clientWidth)
    expect(pvWidth).toBeGreaterThan(300)
    expect(await pvalues.locator('.u-legend').innerText()).toMatch(
      /p-value v2 \/ \S+ \/ customer_support \/ text/,
    )
    await page.screenshot({ path: join(SHOTS, 'rule.png'), fullPage: true })
  })

  it('labelling a review sample (after signing in with the local token) stores a human label', async () => {
    await open('#/review')
    const request = await page.locator('#review-request').innerText()
    expect(await page.locator('#judge-scores').innerText()).toMatch(/hallucination/)
    await page.screenshot({ path: join(SHOTS, 'review.png'), fullPage: true })
    await page.locator('#label-form select[name=hallucination]').selectOption('0')
    await page.locator('#label-form button[type=submit]').click()
    // Local mode: reads are open, a write needs the token in <data_dir>/token.
    await page.waitForSelector('form.signin')
    await page.locator('form.signin input').fill(readFileSync(join(dataDir, 'token'), 'utf8').trim())
    await page.locator('form.signin button').click()
    await page.waitForSelector('form.signin', { state: 'detached' })
    await page.waitForSelector('#label-form')
    expect(await page.locator('#review-request').innerText()).toBe(request)
    await page.locator('#label-form select[name=hallucination]').selectOption('0')
    await page.locator('#label-form button[type=submit]').click()
    await expect.poll(() => page.locator('#label-result').innerText()).toMatch(/stored 1 label/)
    const rows = await sql(`SELECT metric, value, source FROM human_labels WHERE request_id = '${request}'`)
    expect(rows).toEqual([{ metric: 'hallucination', value: 0, source: 'dashboard' }])
  })

  it('risk exposure prices each version per segment from exposure: and measured traffic', async () => {
    await open('#/exposure')
    await page.waitForSelector('#exposure tbody tr')
    const rows = await page.locator('#exposure tbody tr').allInnerTexts()
    const v1 = rows.find((r) => /^v1\s+customer_support\s+text\s+refusal_rate/.test(r))
    const v2 = rows.find((r) => /^v2\s+customer_support\s+text\s+refusal_rate/.test(r))
    expect(v1, rows.join('\n')).toBeDefined()
    expect(v2, rows.join('\n')).toBeDefined()
    expect(v2).toMatch(/\$12\.00/)
    // v2 refuses more than the baseline v1: more dollars at risk, a positive delta; v1 is the baseline.
    expect(v2).toMatch(/\+\$\d+\.\d\d$/)
    expect(v1).toMatch(/\+\$0\.00$/)
    // The API's numbers are the same arithmetic as experiment and replay reports (metrics/exposure.ts).
    const api = (await (await fetch(`${url}/api/exposure`)).json()) as {
      baseline_version: string
      rows: {
        model_version: string
        segment: string
        metric: string
        rate: number
        daily_traffic: number
        candidate: { usd_per_day: number; failures_per_day: number }
        baseline: { usd_per_day: number }
      }[]
    }
    expect(api.baseline_version).toBe('v1')
    const row = api.rows.find((r) => r.model_version === 'v2' && r.segment === 'customer_support')!
    expect(row.daily_traffic).toBeGreaterThan(0)
    expect(row.candidate.failures_per_day).toBeCloseTo(row.rate * row.daily_traffic, 6)
    expect(row.candidate.usd_per_day).toBeCloseTo(row.rate * row.daily_traffic * 12, 6)
    expect(row.candidate.usd_per_day).toBeGreaterThan(row.baseline.usd_per_day)
    await page.waitForSelector('#exposure-chart canvas')
    await page.screenshot({ path: join(SHOTS, 'exposure.png'), fullPage: true })
  })

  it('the SQL console shows rows', async () => {
    await open('#/sql')
    await page.locator('#sql-run').click()
    await page.waitForSelector('#sql-table tbody tr')
    expect(await page.locator('#sql-table tbody tr').count()).toBeGreaterThan(1)
    expect(await page.locator('#sql-table thead').innerText()).toMatch(/model_version/)
    await page.screenshot({ path: join(SHOTS, 'sql.png'), fullPage: true })
  })

  it('versions: marking rolled back asks for confirmation and is recorded', async () => {
    await open('#/versions')
    page.once('dialog', (dialog) => void dialog.accept())
    await page.locator('#deployments tr', { hasText: 'v2' }).getByText('Mark rolled back').click()
    await expect.poll(() => page.locator('#mark-result').innerText()).toMatch(/v2 is now rolled_back/)
    await page.screenshot({ path: join(SHOTS, 'versions.png'), fullPage: true })
  })
})
