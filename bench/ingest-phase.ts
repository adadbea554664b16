// One phase of the ingest benchmark, in its own process so that speed and memory of one
// phase do not leak into the next. Prints one JSON line: { phase, events, seconds, eps, peak_rss_mb }.
//   consume   raw kafkajs consume rate: fetch every message of the topic, do nothing else
//   insert    raw ClickHouse insert rate: pre-built row batches into the embedded engine
//   pipeline  the real consumer: decode, validate, insert, commit

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../config/load.ts'
import { IngestConsumer } from '../consumers/ingest-consumer.ts'
import { groupLag } from '../consumers/lag.ts'
import { interactionRow } from '../consumers/rows.ts'
import { createDecoder } from '../contract/decode.ts'
import { createKafka } from '../lib/kafka-client.ts'
import { createLogger } from '../lib/log.ts'
import { syntheticInteraction } from '../producers/synthetic.ts'
import { migrate } from '../store/migrate.ts'
import { createStore } from '../store/store.ts'

const [phase, brokers, topic, countText] = process.argv.slice(2)
const count = Number(countText)
const log = createLogger({ level: 'warn' })
const config = parseConfig({
  kafka: { brokers: brokers!.split(',') },
  clickhouse: { data_dir: mkdtempSync(join(tmpdir(), `dw-bench-${phase}-`)), database: 'bench' },
})

let peakRss = 0
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 50)

function report(events: number, seconds: number): void {
  clearInterval(sampler)
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  console.log(
    JSON.stringify({
      phase,
      events,
      seconds,
      eps: Math.round(events / seconds),
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
    }),
  )
}

async function consumeOnly(): Promise<void> {
  const kafka = createKafka({ config: config.kafka, brokers: config.kafka.brokers!, log })
  const consumer = kafka.consumer({
    groupId: `bench-consume-${Date.now()}`,
    minBytes: 1 << 20,
    maxWaitTimeInMs: 1000,
    maxBytesPerPartition: 16 << 20,
    maxBytes: 64 << 20,
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic!], fromBeginning: true })
  let seen = 0
  let started = 0
  const done = new Promise<number>((resolve) => {
    consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: config.ingest.partitions_concurrently,
      eachBatch: async ({ batch }) => {
        if (started === 0) started = performance.now()
        seen += batch.messages.length
        if (seen >= count) resolve(performance.now())
      },
    })
  })
  const ended = await done
  report(seen, (ended - started) / 1000)
  await consumer.disconnect()
}

async function insertOnly(): Promise<void> {
  const store = await createStore(config.clickhouse)
  await migrate(store)
  const size = config.ingest.batch_size
  // 20 distinct pre-built batches, inserted in turn: rows are realistic, memory stays small.
  const batches = Array.from({ length: 20 }, (_, b) =>
    Array.from({ length: size }, (_, i) =>
      interactionRow(syntheticInteraction(b * size + i, { seed: 3 }), {
        topic: 't',
        partition: 0,
        offset: String(b * size + i),
      }),
    ),
  )
  const started = performance.now()
  let inserted = 0
  for (let b = 0; inserted < count; b++) {
    const batch = batches[b % batches.length]!.slice(0, count - inserted)
    await store.insert('interactions', batch, { compact: true })
    inserted += batch.length
  }
  report(inserted, (performance.now() - started) / 1000)
  await store.close()
}

async function pipeline(): Promise<void> {
  const store = await createStore(config.clickhouse)
  await migrate(store)
  const kafka = createKafka({ config: config.kafka, brokers: config.kafka.brokers!, log })
  const groupId = `bench-pipeline-${Date.now()}`
  const consumer = new IngestConsumer({
    kafka,
    store,
    decoder: createDecoder({ maxMessageBytes: config.ingest.max_message_bytes }),
    topics: [topic!],
    groupId,
    deadLetterTopic: `${topic}.dlq`,
    config: config.ingest,
    log,
  })
  const admin = kafka.admin()
  await admin.connect()
  let started = 0
  consumer.once('chunk', (c) => {
    started = performance.now() - c.durationMs
  })
  let ended = 0
  const finished = new Promise<void>((resolve) => {
    consumer.on('chunk', () => {
      if (consumer.totals.stored + consumer.totals.poisoned >= count) {
        ended = performance.now()
        resolve()
      }
    })
  })
  await consumer.start()
  await finished
  const lag = await groupLag(admin, groupId, [topic!])
  report(consumer.totals.stored, (ended - started) / 1000)
  if (lag.total !== 0) console.error(`pipeline: lag ${lag.total} after the last chunk`)
  await consumer.stop()
  await admin.disconnect()
  await store.close()
}

const phases: Record<string, () => Promise<void>> = { consume: consumeOnly, insert: insertOnly, pipeline }
await phases[phase!]!()
process.exit(0)
