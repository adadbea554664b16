// One phase of the ingest benchmark, in its own process so that speed and memory of one
// phase do not leak into the next. Prints one JSON line: { phase, events, seconds, eps, peak_rss_mb }.
//   consume   raw kafkajs consume rate: fetch every message of the topic, do nothing else
//   client    @clickhouse/client insert of pre-built row objects (JSONCompactEachRow), batch_size rows each
//   raw       chDB's raw passthrough insert of pre-encoded JSONCompactEachRow lines, batch_size rows each
//   bulk      the engine parsing every row from one file: INSERT ... SELECT FROM file(...)
//   pipeline  the real consumer: decode, validate, encode, raw insert, commit

import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../config/load.ts'
import { IngestConsumer } from '../consumers/ingest-consumer.ts'
import { groupLag } from '../consumers/lag.ts'
import { INTERACTION_COLUMNS, interactionLine, interactionRow } from '../consumers/rows.ts'
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
  ingest: {
    ...(process.env.BENCH_BATCH ? { batch_size: Number(process.env.BENCH_BATCH) } : {}),
    ...(process.env.BENCH_CONCURRENCY
      ? { partitions_concurrently: Number(process.env.BENCH_CONCURRENCY) }
      : {}),
  },
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

/** 20 distinct pre-encoded bodies of batch_size lines, inserted in turn. */
async function rawOnly(): Promise<void> {
  const store = await createStore(config.clickhouse)
  await migrate(store)
  const size = config.ingest.batch_size
  const bodies = Array.from({ length: 20 }, (_, b) =>
    Buffer.from(
      Array.from({ length: size }, (_, i) =>
        interactionLine(syntheticInteraction(b * size + i, { seed: 3 }), {
          topic: 't',
          partition: 0,
          offset: String(b * size + i),
        }),
      ).join('\n'),
    ),
  )
  const started = performance.now()
  let inserted = 0
  for (let b = 0; inserted < count; b++) {
    const rows = Math.min(size, count - inserted)
    const body =
      rows === size ? bodies[b % bodies.length]! : bodies[0]!.subarray(0, lineEnd(bodies[0]!, rows))
    await store.insertRaw('interactions', body, {
      format: 'JSONCompactEachRow',
      columns: INTERACTION_COLUMNS,
      dedupToken: `bench:${b}`,
    })
    inserted += rows
  }
  report(inserted, (performance.now() - started) / 1000)
  await store.close()
}

/** Byte offset just past the first `rows` lines. */
function lineEnd(body: Buffer, rows: number): number {
  let at = -1
  for (let r = 0; r < rows; r++) at = body.indexOf(0x0a, at + 1)
  return at < 0 ? body.length : at
}

/** Every row in one file, parsed by the engine in one INSERT ... SELECT. */
async function bulkOnly(): Promise<void> {
  const store = await createStore(config.clickhouse)
  await migrate(store)
  const file = join(config.clickhouse.data_dir, 'bulk.jsonl')
  // Written 10,000 lines at a time: 500,000 rows in one string would pass V8's string limit.
  const fd = openSync(file, 'w')
  for (let from = 0; from < count; from += 10_000) {
    const lines: string[] = []
    for (let i = from; i < Math.min(count, from + 10_000); i++)
      lines.push(
        JSON.stringify(
          interactionRow(syntheticInteraction(i, { seed: 3 }), {
            topic: 't',
            partition: 0,
            offset: String(i),
          }),
        ),
      )
    writeSync(fd, `${lines.join('\n')}\n`)
  }
  closeSync(fd)
  const columns = INTERACTION_COLUMNS.join(', ')
  const started = performance.now()
  await store.command(
    `INSERT INTO interactions (${columns}) SELECT ${columns} FROM file('${file.replaceAll("'", "\\'")}', 'JSONEachRow')`,
  )
  report(count, (performance.now() - started) / 1000)
  await store.close()
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

const phases: Record<string, () => Promise<void>> = {
  consume: consumeOnly,
  client: insertOnly,
  raw: rawOnly,
  bulk: bulkOnly,
  pipeline,
}
await phases[phase!]!()
rmSync(config.clickhouse.data_dir, { recursive: true, force: true })
process.exit(0)
