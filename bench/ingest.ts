// npm run bench:ingest — the ingest benchmark. Produces >= 500,000 synthetic interactions of
// about 1 KB to a 3-partition topic, then measures side by side, each in a fresh process:
// (a) raw kafkajs consume rate, (b) raw ClickHouse insert rate of pre-built batches,
// (c) the full pipeline (decode, validate, insert, commit). Prints events/s of each, the
// ratio c / min(a, b) and peak RSS, and ends with one JSON line.
// KAFKA_BROKERS uses an existing broker; otherwise a local one is started and stopped.
// BENCH_EVENTS changes the count (default 500000).

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
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

const here = dirname(fileURLToPath(import.meta.url))
const events = Number(process.env.BENCH_EVENTS ?? 500_000)
const log = createLogger({ level: 'warn' })

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
  const config = parseConfig({ kafka: { brokers: brokers.split(',') } })
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

  const results: Record<string, { eps: number; seconds: number; peak_rss_mb: number; events: number }> = {}
  for (const phase of ['consume', 'insert', 'pipeline']) {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(here, 'ingest-phase.ts'), phase, brokers, topic, String(events)],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 15 * 60_000,
      },
    )
    const line = run.stdout.trim().split('\n').pop() ?? ''
    if (run.status !== 0 || !line.startsWith('{'))
      throw new Error(`phase ${phase} failed (exit ${run.status}): ${run.stdout}`)
    results[phase] = JSON.parse(line)
    const r = results[phase]!
    console.log(
      `  ${phase.padEnd(8)} ${r.eps.toLocaleString('en-US').padStart(9)} events/s  (${r.events.toLocaleString('en-US')} in ${r.seconds.toFixed(2)} s, peak RSS ${r.peak_rss_mb} MB)`,
    )
  }
  const a = results.consume!.eps
  const b = results.insert!.eps
  const c = results.pipeline!.eps
  const ratio = Math.round((c / Math.min(a, b)) * 1000) / 1000
  const limit = a < b ? 'the Kafka client (consume)' : 'the ClickHouse insert'
  console.log(
    `  ratio pipeline / min(consume, insert) = ${ratio} (target >= 0.7); the slower raw stage is ${limit}`,
  )
  console.log(`  pipeline ${c >= 30_000 ? 'meets' : 'misses'} the 30,000 events/s target`)
  console.log(
    JSON.stringify({
      pipeline_eps: c,
      consume_eps: a,
      insert_eps: b,
      ratio,
      peak_rss_mb: results.pipeline!.peak_rss_mb,
    }),
  )
} finally {
  await stopKafka?.()
}
