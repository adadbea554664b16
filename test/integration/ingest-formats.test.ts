// Schema-registry framed messages (Avro, JSON Schema, Protobuf; schema id in the prefix or
// in headers) become exactly the same rows as their plain-JSON twins; a registry outage is
// waited out, never dead-lettered.
import { once } from 'node:events'
import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js'
import { RestError } from '@confluentinc/schemaregistry/dist/rest-error.js'
import type { Message } from 'kafkajs'
import { afterAll, describe, expect, it } from 'vitest'
import { createDecoder, createRegistryClient } from '../../contract/decode.ts'
import { createEncoder, type WireFormat } from '../../contract/encode.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'
import type { Store } from '../../store/store.ts'
import { countRows, produceRaw, runIngestUntilCaughtUp } from '../helpers/ingest.ts'
import { createTopic, getBrokers, testKafka, uniqueTopic } from '../helpers/kafka.ts'
import { createTestStore } from '../helpers/store.ts'

const N = 300
const registry = createRegistryClient({ mock: true })
const stores: Store[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
})

async function ingestAs(
  format: WireFormat,
  schemaIdIn: 'prefix' | 'header',
): Promise<Record<string, unknown>[]> {
  const brokers = getBrokers()
  const topic = uniqueTopic(`fmt-${format}-${schemaIdIn}`)
  await createTopic(brokers, topic, 3)
  const encoder = await createEncoder(format, { registry, topic, schemaIdIn })
  const messages: Message[] = []
  for (let i = 0; i < N; i++) {
    const interaction = syntheticInteraction(i, { seed: 41 })
    messages.push({ key: interaction.request_id, ...(await encoder.encode(interaction)) })
  }
  await produceRaw(brokers, topic, messages)
  const store = await createTestStore()
  stores.push(store)
  await runIngestUntilCaughtUp({
    brokers,
    store,
    topics: [topic],
    groupId: `${topic}.g`,
    decoder: createDecoder({ registry, maxMessageBytes: 1 << 20 }),
  })
  return store.query(
    'SELECT * EXCEPT (kafka_topic, kafka_partition, kafka_offset, ingested_at) FROM interactions ORDER BY request_id',
  )
}

describe('ingest: wire formats', () => {
  let twin: Record<string, unknown>[]

  it('plain JSON twin', async () => {
    twin = await ingestAs('json', 'prefix')
    expect(twin).toHaveLength(N)
  })

  it.each([
    ['avro', 'prefix'],
    ['avro', 'header'],
    ['json-schema', 'prefix'],
    ['json-schema', 'header'],
    ['protobuf', 'prefix'],
  ] as const)('%s with the schema id in the %s gives the same rows', async (format, where) => {
    const rows = await ingestAs(format, where)
    expect(rows).toHaveLength(N)
    expect(rows).toEqual(twin)
  })
})

describe('ingest: schema registry outage', () => {
  /** The real mock registry, answering 503 (as a registry behind a failing proxy does) while `down`. */
  class OutageRegistry extends MockClient {
    down = false
    failures = 0
    override async getBySubjectAndId(subject: string, id: number, format?: string) {
      if (this.down) {
        this.failures++
        throw new RestError('Service Unavailable', 503, 50301)
      }
      return super.getBySubjectAndId(subject, id, format)
    }
  }

  it('retries while the registry is down, stores every row once it is back, dead-letters nothing', async () => {
    const brokers = getBrokers()
    const topic = uniqueTopic('fmt-registry-outage')
    await createTopic(brokers, topic, 1)
    await createTopic(brokers, `${topic}.dlq`, 1)
    const flaky = new OutageRegistry()
    const encoder = await createEncoder('avro', { registry: flaky, topic, schemaIdIn: 'prefix' })
    const messages: Message[] = []
    for (let i = 0; i < 20; i++) {
      const interaction = syntheticInteraction(i, { seed: 7 })
      messages.push({ key: interaction.request_id, ...(await encoder.encode(interaction)) })
    }
    await produceRaw(brokers, topic, messages)
    const store = await createTestStore()
    stores.push(store)
    flaky.down = true
    const consumer = await runIngestUntilCaughtUp({
      brokers,
      store,
      topics: [topic],
      groupId: `${topic}.g`,
      deadLetterTopic: `${topic}.dlq`,
      decoder: createDecoder({ registry: flaky }),
      whileRunning: async (c) => {
        await once(c, 'storeUnavailable')
        await new Promise((resolve) => setTimeout(resolve, 300))
        flaky.down = false
      },
    })
    expect(flaky.failures).toBeGreaterThan(0)
    expect(consumer.totals).toMatchObject({ stored: 20, poisoned: 0 })
    expect(consumer.totals.retries).toBeGreaterThan(0)
    expect(await countRows(store)).toEqual({ rows: 20, unique: 20 })
    expect(await store.query('SELECT count() AS n FROM ingest_errors')).toEqual([{ n: 0 }])
    const admin = testKafka(brokers).admin()
    await admin.connect()
    try {
      const [dlq] = await admin.fetchTopicOffsets(`${topic}.dlq`)
      expect(dlq!.high).toBe('0')
    } finally {
      await admin.disconnect()
    }
  })
})
