// Proves the local KRaft broker is a real Kafka for kafkajs (produce, group consume, commit,
// admin offsets) and that `kafka up|status|down` is idempotent and leaves no process behind.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EachBatchPayload, Partitioners } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  isBroker,
  kafkaDown,
  kafkaStatus,
  kafkaUp,
  type LocalKafka,
  startLocalKafka,
} from '../../infra/kafka-local.ts'
import { createTopic, readMessages, testKafka, uniqueTopic } from '../helpers/kafka.ts'

const MESSAGES = 1_000

describe('local Kafka broker with kafkajs', () => {
  let brokers: string
  let own: LocalKafka | undefined
  let dataDir: string | undefined

  beforeAll(async () => {
    const provided = inject('kafkaBrokers')
    if (provided) {
      brokers = provided
      return
    }
    dataDir = await mkdtemp(join(tmpdir(), 'driftwatch-kafka-test-'))
    own = await startLocalKafka({ dataDir })
    brokers = own.brokers
  }, 300_000)

  afterAll(async () => {
    await own?.stop()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('produces 1,000 messages over 3 partitions, consumes them in a group, commits and reads committed offsets', async () => {
    const topic = uniqueTopic('it.kafka')
    const groupId = uniqueTopic('it.group')
    await createTopic(brokers, topic, 3)
    const kafka = testKafka(brokers)

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    const messages = Array.from({ length: MESSAGES }, (_, i) => ({
      key: `k${i}`,
      value: JSON.stringify({ i }),
    }))
    await producer.send({ topic, messages })
    await producer.disconnect()

    const admin = kafka.admin()
    await admin.connect()
    const ends = await admin.fetchTopicOffsets(topic)
    expect(ends).toHaveLength(3)
    expect(ends.every((p) => Number(p.high) > 0)).toBe(true)
    expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(MESSAGES)

    const seen = new Set<number>()
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000 })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
          for (const message of batch.messages) {
            seen.add((JSON.parse(String(message.value)) as { i: number }).i)
            resolveOffset(message.offset)
          }
          const next = (BigInt(batch.lastOffset()) + 1n).toString()
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }])
          await heartbeat()
          if (seen.size === MESSAGES) resolve()
        },
      })
    })
    await done
    await consumer.disconnect()
    expect(seen.size).toBe(MESSAGES)

    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
    const byPartition = new Map(committed?.partitions.map((p) => [p.partition, p.offset]))
    for (const end of ends) expect(byPartition.get(end.partition)).toBe(end.high)
    await admin.disconnect()
  }, 120_000)
})

describe('kafka up / status / down', () => {
  let stateDir: string

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'driftwatch-kafka-state-'))
  })

  afterAll(async () => {
    await kafkaDown({ stateDir })
    await rm(stateDir, { recursive: true, force: true })
  })

  it('reuses a running broker, reports status, and stops it with no process left', async () => {
    const first = await kafkaUp({ stateDir })
    expect(first.reused).toBe(false)
    expect(first.brokers).toMatch(/^127\.0\.0\.1:\d+$/)

    const second = await kafkaUp({ stateDir })
    expect(second).toEqual({ ...first, reused: true })

    const running = await kafkaStatus({ stateDir })
    expect(running).toMatchObject({ running: true, brokers: first.brokers, pid: first.pid })

    // A message written before `down` is there after `up`.
    const topic = uniqueTopic('it.updown')
    await createTopic(first.brokers, topic, 1)
    const producer = testKafka(first.brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    await producer.send({ topic, messages: [{ value: 'kept' }], acks: -1 })
    await producer.disconnect()

    expect(await kafkaDown({ stateDir })).toEqual({ stopped: true })
    expect((await kafkaStatus({ stateDir })).running).toBe(false)
    expect(isBroker(first.pid)).toBe(false)
    expect(await kafkaDown({ stateDir })).toEqual({ stopped: false })

    // Same port (a client given the address before `down` reconnects), same data.
    const again = await kafkaUp({ stateDir })
    expect(again.reused).toBe(false)
    expect(again.brokers).toBe(first.brokers)
    expect((await kafkaStatus({ stateDir })).running).toBe(true)
    const kept = await readMessages(again.brokers, topic, { done: (n) => n >= 1, waitMs: 30_000 })
    expect(kept.map((m) => String(m.value))).toEqual(['kept'])
    await kafkaDown({ stateDir })
    expect(isBroker(again.pid)).toBe(false)
  }, 180_000)
})
