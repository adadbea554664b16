// Schema-registry framed messages (Avro, JSON Schema, Protobuf; schema id in the prefix or
// in headers) become exactly the same rows as their plain-JSON twins.
import type { Message } from 'kafkajs'
import { afterAll, describe, expect, it } from 'vitest'
import { createDecoder, createRegistryClient } from '../../contract/decode.ts'
import { createEncoder, type WireFormat } from '../../contract/encode.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'
import type { Store } from '../../store/store.ts'
import { produceRaw, runIngestUntilCaughtUp } from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'
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
