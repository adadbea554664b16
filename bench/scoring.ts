// npm run bench:scoring — throughput of the judge scoring job against the local fake
// OpenAI-compatible endpoint answering after a fixed 200 ms. With max_concurrency C the model
// cannot go faster than C / 0.2 s requests per second (the ceiling); the benchmark reports
// the requests/s the job achieves (wall time of the whole run: selection query, text fetches,
// model calls, score inserts) and their ratio. A second run of the same rows against a
// zero-latency endpoint measures driftwatch's own cost per scored row: sampling SQL, text
// fetch, prompt building, answer parsing, inserts — plus the local HTTP round trip and the
// fake server, which run in this process too, so it is an upper bound.
// Ends with one JSON line. BENCH_ROWS (default 400) and BENCH_CONCURRENCY (default 8) change it.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../config/load.ts'
import { interactionRow } from '../consumers/rows.ts'
import { startFakeOpenAI } from '../fakes/openai-server.ts'
import { createJobsScheduler } from '../jobs/start-jobs.ts'
import { silentLogger } from '../lib/log.ts'
import { syntheticInteraction } from '../producers/synthetic.ts'
import { migrate } from '../store/migrate.ts'
import { createStore } from '../store/store.ts'

const rows = Number(process.env.BENCH_ROWS ?? 400)
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8)
const LATENCY_MS = 200

const dataDir = mkdtempSync(join(tmpdir(), 'dw-bench-scoring-'))
const fake = await startFakeOpenAI({ latencyMs: LATENCY_MS })
const base = parseConfig({ clickhouse: { data_dir: dataDir, database: 'bench_scoring' } })
const store = await createStore(base.clickhouse)

try {
  await migrate(store)
  await store.insert(
    'interactions',
    [...Array(rows)].map((_, i) =>
      interactionRow(syntheticInteraction(i, { seed: 3 }), {
        topic: 'bench',
        partition: 0,
        offset: String(i),
      }),
    ),
  )
  const configFor = (model: string) =>
    parseConfig({
      clickhouse: { data_dir: dataDir, database: 'bench_scoring' },
      jobs: { settle_seconds: 0, backfill_hours: 'all', progress_interval_ms: 2000 },
      // Every interaction is scored: the benchmark is about the model path, not the sample size.
      sampling: { rate: 1, min_per_scope: 0 },
      scorers: {
        refusal: { enabled: false },
        judge: {
          enabled: true,
          base_url: fake.url,
          model,
          max_concurrency: concurrency,
          requests_per_second: 100_000,
          batch_size: 50,
        },
      },
    })
  const run = async (model: string, latencyMs: number) => {
    fake.setLatency(latencyMs)
    fake.reset()
    const scheduler = await createJobsScheduler({ store, config: configFor(model), log: silentLogger })
    const t0 = performance.now()
    const result = await scheduler.runOnce('judge')
    const seconds = (performance.now() - t0) / 1000
    if (result.status !== 'ok' || result.rowsDone !== rows)
      throw new Error(`judge run ended ${result.status}: ${result.message}`)
    return { seconds, requests: fake.stats().count, maxConcurrency: fake.stats().maxConcurrency }
  }

  console.log(
    `bench:scoring: judge on ${rows} interactions, max_concurrency ${concurrency}, endpoint latency ${LATENCY_MS} ms`,
  )
  const slow = await run('bench-judge-a', LATENCY_MS)
  const achieved = slow.requests / slow.seconds
  const ceiling = concurrency / (LATENCY_MS / 1000)
  console.log(
    `  ${slow.requests} requests in ${slow.seconds.toFixed(2)} s: ${achieved.toFixed(1)} req/s of a ${ceiling.toFixed(1)} req/s ceiling` +
      ` (ratio ${(achieved / ceiling).toFixed(3)}; ${slow.maxConcurrency} requests in flight at most)`,
  )
  const fast = await run('bench-judge-b', 0)
  const overheadMs = (fast.seconds * 1000) / rows
  console.log(
    `  same rows, zero-latency endpoint: ${fast.seconds.toFixed(2)} s, ${overheadMs.toFixed(2)} ms per scored row (driftwatch + local HTTP)`,
  )
  console.log(
    JSON.stringify({
      achieved_rps: round(achieved),
      ceiling_rps: round(ceiling),
      ratio: round(achieved / ceiling, 3),
      overhead_ms_per_row: round(overheadMs, 3),
    }),
  )
} finally {
  await fake.close()
  await store.close()
  rmSync(dataDir, { recursive: true, force: true })
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
