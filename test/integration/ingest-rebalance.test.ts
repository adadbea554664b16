// A second consumer joins the group mid-stream and leaves again while producing goes on:
// partitions move twice (6 → 3+3 → 6) and every interaction ends up stored exactly once.
// The member leaves the hard way: its store times out after storing the rows (so nothing
// is committed) and it stops while retrying, so the member taking its partitions back
// re-reads offsets that are already stored, with other chunk bounds (producing went on),
// and must skip them by looking them up.
//
// Both members run in this process and share one Store: the embedded engine allows one
// data folder per process and the folder is locked to its owner, so two `driftwatch ingest`
// processes cannot share an embedded store (server mode has its own two-process test). Each
// member has its own kafkajs client, connections and group membership, as two processes would.

import { afterAll, describe, expect, it } from 'vitest'
import type { ChunkEvent } from '../../consumers/ingest-consumer.ts'
import type { Store } from '../../store/store.ts'
import {
  expectExactlyOnce,
  keepEveryCopy,
  type StartedIngest,
  startIngest,
  startProducing,
  testConfig,
} from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'
import { clientTimeout, createTestStore, faultyStore } from '../helpers/store.ts'
import { until } from '../helpers/wait.ts'

const PARTITIONS = 6

const stores: Store[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
})

async function countedStore(): Promise<Store> {
  const store = await createTestStore()
  stores.push(store)
  await keepEveryCopy(store)
  return store
}

/** Small chunks: many commits, so each rebalance lands among chunks in flight. */
const ingestConfig = (brokers: string) =>
  testConfig(brokers, {
    ingest: {
      batch_size: 400,
      flush_interval_ms: 200,
      partitions_concurrently: PARTITIONS,
      retry_initial_ms: 50,
      retry_max_ms: 500,
    },
  })

/** Partitions of each chunk a member committed, in order. */
function chunkLog(ingest: StartedIngest): ChunkEvent[] {
  const chunks: ChunkEvent[] = []
  ingest.consumer.on('chunk', (c) => chunks.push(c))
  return chunks
}

describe('ingest: a second consumer joins and leaves mid-stream', () => {
  it('stores every interaction exactly once across both rebalances', async () => {
    const brokers = getBrokers()
    const topic = uniqueTopic('rebalance')
    const groupId = `${topic}.g`
    await createTopic(brokers, topic, PARTITIONS)
    const store = await countedStore()
    const options = { brokers, store, topics: [topic], groupId, config: ingestConfig(brokers) }

    const producing = await startProducing(brokers, topic, { seed: 41, batch: 600 })
    const a = await startIngest(options)
    let b: StartedIngest | undefined
    try {
      const aChunks = chunkLog(a)
      await until('the first member to store rows', () => a.consumer.totals.stored >= 3_000)

      // Join: the group splits the partitions between the two members.
      let timingOut = false
      const bStore = faultyStore(store, (call) =>
        timingOut && call === 'insertRaw' ? { when: 'after', error: clientTimeout } : undefined,
      )
      b = await startIngest({ ...options, store: bStore })
      const bChunks = chunkLog(b)
      const producedAtJoin = producing.produced()
      await until(
        'the second member to store rows while producing goes on',
        () => b!.consumer.totals.stored >= 2_000 && producing.produced() >= producedAtJoin + 2_000,
      )
      const bPartitions = new Set(bChunks.map((c) => c.partition))

      // Leave with rows stored but not committed: the first member takes the partitions back.
      timingOut = true
      await until(
        'the second member to store a chunk it cannot commit',
        () => bStore.faults.doneThenFailed >= 1,
      )
      await b.stop()
      const aChunksBeforeLeave = aChunks.length
      const producedAtLeave = producing.produced()
      await until("the first member to store on the second one's partitions while producing goes on", () => {
        const after = new Set(aChunks.slice(aChunksBeforeLeave).map((c) => c.partition))
        return [...bPartitions].every((p) => after.has(p)) && producing.produced() >= producedAtLeave + 2_000
      })

      const produced = await producing.stop()
      await a.waitCaughtUp()
      await a.stop()

      // Both members really owned partitions: the rows did move.
      expect(bPartitions.size).toBeGreaterThan(0)
      expect(bPartitions.size).toBeLessThan(PARTITIONS)
      await expectExactlyOnce(store, { topic, valid: produced, poison: 0 })
      // The first member found the chunks the second one stored but never committed.
      expect(a.consumer.totals.skipped).toBeGreaterThan(0)
    } finally {
      await producing.stop()
      await b?.stop()
      await a.stop()
    }
  })

  it('a member whose store is down gives its partitions up when another joins, and stores nothing twice', async () => {
    // Before: the member went on retrying inside its batch, so the group could not
    // rebalance; the newcomer waited for the rebalance timeout (60 s), got every partition,
    // and the old member, once its store was back, inserted chunks the newcomer had
    // already stored with other bounds (duplicates).
    const brokers = getBrokers()
    const topic = uniqueTopic('rebalance-down')
    const groupId = `${topic}.g`
    await createTopic(brokers, topic, PARTITIONS)
    const store = await countedStore()
    let aDown = false
    const refused = () =>
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })
    const aStore = faultyStore(store, () => (aDown ? { when: 'before', error: refused } : undefined))
    const options = { brokers, topics: [topic], groupId, config: ingestConfig(brokers) }

    const producing = await startProducing(brokers, topic, { seed: 43, batch: 600 })
    const a = await startIngest({ ...options, store: aStore })
    let b: StartedIngest | undefined
    try {
      await until('the first member to store rows', () => a.consumer.totals.stored >= 3_000)
      aDown = true
      await until('the first member to be retrying', () => aStore.faults.failed >= 3)

      b = await startIngest({ ...options, store })
      const producedAtJoin = producing.produced()
      await until(
        "the second member to store rows while the first one's store is down",
        () => b!.consumer.totals.stored >= 3_000 && producing.produced() >= producedAtJoin + 2_000,
      )
      const aStoredWhileDown = a.consumer.totals.stored
      aDown = false
      await until(
        'the first member to store again',
        () => a.consumer.totals.stored >= aStoredWhileDown + 2_000,
      )

      const produced = await producing.stop()
      await a.waitCaughtUp()
      await b.stop()
      await a.stop()
      await expectExactlyOnce(store, { topic, valid: produced, poison: 0 })
      expect(a.consumer.totals.retries).toBeGreaterThan(0)
    } finally {
      aDown = false
      await producing.stop()
      await b?.stop()
      await a.stop()
    }
  })
})
