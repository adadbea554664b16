import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js'
import { RestError } from '@confluentinc/schemaregistry/dist/rest-error.js'
import { describe, expect, it } from 'vitest'
import { createDecoder, type DecodableMessage, type Decoder } from '../../contract/decode.ts'
import { createEncoder } from '../../contract/encode.ts'
import { PoisonMessageError, RegistryUnavailableError } from '../../lib/errors.ts'
import { interactionJsonBytes, syntheticInteraction } from '../../producers/synthetic.ts'

const topic = 'llm.interactions'
const sample = syntheticInteraction(1, { seed: 11 })
const json = interactionJsonBytes(sample)

async function poisonOf(decoder: Decoder, message: DecodableMessage): Promise<PoisonMessageError> {
  try {
    await decoder.decode(message, topic)
  } catch (error) {
    if (error instanceof PoisonMessageError) return error
    throw error
  }
  throw new Error('expected the message to be poison')
}

describe('decode: plain JSON', () => {
  const decoder = createDecoder({ maxMessageBytes: 4096 })

  it('decodes a JSON interaction into the normalised contract', async () => {
    await expect(decoder.decode({ value: json }, topic)).resolves.toEqual(sample)
  })

  it('accepts a UTF-8 BOM and leading whitespace', async () => {
    const value = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(' \n\t'), json])
    await expect(decoder.decode({ value }, topic)).resolves.toEqual(sample)
  })

  it('ignores unrelated headers', async () => {
    await expect(
      decoder.decode({ value: json, headers: { traceparent: Buffer.from('00-abc') } }, topic),
    ).resolves.toEqual(sample)
  })
})

describe('decode: poison reasons', () => {
  const decoder = createDecoder({ maxMessageBytes: 4096 })

  it('empty: null value (tombstone), zero bytes, only whitespace', async () => {
    for (const value of [null, Buffer.alloc(0), Buffer.from('  \r\n')]) {
      const error = await poisonOf(decoder, { value })
      expect(error.reason).toBe('empty')
      expect(error.retriable).toBe(false)
    }
  })

  it('too_large: over maxMessageBytes, checked before parsing', async () => {
    const error = await poisonOf(decoder, { value: Buffer.alloc(5000, 0x7b) })
    expect(error.reason).toBe('too_large')
    expect(error.message).toContain('5000 bytes, over the 4096-byte limit')
  })

  it('not_json: broken JSON and plain text, without quoting the payload', async () => {
    const broken = await poisonOf(decoder, { value: Buffer.from('{"request_id": "secret user text", ') })
    expect(broken.reason).toBe('not_json')
    expect(broken.message).not.toContain('secret')
    const text = await poisonOf(decoder, { value: Buffer.from('hello world') })
    expect(text.reason).toBe('not_json')
  })

  it('schema_invalid: valid JSON that breaks the contract names the fields', async () => {
    const { latency_ms: _omit, ...rest } = sample
    const error = await poisonOf(decoder, {
      value: Buffer.from(JSON.stringify({ ...rest, status: 'maybe' })),
    })
    expect(error.reason).toBe('schema_invalid')
    expect(error.message).toBe(
      'latency_ms: required field is missing (expected number); status: expected one of "ok"|"error"|"timeout"',
    )
  })

  it('schema_invalid: JSON that is not an object (array, string, number)', async () => {
    for (const value of ['[{}]', '"text"', '42', 'null']) {
      const error = await poisonOf(decoder, { value: Buffer.from(value) })
      expect(error.reason).toBe('schema_invalid')
      expect(error.message).toMatch(/^\(root\): expected object/)
    }
  })

  it('bad_magic_byte: binary that is neither JSON nor a Confluent frame', async () => {
    for (const value of [
      Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
      Buffer.from([0xff, 0x00]),
      Buffer.from([0x02, 0x00, 0x00, 0x00, 0x01]),
    ]) {
      const error = await poisonOf(decoder, { value })
      expect(error.reason).toBe('bad_magic_byte')
      expect(error.message).toContain(`0x${value[0]!.toString(16).padStart(2, '0')}`)
    }
  })

  it('bad_magic_byte: a schema id header that is not a schema id', async () => {
    const error = await poisonOf(createDecoder({ registry: new MockClient() }), {
      value: json,
      headers: { __value_schema_id: Buffer.from('abc') },
    })
    expect(error.reason).toBe('bad_magic_byte')
  })

  it('undecodable: a framed message when no registry is configured, with the fix', async () => {
    const error = await poisonOf(decoder, { value: Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]) })
    expect(error.reason).toBe('undecodable')
    expect(error.message).toContain('schema id 7')
    expect(error.fix).toContain('schema_registry.url')
  })

  it('undecodable: a frame shorter than its header', async () => {
    const registryDecoder = createDecoder({ registry: new MockClient() })
    expect((await poisonOf(registryDecoder, { value: Buffer.from([0, 0, 1]) })).reason).toBe('undecodable')
    expect((await poisonOf(registryDecoder, { value: Buffer.from([1, 0xab, 0xcd]) })).reason).toBe(
      'undecodable',
    )
  })

  it('unknown_schema_id: the registry has no such id (prefix and header forms)', async () => {
    const registryDecoder = createDecoder({ registry: new MockClient() })
    const prefix = await poisonOf(registryDecoder, { value: Buffer.from([0, 0, 0, 0x03, 0xe7, 0x02, 0x41]) })
    expect(prefix.reason).toBe('unknown_schema_id')
    expect(prefix.message).toContain('schema id 999')
    const guid = Buffer.concat([Buffer.from([1]), Buffer.alloc(16, 0xab)])
    const header = await poisonOf(registryDecoder, {
      value: Buffer.from([0x02, 0x41]),
      headers: { __value_schema_id: guid },
    })
    expect(header.reason).toBe('unknown_schema_id')
    expect(header.message).toContain('guid abababab-abab-abab-abab-abababababab')
  })

  it('unknown_schema_id is remembered for a while: one registry request for many messages', async () => {
    const registry = new MockClient()
    let lookups = 0
    const original = registry.getBySubjectAndId.bind(registry)
    registry.getBySubjectAndId = (...args) => {
      lookups++
      return original(...args)
    }
    const registryDecoder = createDecoder({ registry })
    const value = Buffer.from([0, 0, 0, 0, 42, 0x02, 0x41])
    const reasons = await Promise.all(
      Array.from({ length: 20 }, () => poisonOf(registryDecoder, { value }).then((e) => e.reason)),
    )
    expect(new Set(reasons)).toEqual(new Set(['unknown_schema_id']))
    expect(lookups).toBe(1)
  })

  it('undecodable: a registered schema whose body does not decode', async () => {
    const registry = new MockClient()
    const encoder = await createEncoder('avro', { registry, topic })
    const { value } = await encoder.encode(sample)
    const error = await poisonOf(createDecoder({ registry }), { value: value.subarray(0, 40) })
    expect(error.reason).toBe('undecodable')
    expect(error.message).toContain('AVRO body does not decode with schema id 1')
  })

  it('schema_invalid: a framed message of another record type', async () => {
    const registry = new MockClient()
    const other = { type: 'record', name: 'Click', fields: [{ name: 'url', type: 'string' }] }
    const id = await registry.register(
      `${topic}-value`,
      { schemaType: 'AVRO', schema: JSON.stringify(other) },
      false,
    )
    const body = Buffer.from([0x06, 0x61, 0x62, 0x63]) // Avro string "abc"
    const value = Buffer.concat([Buffer.from([0, 0, 0, 0, id]), body])
    const error = await poisonOf(createDecoder({ registry }), { value })
    expect(error.reason).toBe('schema_invalid')
    expect(error.message).toContain('request_id: required field is missing')
  })
})

describe('decode: registry outages are retriable, not poison', () => {
  class FlakyRegistry extends MockClient {
    failure: Error | undefined = new RestError('Service Unavailable', 503, 50301)
    override async getBySubjectAndId(subject: string, id: number, format?: string) {
      if (this.failure) throw this.failure
      return super.getBySubjectAndId(subject, id, format)
    }
  }

  it('a registry outage (HTTP 5xx, network error) is a retriable RegistryUnavailableError, not poison; then recovers', async () => {
    const registry = new FlakyRegistry()
    const decoder = createDecoder({ registry })
    const failing = registry.failure
    registry.failure = undefined
    const { value } = await (await createEncoder('avro', { registry, topic })).encode(sample)
    registry.failure = failing

    const outage = await decoder.decode({ value }, topic).catch((e: unknown) => e)
    expect(outage).toBeInstanceOf(RegistryUnavailableError)
    expect(outage).not.toBeInstanceOf(PoisonMessageError)
    expect(outage).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retriable: true })
    expect((outage as Error).message).toContain('HTTP 503')
    expect((outage as RegistryUnavailableError).fix).toMatch(/schema_registry\.url/)

    registry.failure = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8081'), { isAxiosError: true })
    const network = await decoder.decode({ value }, topic).catch((e: unknown) => e)
    expect(network).toBeInstanceOf(RegistryUnavailableError)
    expect(network).toMatchObject({ retriable: true })

    registry.failure = undefined
    await expect(decoder.decode({ value }, topic)).resolves.toEqual(sample)
  })
})
