// Nothing lost, nothing doubled: 100,000 interactions over 3 partitions through a real
// Kafka broker into the embedded ClickHouse engine; a crash between insert and commit;
// ClickHouse unavailable for seconds mid-stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ingestBatch, storedOffsets } from '../../consumers/ingest-batch.ts'
import { createDecoder } from '../../contract/decode.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import { toStoreError } from '../../store/errors.ts'
import type { Store } from '../../store/store.ts'
import {
  expectExactlyOnce,
  keepEveryCopy,
  produceJson,
  runIngestUntilCaughtUp,
  testConfig,
  testLog,
} from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'
import { createTestStore } from '../helpers/store.ts'

const N = 100_000
let brokers: string
const stores: Store[] = []

beforeAll(() => {
  brokers = getBrokers()
})
afterAll(async () => {
  for (const s of stores) await s.close()
})

async function freshStore(): Promise<Store> {
  const store = await createTestStore()
  stores.push(store)
  await keepEveryCopy(store)
  return store
}

describe('ingest: exactly once into ClickHouse', () => {
  it('stores 100,000 interactions over 3 partitions exactly once', async () => {
    const topic = uniqueTopic('exactly-once')
    await createTopic(brokers, topic, 3)
    await produceJson(brokers, topic, N, { seed: 11 })
    const store = await freshStore()
    const consumer = await runIngestUntilCaughtUp({ brokers, store, topics: [topic], groupId: `${topic}.g` })
    await expectExactlyOnce(store, { valid: N, poison: 0 })
    expect(consumer.totals).toMatchObject({ stored: N, poisoned: 0 })
    const perPartition = await store.query<{ p: number; n: number }>(
      'SELECT kafka_partition AS p, count() AS n FROM interactions GROUP BY p ORDER BY p',
    )
    expect(perPartition.map((r) => r.p)).toEqual([0, 1, 2])
  })

  it('does not double rows inserted by a run that crashed before committing', async () => {
    const topic = uniqueTopic('crash-before-commit')
    await createTopic(brokers, topic, 1)
    await produceJson(brokers, topic, 3000, { seed: 12 })
    const store = await freshStore()

    // The crashed run: it fetched offsets 0..1999 and inserted them, then died before its commit.
    const kafka = createKafka({
      config: testConfig(brokers).kafka,
      brokers: brokers.split(','),
      log: testLog,
    })
    const peek = kafka.consumer({ groupId: `${topic}.peek` })
    await peek.connect()
    await peek.subscribe({ topics: [topic], fromBeginning: true })
    const fetched: import('kafkajs').KafkaMessage[] = []
    await new Promise<void>((resolve) => {
      // The position advances (batches auto-resolved) but nothing is ever committed.
      peek.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          fetched.push(...batch.messages)
          if (fetched.length >= 2000) resolve()
        },
      })
    })
    await peek.disconnect()
    const decoder = createDecoder({ maxMessageBytes: 1 << 20 })
    const noDlq = { send: async () => {} }
    await ingestBatch({ topic, partition: 0 }, fetched.slice(0, 2000), new Set(), {
      store,
      decoder,
      deadLetters: noDlq,
    })
    expect((await storedOffsets(store, { topic, partition: 0 }, '0')).size).toBe(2000)

    // The restarted consumer reads from offset 0 again (nothing was committed).
    const consumer = await runIngestUntilCaughtUp({ brokers, store, topics: [topic], groupId: `${topic}.g` })
    await expectExactlyOnce(store, { valid: 3000, poison: 0 })
    expect(consumer.totals.skipped).toBe(2000)
    expect(consumer.totals.stored).toBe(1000)
  })

  it('keeps everything while ClickHouse is unavailable for seconds, and resumes by itself', async () => {
    const topic = uniqueTopic('store-outage')
    await createTopic(brokers, topic, 3)
    await produceJson(brokers, topic, N, { seed: 13 })
    const real = await freshStore()
    let down = false
    // The outage is injected at the client boundary: every call fails the way a refused
    // connection does, through the same error mapping.
    const outage = () => {
      if (down)
        throw toStoreError(
          Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }),
        )
    }
    const store: Store = {
      ...real,
      insert: async (...args) => {
        outage()
        return real.insert(...args)
      },
      insertRaw: async (...args) => {
        outage()
        return real.insertRaw(...args)
      },
      query: (async (...args: Parameters<Store['query']>) => {
        outage()
        return real.query(...args)
      }) as Store['query'],
    }
    let recovered = 0
    let storedWhenDown = 0
    const consumer = await runIngestUntilCaughtUp({
      brokers,
      store,
      topics: [topic],
      groupId: `${topic}.g`,
      config: testConfig(brokers, { ingest: { retry_initial_ms: 50, retry_max_ms: 500 } }),
      whileRunning: (c) =>
        new Promise<void>((resolve) => {
          c.on('storeRecovered', () => recovered++)
          const onChunk = () => {
            if (c.totals.stored < 20_000 || down) return
            c.off('chunk', onChunk)
            down = true
            storedWhenDown = c.totals.stored
            setTimeout(() => {
              down = false
              resolve()
            }, 4000)
          }
          c.on('chunk', onChunk)
        }),
    })
    expect(storedWhenDown).toBeGreaterThanOrEqual(20_000)
    expect(storedWhenDown).toBeLessThan(N)
    expect(consumer.totals.retries).toBeGreaterThan(3)
    expect(recovered).toBeGreaterThan(0)
    await expectExactlyOnce(real, { valid: N, poison: 0 })
  })
})
