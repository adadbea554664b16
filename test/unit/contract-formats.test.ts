import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js'
import { describe, expect, it } from 'vitest'
import { createDecoder } from '../../contract/decode.ts'
import { createEncoder, InvalidInteractionError, WIRE_FORMATS } from '../../contract/encode.ts'
import type { Interaction } from '../../contract/interaction.ts'
import { ConfigError } from '../../lib/errors.ts'
import { interactionJsonBytes, syntheticInteraction } from '../../producers/synthetic.ts'

const topic = 'llm.interactions'
// Enough events to cover nulls (errors, timeouts), refusals, feedback and every segment.
const events: Interaction[] = Array.from({ length: 60 }, (_, i) =>
  syntheticInteraction(i, { seed: 3, errorRate: 0.2, timeoutRate: 0.1 }),
)

describe('wire formats decode to the same Interaction as their plain-JSON twin', () => {
  const registry = new MockClient()
  const decoder = createDecoder({ registry })

  for (const format of WIRE_FORMATS) {
    for (const schemaIdIn of ['prefix', 'header'] as const) {
      if (format === 'json' && schemaIdIn === 'header') continue
      it(`${format}, schema id in ${schemaIdIn}`, async () => {
        const encoder = await createEncoder(format, { registry, topic, schemaIdIn })
        for (const event of events) {
          const twin = await decoder.decode({ value: interactionJsonBytes(event) }, topic)
          const message = await encoder.encode(event)
          expect(await decoder.decode(message, topic)).toStrictEqual(twin)
          expect(twin).toStrictEqual(event)
        }
      })
    }
  }

  it('frames as the Confluent wire format: 0x00 + big-endian id, or 0x01 + GUID in __value_schema_id', async () => {
    const avro = await createEncoder('avro', { registry, topic })
    const prefixed = await avro.encode(events[0]!)
    expect(prefixed.value[0]).toBe(0)
    expect(prefixed.value.readInt32BE(1)).toBe(avro.schemaId)
    expect(prefixed.headers).toBeUndefined()

    const headed = await (
      await createEncoder('json-schema', { registry, topic, schemaIdIn: 'header' })
    ).encode(events[0]!)
    const id = headed.headers!.__value_schema_id!
    expect(id[0]).toBe(1)
    expect(id.length).toBe(17)
    // The body is bare JSON; the header, not the first byte, makes it a framed message.
    expect(headed.value[0]).toBe(0x7b)
  })

  it('reads the last value when a header repeats (as DualSchemaIdDeserializer does)', async () => {
    const message = await (await createEncoder('protobuf', { registry, topic, schemaIdIn: 'header' })).encode(
      events[1]!,
    )
    const headers = { __value_schema_id: [Buffer.from([0x01, 0x02]), message.headers!.__value_schema_id!] }
    expect(await decoder.decode({ value: message.value, headers }, topic)).toStrictEqual(events[1])
  })

  it('every format registers once under <topic>-value and reuses its id', async () => {
    const first = await createEncoder('avro', { registry, topic: 'other' })
    const again = await createEncoder('avro', { registry, topic: 'other' })
    expect(again.schemaId).toBe(first.schemaId)
    expect(await registry.getAllSubjects()).toContain('other-value')
  })

  it('producer-side input forms (ISO timestamp, string context) encode to the normalised event', async () => {
    const event = events[2]!
    const input = {
      ...event,
      timestamp: new Date(event.timestamp).toISOString(),
      context: event.context[0] ?? '',
      unknown_field: 1,
    }
    for (const format of ['json', 'avro', 'protobuf'] as const) {
      const message = await (await createEncoder(format, { registry, topic })).encode(input)
      expect(await decoder.decode(message, topic)).toStrictEqual(event)
    }
  })

  it('refuses to encode an invalid interaction, naming the field', async () => {
    const encoder = await createEncoder('avro', { registry, topic })
    await expect(encoder.encode({ ...events[0]!, latency_ms: -1 })).rejects.toThrow(InvalidInteractionError)
    await expect(encoder.encode({ ...events[0]!, latency_ms: -1 })).rejects.toThrow(
      'latency_ms: expected number >= 0',
    )
  })

  it('a framed format without a registry is a configuration error', async () => {
    await expect(createEncoder('protobuf', { topic })).rejects.toThrow(ConfigError)
  })
})
