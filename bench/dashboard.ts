// npm run bench:dashboard — how long each dashboard page takes on a large store: 10 million
// interactions (7 days, two versions, two variants, 5 segments, 3 modalities) and ~200k scores
// in the embedded ClickHouse, written with INSERT ... SELECT (the fastest path the repo has,
// shared with bench:detection), one live evaluation cycle with its look history, v1 marked
// stable, a review queue. Then the real HTTP server (the owner's routes, local mode) answers
// each page's API calls as the page makes them (in parallel where the page does), timed over
// BENCH_ROUNDS rounds after one warm-up; with Debian's Chromium present (BENCH_BROWSER=0 skips
// it) each page is also loaded in headless Chromium until it has rendered.
// Prints per page: median and max ms; ends with one JSON line. BENCH_ROWS (default 10000000).
// A benchmark, not a test: nothing here asserts a time.

import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AlertEmitter } from '../alerts/emitter.ts'
import { parseConfig } from '../config/load.ts'
import { storeDeployments } from '../deploy/api.ts'
import { runEvaluationCycle } from '../jobs/evaluate/cycle.ts'
import { recordEvaluations } from '../jobs/evaluate/history.ts'
import { silentLogger } from '../lib/log.ts'
import { dashboardApi } from '../server/dashboard-api.ts'
import { dashboardAssets } from '../server/dashboard-assets.ts'
import { startLocalServer } from '../server/http.ts'
import { sqlRoute } from '../server/sql-route.ts'
import { migrate } from '../store/migrate.ts'
import { createStore } from '../store/store.ts'
import { CYCLE_RULES, insertInteractionsSql, insertScoresSql, NOW, waitForMerges } from './detection-cycle.ts'

const rows = Number(process.env.BENCH_ROWS ?? 10_000_000)
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5))
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const browserWanted = process.env.BENCH_BROWSER !== '0' && existsSync(CHROMIUM)
const progress = (line: string) => process.stderr.write(`${line}\n`)
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

// The SQL console's default query (server/dashboard/app.js sqlPage).
const CONSOLE_SQL =
  'SELECT model_version, segment, count() AS n, avg(latency_ms) AS mean_latency_ms\nFROM interactions\nWHERE timestamp >= (SELECT max(timestamp) FROM interactions) - INTERVAL 1 DAY\nGROUP BY model_version, segment\nORDER BY n DESC\nLIMIT 100'

interface Call {
  path: string
  method?: 'POST'
  body?: unknown
}

/** Each page and the API calls it makes on load (server/dashboard/app.js), in parallel. */
const PAGES: { page: string; hash: string; calls: Call[] }[] = [
  { page: 'overview', hash: '', calls: [{ path: '/api/overview' }] },
  ...CYCLE_RULES.map((r) => ({
    page: `rule:${r.name}`,
    hash: `#/rule/${encodeURIComponent(r.name)}`,
    calls: [{ path: `/api/rule?name=${encodeURIComponent(r.name)}` }],
  })),
  { page: 'versions', hash: '#/versions', calls: [{ path: '/api/versions' }] },
  { page: 'exposure', hash: '#/exposure', calls: [{ path: '/api/exposure' }] },
  {
    page: 'review',
    hash: '#/review',
    calls: [{ path: '/api/review/next?skip=0' }, { path: '/api/review/agreement' }],
  },
  {
    page: 'sql',
    hash: '#/sql',
    calls: [
      { path: '/sql', method: 'POST', body: { query: CONSOLE_SQL, format: 'JSONCompactEachRowWithNames' } },
    ],
  },
]

const dataDir = mkdtempSync(join(tmpdir(), 'dw-bench-dashboard-'))
const config = parseConfig({
  clickhouse: { data_dir: dataDir, database: 'bench' },
  rules: CYCLE_RULES,
  exposure: [
    { segment: 'invoice_extraction', metric: 'hallucination_rate', usd_per_failure: 50 },
    { segment: 'support_chat', usd_per_failure: 5 },
  ],
})
const store = await createStore(config.clickhouse)
try {
  await migrate(store)
  progress(`inserting ${rows.toLocaleString('en-US')} interactions ...`)
  let t0 = performance.now()
  await store.command(insertInteractionsSql(), { now: NOW, rows })
  await store.command(insertScoresSql(), { every: 0 })
  const [stored] = await store.query<{ n: number }>('SELECT count() AS n FROM interactions')
  const [scored] = await store.query<{ n: number }>('SELECT count() AS n FROM scores')
  const insertSeconds = (performance.now() - t0) / 1000
  progress(
    `  ${Number(stored?.n).toLocaleString('en-US')} interactions, ${Number(scored?.n).toLocaleString('en-US')} scores in ${insertSeconds.toFixed(1)} s`,
  )
  await store.command(
    `INSERT INTO review_queue (request_id, scorer, scorer_version, model_version, variant_id, segment, modality, interaction_ts)
     SELECT request_id, scorer, scorer_version, model_version, variant_id, segment, modality, interaction_ts
     FROM scores WHERE scorer = 'judge' LIMIT 2000`,
  )
  const deployments = storeDeployments(store)
  await deployments.detect()
  await deployments.mark('v1', 'stable', { by: 'bench' })
  // Two live cycles with their look history, as the evaluate job runs them.
  const emitter: AlertEmitter = { sinksFor: () => [], emit: async () => [] }
  for (let i = 0; i < 2; i++) {
    const now = NOW + i * 60_000
    const result = await runEvaluationCycle({
      store,
      rules: CYCLE_RULES,
      settings: config.evaluation,
      emitter,
      lastStable: async () => 'v1',
      log: silentLogger,
      now,
    })
    await recordEvaluations(store, result.states, now)
  }
  t0 = performance.now()
  await waitForMerges(store)
  progress(`  merges settled in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

  const server = await startLocalServer({
    host: '127.0.0.1',
    port: 0,
    log: silentLogger,
    auth: { mode: 'local', tokens: { admin: 'bench-local-token' } },
    routes: {
      ...dashboardAssets(),
      ...dashboardApi({ store, config, log: silentLogger, now: () => NOW + 120_000 }),
      'POST /sql': sqlRoute(store, config.server.sql),
    },
  })
  try {
    const call = async (c: Call) => {
      const response = await fetch(`${server.url}${c.path}`, {
        method: c.method ?? 'GET',
        headers: c.body ? { 'content-type': 'application/json' } : {},
        body: c.body ? JSON.stringify(c.body) : undefined,
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`${c.path}: HTTP ${response.status} ${text.slice(0, 300)}`)
      return text.length
    }
    progress(`${cpus().length} cores, load average ${load()} before timing; ${rounds} rounds after a warm-up`)
    const results: Record<
      string,
      { api_ms_median: number; api_ms_max: number; bytes: number; browser_ms?: number }
    > = {}
    for (const p of PAGES) {
      await Promise.all(p.calls.map(call)) // warm-up: the engine's caches, as a second visit
      const times: number[] = []
      let bytes = 0
      for (let r = 0; r < rounds; r++) {
        const started = performance.now()
        bytes = (await Promise.all(p.calls.map(call))).reduce((a, b) => a + b, 0)
        times.push(performance.now() - started)
      }
      times.sort((a, b) => a - b)
      results[p.page] = {
        api_ms_median: round(times[Math.floor(times.length / 2)]!),
        api_ms_max: round(times.at(-1)!),
        bytes,
      }
      progress(
        `  ${p.page.padEnd(32)} api median ${results[p.page]!.api_ms_median.toFixed(0).padStart(5)} ms, max ${results[p.page]!.api_ms_max.toFixed(0).padStart(5)} ms (${p.calls.length} call${p.calls.length > 1 ? 's' : ''}, ${bytes} bytes)`,
      )
    }
    if (browserWanted) {
      const { chromium } = await import('playwright-core')
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox'],
      })
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
        // Warm-up: the browser's own start and the static assets are not a page's cost.
        await page.goto(`${server.url}/`)
        await page.waitForSelector('#app[data-loaded="/"]', { timeout: 120_000 })
        for (const p of PAGES) {
          const loaded = `#app[data-loaded="${p.hash.replace(/^#/, '') || '/'}"]`
          await page.goto('about:blank')
          const started = performance.now()
          await page.goto(`${server.url}/${p.hash}`)
          await page.waitForSelector(loaded, { timeout: 120_000 })
          results[p.page]!.browser_ms = round(performance.now() - started)
          progress(
            `  ${p.page.padEnd(32)} chromium load to rendered ${results[p.page]!.browser_ms!.toFixed(0).padStart(5)} ms`,
          )
        }
      } finally {
        await browser.close()
      }
    }
    const worst = Math.max(...Object.values(results).map((r) => r.api_ms_median))
    console.log(
      JSON.stringify({
        bench: 'dashboard',
        rows: Number(stored?.n),
        scores: Number(scored?.n),
        insert_seconds: round(insertSeconds),
        rounds,
        load_average: loadavg().map((l) => round(l)),
        cores: cpus().length,
        pages: results,
        worst_api_ms_median: worst,
      }),
    )
  } finally {
    await server.close()
  }
} finally {
  await store.close()
  rmSync(dataDir, { recursive: true, force: true })
}

function round(x: number): number {
  return Math.round(x * 10) / 10
}
