// The consumer returns to kafkajs while a partition's insert is still in flight (so the next
// fetch overlaps it). These tests pin what that must never cost, against the real broker
// and the embedded engine: a rebalance while inserts are in flight doubles no row (the new
// owner cuts the same chunk and ClickHouse drops the repeat by its token), and a failed batch
// skips none of the messages held open for the next chunk.
import { type Kafka, KafkaJSError, type Message } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IngestConsumer } from '../../consumers/ingest-consumer.ts'
import { groupLag } from '../../consumers/lag.ts'
import { createDecoder } from '../../contract/decode.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import type { Store } from '../../store/store.ts'
import {
  countRows,
  expectExactlyOnce,
  keepEveryCopy,
  produceJson,
  produceRaw,
  runIngestUntilCaughtUp,
  testConfig,
  testLog,
} from '../helpers/ingest.ts'
import { createTopic, getBrokers, testKafka, uniqueTopic } from '../helpers/kafka.ts'
import { createTestStore } from '../helpers/store.ts'

let brokers: string
const stores: Store[] = []
beforeAll(() => {
  brokers = getBrokers()
})
afterAll(async () => {
  for (const s of stores) await s.close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The store, with every raw insert landing `delayMs` late (so inserts are in flight when things happen). */
function slowInserts(real: Store, delayMs: number, fail?: (call: number) => Error | undefined): Store {
  let calls = 0
  return {
    ...real,
    insertRaw: async (...args) => {
      const error = fail?.(++calls)
      if (error) throw error
      await sleep(delayMs)
      return real.insertRaw(...args)
    },
  }
}

/** The client, with the consumers' commitOffsets failing when `fail` says so. */
function failingCommits(kafka: Kafka, fail: () => Error | undefined): Kafka {
  return new Proxy(kafka, {
    get(target, key) {
      if (key !== 'consumer') return Reflect.get(target, key).bind(target)
      return (...args: Parameters<Kafka['consumer']>) => {
        const consumer = target.consumer(...args)
        const commit = consumer.commitOffsets.bind(consumer)
        consumer.commitOffsets = async (offsets) => {
          const error = fail()
          if (error) throw error
          return commit(offsets)
        }
        return consumer
      }
    },
  })
}

async function untilCaughtUp(groupId: string, topic: string): Promise<void> {
  const admin = testKafka(brokers).admin()
  await admin.connect()
  try {
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(300)) {
      const lag = await groupLag(admin, groupId, [topic])
      if (lag.partitions.length > 0 && lag.total === 0) return
    }
  } finally {
    await admin.disconnect()
  }
}

/** Poison in every partition, first and last of each among them. */
function poisonFor(partitions: number): Message[] {
  return Array.from({ length: partitions }, (_, partition) => [
    { partition, value: Buffer.from('not json') },
    { partition, value: Buffer.from('{"request_id": 1}') },
  ]).flat()
}

describe('ingest: inserts in flight between fetches', () => {
  it('a consumer joining and leaving while inserts are in flight doubles nothing and loses nothing', async () => {
    const topic = uniqueTopic('overlap-rebalance')
    const partitions = 4
    const N = 60_000
    await createTopic(brokers, topic, partitions)
    await produceRaw(brokers, topic, poisonFor(partitions))
    await produceJson(brokers, topic, N, { seed: 21 })
    await produceRaw(brokers, topic, poisonFor(partitions))
    const real = await createTestStore()
    await keepEveryCopy(real)
    stores.push(real)
    const store = slowInserts(real, 300)
    const config = testConfig(brokers, { ingest: { batch_size: 1000, session_timeout_ms: 10_000 } })
    const groupId = `${topic}.g`
    let second: IngestConsumer | undefined
    const first = await runIngestUntilCaughtUp({
      brokers,
      store,
      topics: [topic],
      groupId,
      config,
      timeoutMs: 240_000,
      whileRunning: async (c) => {
        while (c.totals.stored < 8_000) await sleep(100)
        second = new IngestConsumer({
          kafka: createKafka({ config: config.kafka, brokers: brokers.split(','), log: testLog }),
          store,
          decoder: createDecoder({ maxMessageBytes: config.ingest.max_message_bytes }),
          topics: [topic],
          groupId,
          deadLetterTopic: `${topic}.dlq`,
          config: config.ingest,
          log: testLog,
        })
        await second.start()
        const until = Date.now() + 60_000
        while (second.totals.chunks < 3 && Date.now() < until) await sleep(100)
        await second.stop()
      },
    })
    // The second consumer really took partitions over, with inserts of the first in flight.
    expect(second!.totals.chunks).toBeGreaterThanOrEqual(3)
    expect(first.totals.chunks).toBeGreaterThan(0)
    await expectExactlyOnce(real, { valid: N, poison: 4 * partitions })
  }, 300_000)

  it('a commit that fails with an error kafkajs retries in place skips none of the messages held open', async () => {
    const topic = uniqueTopic('overlap-commit')
    const N = 30_000
    await createTopic(brokers, topic, 3)
    await produceJson(brokers, topic, N, { seed: 22 })
    const real = await createTestStore()
    await keepEveryCopy(real)
    stores.push(real)
    // The 5th commit fails the way a dropped connection does. kafkajs retries the fetch loop
    // itself, from the offsets resolved so far, which lie past messages not stored yet.
    let commits = 0
    const kafka = failingCommits(
      createKafka({ config: testConfig(brokers).kafka, brokers: brokers.split(','), log: testLog }),
      () =>
        ++commits === 5
          ? new KafkaJSError('injected: connection closed while committing', { retriable: true })
          : undefined,
    )
    const config = testConfig(brokers, { ingest: { batch_size: 1500 } })
    const consumer = new IngestConsumer({
      kafka,
      store: slowInserts(real, 20),
      decoder: createDecoder({ maxMessageBytes: config.ingest.max_message_bytes }),
      topics: [topic],
      groupId: `${topic}.g`,
      deadLetterTopic: `${topic}.dlq`,
      config: config.ingest,
      log: testLog,
    })
    await consumer.start()
    try {
      await untilCaughtUp(`${topic}.g`, topic)
    } finally {
      await consumer.stop()
    }
    expect(commits).toBeGreaterThan(5)
    await expectExactlyOnce(real, { valid: N, poison: 0 })
  }, 180_000)

  it('a consumer that crashes on a bug with inserts in flight says so, and the next run stores the rest once', async () => {
    const topic = uniqueTopic('overlap-crash')
    const N = 30_000
    await createTopic(brokers, topic, 3)
    await produceJson(brokers, topic, N, { seed: 23 })
    const real = await createTestStore()
    await keepEveryCopy(real)
    stores.push(real)
    const config = testConfig(brokers, { ingest: { batch_size: 1500 } })
    const make = (store: Store) =>
      new IngestConsumer({
        kafka: createKafka({ config: config.kafka, brokers: brokers.split(','), log: testLog }),
        store,
        decoder: createDecoder({ maxMessageBytes: config.ingest.max_message_bytes }),
        topics: [topic],
        groupId: `${topic}.g`,
        deadLetterTopic: `${topic}.dlq`,
        config: config.ingest,
        log: testLog,
      })
    // The 6th insert throws a programming error: not retried, kafkajs does not restart.
    const crashing = make(
      slowInserts(real, 50, (call) => (call === 6 ? new TypeError('injected bug') : undefined)),
    )
    await crashing.start()
    const error = await crashing.failed
    expect(error.message).toContain('injected bug')
    await crashing.stop()
    const stored = (await countRows(real)).rows
    expect(stored).toBeLessThan(N)
    await runIngestUntilCaughtUp({ brokers, store: real, topics: [topic], groupId: `${topic}.g`, config })
    await expectExactlyOnce(real, { valid: N, poison: 0 })
  }, 180_000)
})
