// npm run bench:ingest — the ingest benchmark. Produces >= 500,000 synthetic interactions of
// about 1.2 KB to a 3-partition topic, then measures every ceiling side by side, each in a
// fresh process (bench/ingest-phase.ts): kafkajs consume only; the @clickhouse/client insert;
// chDB's raw passthrough insert (both at the pipeline's batch size); the engine's bulk parse
// of one file; the full pipeline. Prints events/s and peak RSS of each, the ratios
// pipeline / min(consume, best insert) and pipeline / raw, a CPU profile summary of the
// pipeline (a second, profiled run), and ends with one JSON line.
// KAFKA_BROKERS uses an existing broker; otherwise a local one is started and stopped.
// BENCH_EVENTS changes the count (default 500000), BENCH_BATCH the batch size (default: config),
// BENCH_PHASES=raw,pipeline runs only those phases (for quick comparisons; no final JSON line).

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseConfig } from '../config/load.ts'
import { startLocalKafka } from '../infra/kafka-local.ts'
import { createKafka } from '../lib/kafka-client.ts'
import { ensureTopics } from '../lib/kafka-topics.ts'
import { createLogger } from '../lib/log.ts'
import { produceSynthetic } from '../producers/produce.ts'
import { interactionJsonBytes, syntheticJsonBytes } from '../producers/synthetic.ts'
import { summarizeProfile } from './profile-summary.ts'

const here = dirname(fileURLToPath(import.meta.url))
const events = Number(process.env.BENCH_EVENTS ?? 500_000)
const log = createLogger({ level: 'warn' })
const PHASES = ['consume', 'client', 'raw', 'bulk', 'pipeline'] as const
const DESCRIPTION: Record<string, string> = {
  consume: 'kafkajs fetch only',
  client: '@clickhouse/client insert of row objects',
  raw: 'chDB raw passthrough insert of encoded lines',
  bulk: 'engine parsing one file (INSERT ... SELECT FROM file)',
  pipeline: 'decode, validate, encode, raw insert, commit',
}
const round3 = (x: number) => Math.round(x * 1000) / 1000

let brokers = process.env.KAFKA_BROKERS
let stopKafka: (() => Promise<void>) | undefined
if (!brokers) {
  const dataDir = mkdtempSync(join(tmpdir(), 'dw-bench-kafka-'))
  const kafka = await startLocalKafka({ dataDir, log })
  brokers = kafka.brokers
  stopKafka = async () => {
    await kafka.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

try {
  const topic = `bench.ingest.${Date.now()}`
  const config = parseConfig({
    kafka: { brokers: brokers.split(',') },
    ...(process.env.BENCH_BATCH ? { ingest: { batch_size: Number(process.env.BENCH_BATCH) } } : {}),
  })
  const kafka = createKafka({ config: config.kafka, brokers: brokers.split(','), log })
  const admin = kafka.admin()
  await admin.connect()
  await ensureTopics(admin, [topic], 3)
  await admin.disconnect()
  const avgBytes = Math.round(
    Array.from({ length: 1000 }, (_, i) => syntheticJsonBytes(i, { seed: 1 }).length).reduce(
      (a, b) => a + b,
    ) / 1000,
  )
  console.log(
    `bench:ingest: producing ${events.toLocaleString('en-US')} interactions (~${avgBytes} bytes each) to ${topic} (3 partitions) on ${brokers}`,
  )
  const producer = kafka.producer()
  await producer.connect()
  const t0 = performance.now()
  await produceSynthetic({
    producer,
    topic,
    count: events,
    synthetic: { seed: 1 },
    encode: (i) => ({ value: interactionJsonBytes(i) }),
    batchSize: 5000,
  })
  const produceSeconds = (performance.now() - t0) / 1000
  await producer.disconnect()
  console.log(
    `  produced in ${produceSeconds.toFixed(1)} s (${Math.round(events / produceSeconds).toLocaleString('en-US')} events/s)`,
  )

  const batch = config.ingest.batch_size
  const profileDir = mkdtempSync(join(tmpdir(), 'dw-bench-prof-'))
  const results: Record<string, { eps: number; seconds: number; peak_rss_mb: number; events: number }> = {}
  const only = process.env.BENCH_PHASES?.split(',')
  for (const phase of PHASES) {
    if (only && !only.includes(phase)) continue
    const args = ['--import', 'tsx', join(here, 'ingest-phase.ts'), phase, brokers, topic, String(events)]
    // The pipeline runs once more under the CPU profiler, after its timed run, for the summary.
    const runs =
      phase === 'pipeline' ? [args, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...args]] : [args]
    for (const [n, argv] of runs.entries()) {
      const run = spawnSync(process.execPath, argv, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 15 * 60_000,
      })
      const line = run.stdout.trim().split('\n').pop() ?? ''
      if (run.status !== 0 || !line.startsWith('{'))
        throw new Error(`phase ${phase} failed (exit ${run.status}): ${run.stdout}`)
      if (n > 0) continue
      results[phase] = JSON.parse(line)
      const r = results[phase]!
      console.log(
        `  ${phase.padEnd(8)} ${r.eps.toLocaleString('en-US').padStart(9)} events/s  (${r.events.toLocaleString('en-US')} in ${r.seconds.toFixed(2)} s, peak RSS ${r.peak_rss_mb} MB) ${DESCRIPTION[phase]}`,
      )
    }
  }
  if (only && PHASES.some((p) => !results[p])) {
    console.log(JSON.stringify({ phases: results }))
    process.exit(0)
  }
  const eps = (phase: string) => results[phase]!.eps
  const consume = eps('consume')
  const best = Math.max(eps('client'), eps('raw'))
  const pipelineEps = eps('pipeline')
  const ratio = round3(pipelineEps / Math.min(consume, best))
  const ratioRaw = round3(pipelineEps / eps('raw'))
  const limit = consume < best ? 'the Kafka client (consume)' : 'the ClickHouse insert'
  console.log(
    `  ratio pipeline / min(consume, best insert at ${batch} rows) = ${ratio}; the slower raw stage is ${limit}`,
  )
  console.log(`  ratio pipeline / raw passthrough insert at ${batch} rows = ${ratioRaw} (target >= 0.8)`)
  console.log(
    `  pipeline ${pipelineEps >= 50_000 ? 'meets' : 'misses'} the 50,000 events/s target; peak RSS ${results.pipeline!.peak_rss_mb} MB (target <= 400)`,
  )
  const profileFile = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))
  const profile = profileFile ? summarizeProfile(join(profileDir, profileFile)) : undefined
  rmSync(profileDir, { recursive: true, force: true })
  if (profile) {
    console.log(`  pipeline main thread, ${profile.total_ms} ms profiled (a second, profiled run):`)
    for (const [name, share] of Object.entries(profile.categories))
      console.log(`    ${(share * 100).toFixed(1).padStart(5)} %  ${name}`)
    console.log('    top functions by self time:')
    for (const f of profile.top)
      console.log(`    ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.fn} ${f.where}`)
  }
  console.log(
    JSON.stringify({
      pipeline_eps: pipelineEps,
      consume_eps: consume,
      insert_eps: best,
      ratio,
      peak_rss_mb: results.pipeline!.peak_rss_mb,
      insert_paths: { client: eps('client'), raw: eps('raw'), bulk: eps('bulk') },
      ratio_raw: ratioRaw,
      batch_size: batch,
      peak_rss_mb_by_phase: Object.fromEntries(PHASES.map((p) => [p, results[p]!.peak_rss_mb])),
      profile: profile?.categories,
    }),
  )
} finally {
  await stopKafka?.()
}
