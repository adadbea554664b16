// The store answers errors for a while mid-stream, then recovers, while producing (valid
// and poison messages) goes on. Retriable answers (TOO_MANY_PARTS, timeouts, even after
// the rows were stored) and non-retriable ones (UNKNOWN_TABLE) are all retried in place,
// with the same dedup token: thrown to kafkajs, a non-retriable one ended the consumer
// (KafkaJSNonRetriableError, which kafkajs does not restart).
// Every message ends up stored or recorded exactly once. And a store slower than the
// session timeout: the broker drops the member mid-insert, its commit is refused, and it
// must rejoin (kafkajs wrapped the refusal so that the consumer ended for good).

import { afterAll, describe, expect, it } from 'vitest'
import type { Store } from '../../store/store.ts'
import {
  expectExactlyOnce,
  keepEveryCopy,
  startIngest,
  startProducing,
  testConfig,
} from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'
import {
  clickHouseException,
  clientTimeout,
  createTestStore,
  faultyStore,
  type StoreCall,
  type StoreFault,
} from '../helpers/store.ts'
import { until } from '../helpers/wait.ts'

const stores: Store[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
})

const tooManyParts = () =>
  clickHouseException(
    252,
    'TOO_MANY_PARTS',
    'Too many parts (300 with average size of 1.00 MiB) in table interactions',
  )
const unknownTable = () =>
  clickHouseException(60, 'UNKNOWN_TABLE', 'Table driftwatch.ingest_errors does not exist')

interface Case {
  name: string
  fault: (call: StoreCall, table: string | undefined) => StoreFault | undefined
}

const CASES: Case[] = [
  {
    name: 'TOO_MANY_PARTS on every call',
    fault: () => ({ when: 'before', error: tooManyParts }),
  },
  {
    name: 'timeouts, inserts timing out after the rows were stored',
    fault: (call) => ({ when: call === 'query' ? 'before' : 'after', error: clientTimeout }),
  },
  {
    name: 'UNKNOWN_TABLE (not retriable) on ingest_errors, after the chunk’s rows were stored',
    fault: (call, table) =>
      call === 'insert' && table === 'ingest_errors' ? { when: 'before', error: unknownTable } : undefined,
  },
  {
    name: 'UNKNOWN_TABLE (not retriable) on every call',
    fault: () => ({ when: 'before', error: unknownTable }),
  },
]

describe('ingest: the store answers errors for a while', () => {
  it.each(CASES)('$name: every message stored or recorded exactly once', async ({ fault }) => {
    const brokers = getBrokers()
    const topic = uniqueTopic('store-errors')
    await createTopic(brokers, topic, 3)
    await createTopic(brokers, `${topic}.dlq`, 1)
    const real = await createTestStore()
    stores.push(real)
    await keepEveryCopy(real)
    let failing = false
    const store = faultyStore(real, (call, table) => (failing ? fault(call, table) : undefined))
    const config = testConfig(brokers, {
      ingest: { batch_size: 1000, flush_interval_ms: 200, retry_initial_ms: 50, retry_max_ms: 500 },
    })

    const producing = await startProducing(brokers, topic, { seed: 51, batch: 500, poisonPerBatch: 2 })
    const ingest = await startIngest({ brokers, store, topics: [topic], groupId: `${topic}.g`, config })
    let recovered = 0
    ingest.consumer.on('storeRecovered', () => recovered++)
    const { totals } = ingest.consumer
    try {
      await until('rows stored before the fault', () => totals.stored >= 3_000 && totals.poisoned > 0)
      failing = true
      const producedAtFault = producing.produced()
      await until(
        'the store to answer several errors while producing goes on',
        () => store.faults.failed >= 6 && producing.produced() >= producedAtFault + 1_500,
      )
      failing = false
      const storedAtRecovery = totals.stored
      const poisonedAtRecovery = totals.poisoned
      await until(
        'ingest to go on after the store recovered',
        () => totals.stored >= storedAtRecovery + 3_000 && totals.poisoned > poisonedAtRecovery,
      )
      const produced = await producing.stop()
      await ingest.waitCaughtUp()
      await ingest.stop()

      await expectExactlyOnce(real, { topic, valid: produced, poison: producing.poisoned() })
      // Retried in place, and said so when it ended.
      expect(totals.retries).toBeGreaterThan(0)
      expect(recovered).toBeGreaterThan(0)
    } finally {
      failing = false
      await producing.stop()
      await ingest.stop()
    }
  })

  it('answering slower than the session timeout: the member is dropped, rejoins, and stores nothing twice', async () => {
    const brokers = getBrokers()
    const topic = uniqueTopic('store-slow')
    await createTopic(brokers, topic, 3)
    const real = await createTestStore()
    stores.push(real)
    await keepEveryCopy(real)
    let slow = false
    // Every partition's insert takes 9 s: no chunk ends, so nothing heartbeats for longer
    // than the 6 s session and the broker drops the member while its rows are being stored.
    const store = faultyStore(real, (call) => (slow && call === 'insertRaw' ? { slowMs: 9_000 } : undefined))
    const config = testConfig(brokers, {
      ingest: {
        batch_size: 1000,
        flush_interval_ms: 200,
        session_timeout_ms: 6000,
        partitions_concurrently: 3,
      },
    })
    const producing = await startProducing(brokers, topic, { seed: 53, batch: 500 })
    const ingest = await startIngest({ brokers, store, topics: [topic], groupId: `${topic}.g`, config })
    const { totals } = ingest.consumer
    try {
      await until('rows stored before the fault', () => totals.stored >= 3_000)
      slow = true
      await until('an insert in every partition to be slow', () => store.faults.slowed >= 3)
      slow = false
      const storedAtSlow = totals.stored
      await until('ingest to go on after the slow inserts', () => totals.stored >= storedAtSlow + 5_000)
      const produced = await producing.stop()
      await ingest.waitCaughtUp()
      await ingest.stop()
      await expectExactlyOnce(real, { topic, valid: produced, poison: 0 })
      // The member was dropped: the slow chunks' commits were refused and re-read as stored.
      expect(totals.skipped).toBeGreaterThan(0)
    } finally {
      slow = false
      await producing.stop()
      await ingest.stop()
    }
  })
})
