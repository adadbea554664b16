// npm run bench:backtest — how long `driftwatch backtest` takes for one day of 1-minute steps
// (1,440 evaluation cycles of the four rules of bench:detection) over 1 million stored
// interactions (7 days, as bench/detection-cycle.ts generates them, with ~1 % judged and
// refusal-scored). Target: under 60 s on the 2-core CI machine. Ends with one JSON line.
// BENCH_ROWS (default 1000000) and BENCH_STEPS (default 1440) change it.

import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../config/load.ts'
import { runBacktest } from '../jobs/evaluate/backtest.ts'
import { silentLogger } from '../lib/log.ts'
import { EvaluationSchema } from '../rules/schema.ts'
import { migrate } from '../store/migrate.ts'
import { createStore } from '../store/store.ts'
import { CYCLE_RULES, insertInteractionsSql, insertScoresSql, NOW, waitForMerges } from './detection-cycle.ts'

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000)
const steps = Number(process.env.BENCH_STEPS ?? 1440)
const MIN = 60_000

const dataDir = mkdtempSync(join(tmpdir(), 'dw-bench-backtest-'))
const config = parseConfig({ clickhouse: { data_dir: dataDir, database: 'bench' } })
const store = await createStore(config.clickhouse)
try {
  await migrate(store)
  console.log(`bench:backtest: inserting ${rows.toLocaleString('en-US')} interactions (7 days) ...`)
  await store.command(insertInteractionsSql(), { now: NOW, rows })
  await store.command(insertScoresSql(), { every: 0 })
  await waitForMerges(store)
  console.log(
    `  ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${steps} steps of 1 minute, ${CYCLE_RULES.length} rules`,
  )
  const started = performance.now()
  const cpu = process.cpuUsage()
  let firstStep = 0
  const report = await runBacktest({
    store,
    rules: CYCLE_RULES,
    settings: EvaluationSchema.parse({}),
    from: NOW - (steps - 1) * MIN,
    to: NOW,
    step: MIN,
    lastStable: async (excluding) => (excluding === 'v1' ? undefined : 'v1'),
    log: silentLogger,
    onStep: (_at, i, total) => {
      // The first step also reads each metric's values once and builds the index.
      if (i === 0) firstStep = (performance.now() - started) / 1000
      if ((i + 1) % 240 === 0)
        console.log(`  step ${i + 1}/${total}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
    },
  })
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const cpuSeconds = (used.user + used.system) / 1e6
  console.log(
    `  ${steps} steps in ${seconds.toFixed(1)} s (${((seconds * 1000) / steps).toFixed(1)} ms per step; the first, with reading and indexing the stored values, ${firstStep.toFixed(1)} s), ${report.timeline.length} state changes`,
  )
  console.log(
    `  this process's CPU time: ${cpuSeconds.toFixed(1)} s (the engine's threads included); load average now ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  console.log(
    JSON.stringify({
      backtest_day_seconds_1m: Math.round(seconds * 10) / 10,
      first_step_seconds: Math.round(firstStep * 10) / 10,
      cpu_seconds: Math.round(cpuSeconds * 10) / 10,
      steps,
      rows,
      events: report.timeline.length,
    }),
  )
} finally {
  await store.close()
  rmSync(dataDir, { recursive: true, force: true })
}
