// Every kind of poison message lands in the dead-letter topic (original bytes, reason and
// source in headers) and in ingest_errors; the good messages around them all land. And
// poison in every partition, at chunk edges and in whole chunks of poison, including a
// partition whose first and last messages are poison: exactly once at the end.
import type { Message } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DLQ_HEADERS } from '../../consumers/dead-letter.ts'
import { createDecoder, createRegistryClient } from '../../contract/decode.ts'
import { interactionJsonBytes, syntheticInteraction } from '../../producers/synthetic.ts'
import type { Store } from '../../store/store.ts'
import {
  expectExactlyOnce,
  keepEveryCopy,
  produceRaw,
  runIngestUntilCaughtUp,
  testConfig,
} from '../helpers/ingest.ts'
import { createTopic, getBrokers, readMessages, uniqueTopic } from '../helpers/kafka.ts'
import { createTestStore } from '../helpers/store.ts'

let store: Store
afterAll(async () => {
  await store?.close()
})

const good = (i: number): Message => ({
  key: `g${i}`,
  value: interactionJsonBytes(syntheticInteraction(i, { seed: 31 })),
})
const { request_id: _drop, ...withoutId } = syntheticInteraction(0, { seed: 32 })
const huge = { ...syntheticInteraction(1, { seed: 32 }), user_input: 'x'.repeat(10_000) }

const POISON: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  too_large: Buffer.from(JSON.stringify(huge)),
  not_json: Buffer.from('{"request_id": "abc", broken'),
  schema_invalid: Buffer.from(JSON.stringify(withoutId)),
  bad_magic_byte: Buffer.from([0xff, 0x13, 0x37, 0x00, 0x42]),
  unknown_schema_id: Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0x03, 0xe7]), Buffer.from('avro-bytes')]),
}

describe('ingest: poison messages', () => {
  let brokers: string
  let topic: string
  beforeAll(async () => {
    brokers = getBrokers()
    topic = uniqueTopic('poison')
    await createTopic(brokers, topic, 1)
    await createTopic(brokers, `${topic}.dlq`, 1)
    // good, poison, good, poison, ... so each poison message sits between good ones.
    const messages: Message[] = []
    let g = 0
    for (const [reason, value] of Object.entries(POISON)) {
      messages.push(good(g++), good(g++), { key: reason, value, headers: { 'x-origin': 'test' } })
    }
    messages.push(good(g++), good(g++))
    await produceRaw(brokers, topic, messages)
    store = await createTestStore()
    await keepEveryCopy(store)
  })

  it('dead-letters each kind with its reason and stores every good message', async () => {
    const config = testConfig(brokers, { ingest: { max_message_bytes: 8192 } })
    const consumer = await runIngestUntilCaughtUp({
      brokers,
      store,
      topics: [topic],
      groupId: `${topic}.g`,
      config,
      decoder: createDecoder({ registry: createRegistryClient({ mock: true }), maxMessageBytes: 8192 }),
      deadLetterTopic: `${topic}.dlq`,
    })
    const goodCount = Object.keys(POISON).length * 2 + 2
    await expectExactlyOnce(store, { valid: goodCount, poison: Object.keys(POISON).length })
    expect(consumer.totals).toMatchObject({ stored: goodCount, poisoned: Object.keys(POISON).length })

    const errors = await store.query<{
      reason: string
      raw_base64: string
      kafka_offset: number
      detail: string
    }>('SELECT reason, raw_base64, kafka_offset, detail FROM ingest_errors ORDER BY kafka_offset')
    expect(errors.map((e) => e.reason)).toEqual(Object.keys(POISON))
    for (const e of errors) {
      expect(Buffer.from(e.raw_base64, 'base64').equals(POISON[e.reason]!)).toBe(true)
      expect(e.detail.length).toBeGreaterThan(0)
    }
    expect(errors.find((e) => e.reason === 'schema_invalid')!.detail).toMatch(/request_id/)

    const dlq = await readMessages(brokers, `${topic}.dlq`, {
      done: (count) => count >= Object.keys(POISON).length,
      waitMs: 30_000,
    })
    expect(dlq.map((m) => m.headers![DLQ_HEADERS.reason]!.toString())).toEqual(Object.keys(POISON))
    for (const [i, m] of dlq.entries()) {
      const reason = m.headers![DLQ_HEADERS.reason]!.toString()
      expect((m.value ?? Buffer.alloc(0)).equals(POISON[reason]!)).toBe(true)
      expect(m.key?.toString()).toBe(reason)
      expect(m.headers![DLQ_HEADERS.topic]!.toString()).toBe(topic)
      expect(m.headers![DLQ_HEADERS.partition]!.toString()).toBe('0')
      expect(Number(m.headers![DLQ_HEADERS.offset]!.toString())).toBe(errors[i]!.kafka_offset)
      expect(m.headers!['x-origin']!.toString()).toBe('test')
    }
  })

  it('poison in every partition, first and last of a partition included: every message once', async () => {
    const spread = uniqueTopic('poison-spread')
    const partitions = 3
    await createTopic(brokers, spread, partitions)
    await createTopic(brokers, `${spread}.dlq`, 1)
    const kinds = ['not_json', 'schema_invalid', 'too_large', 'empty'] as const
    // Per partition 40 messages, chunks of 5: poison where (i + p) % 4 === 0 (chunks that
    // start or end with poison), two in a row at 20-21 in partition 0, nine in a row in
    // partition 2 (at least one chunk of nothing but poison, wherever chunks begin), and
    // partition 0 starts and ends with poison.
    const expected: { partition: number; offset: number; reason: string }[] = []
    const messages: Message[] = []
    let g = 1000
    let valid = 0
    for (let p = 0; p < partitions; p++) {
      for (let i = 0; i < 40; i++) {
        const poison =
          (i + p) % 4 === 0 || (p === 0 && [0, 21, 39].includes(i)) || (p === 2 && i >= 10 && i <= 18)
        if (poison) {
          const reason = kinds[(i + p) % kinds.length]!
          expected.push({ partition: p, offset: i, reason })
          messages.push({ partition: p, key: `${reason}-${p}-${i}`, value: POISON[reason]! })
        } else {
          valid++
          messages.push({ partition: p, ...good(g++) })
        }
      }
    }
    expect(expected.filter((e) => e.partition === 0).map((e) => e.offset)).toEqual(
      expect.arrayContaining([0, 39]),
    )
    await produceRaw(brokers, spread, messages)

    const config = testConfig(brokers, { ingest: { max_message_bytes: 8192, batch_size: 5 } })
    const consumer = await runIngestUntilCaughtUp({
      brokers,
      store,
      topics: [spread],
      groupId: `${spread}.g`,
      config,
      deadLetterTopic: `${spread}.dlq`,
    })
    await expectExactlyOnce(store, { topic: spread, valid, poison: expected.length })
    expect(consumer.totals).toMatchObject({ stored: valid, poisoned: expected.length })

    const errors = await store.query<{ partition: number; offset: number; reason: string }>(
      `SELECT kafka_partition AS partition, kafka_offset AS offset, reason FROM ingest_errors
        WHERE kafka_topic = {topic:String} ORDER BY partition, offset`,
      { topic: spread },
    )
    expect(errors).toEqual(expected)
    const rows = await store.query<{ partition: number; n: number }>(
      `SELECT kafka_partition AS partition, count() AS n FROM interactions
        WHERE kafka_topic = {topic:String} GROUP BY partition ORDER BY partition`,
      { topic: spread },
    )
    expect(rows).toEqual(
      [0, 1, 2].map((p) => ({ partition: p, n: 40 - expected.filter((e) => e.partition === p).length })),
    )

    const dlq = await readMessages(brokers, `${spread}.dlq`, {
      done: (count) => count >= expected.length,
      waitMs: 30_000,
    })
    const dead = dlq
      .map((m) => ({
        partition: Number(m.headers![DLQ_HEADERS.partition]!.toString()),
        offset: Number(m.headers![DLQ_HEADERS.offset]!.toString()),
        reason: m.headers![DLQ_HEADERS.reason]!.toString(),
      }))
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    expect(dead).toEqual(expected)
  })
})
