// The real REST client against a small local fake of the Confluent registry API: checks
// what MockClient cannot (HTTP errors, auth, the per-format schema cache quirk).

import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js'
import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDecoder, createRegistryClient } from '../../contract/decode.ts'
import { createEncoder } from '../../contract/encode.ts'
import { INTERACTION_PROTO } from '../../contract/protobuf.ts'
import { ConfigError, PoisonMessageError, RegistryUnavailableError } from '../../lib/errors.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'

const topic = 'llm.interactions'
const sample = syntheticInteraction(4, { seed: 5 })

interface FakeSchema {
  schemaType?: string
  text: string
  serialized?: string
}

let server: Server
let url: string
const schemas = new Map<number, FakeSchema>()
const requests: { url: string; auth: string | undefined }[] = []
let failWith: number | undefined

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization })
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
      res.end(JSON.stringify(body))
    }
    if (failWith) return send(failWith, { error_code: failWith * 100, message: 'unavailable' })
    const parsed = new URL(req.url ?? '/', 'http://x')
    const match = /^\/schemas\/ids\/(\d+)$/.exec(parsed.pathname)
    const schema = match ? schemas.get(Number(match[1])) : undefined
    if (!schema) return send(404, { error_code: 40403, message: 'Schema not found' })
    const serialized = parsed.searchParams.get('format') === 'serialized' && schema.serialized
    send(200, {
      schema: serialized || schema.text,
      ...(schema.schemaType ? { schemaType: schema.schemaType } : {}),
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => {
  server.close()
})

/** Frames `sample` with a MockClient-backed encoder and publishes its schema as `id` on the fake. */
async function frame(format: 'avro' | 'protobuf', id: number): Promise<Buffer> {
  const mock = new MockClient()
  const encoder = await createEncoder(format, { registry: mock, topic })
  const { value } = await encoder.encode(sample)
  const registered = await mock.getBySubjectAndId(`${topic}-value`, encoder.schemaId!)
  schemas.set(
    id,
    format === 'avro'
      ? { text: registered.schema }
      : // A real registry returns .proto text by default and the base64 descriptor on request.
        { schemaType: 'PROTOBUF', text: INTERACTION_PROTO, serialized: registered.schema },
  )
  value.writeInt32BE(id, 1)
  return value
}

describe('decode through the REST client', () => {
  it('Avro: resolves the id once and decodes', async () => {
    const value = await frame('avro', 21)
    const decoder = createDecoder({ registry: createRegistryClient({ url }) })
    requests.length = 0
    await expect(decoder.decode({ value }, topic)).resolves.toEqual(sample)
    await expect(decoder.decode({ value }, topic)).resolves.toEqual(sample)
    expect(requests.map((r) => r.url)).toEqual([
      `/schemas/ids/21?subject=${encodeURIComponent(`${topic}-value`)}`,
    ])
  })

  it('Protobuf: fetches the serialized descriptor even though the text form was fetched first', async () => {
    const value = await frame('protobuf', 22)
    const decoder = createDecoder({ registry: createRegistryClient({ url }) })
    requests.length = 0
    await expect(decoder.decode({ value }, topic)).resolves.toEqual(sample)
    await expect(decoder.decode({ value }, topic)).resolves.toEqual(sample)
    expect(requests.map((r) => r.url)).toEqual([
      `/schemas/ids/22?subject=${encodeURIComponent(`${topic}-value`)}`,
      `/schemas/ids/22?subject=${encodeURIComponent(`${topic}-value`)}&format=serialized`,
    ])
  })

  it('404 is unknown_schema_id poison; 5xx and refused connections are a retriable RegistryUnavailableError', async () => {
    const reasonOf = async (registryUrl: string, id: number) => {
      const decoder = createDecoder({
        registry: createRegistryClient({ url: registryUrl, maxRetries: 0, timeoutMs: 2000 }),
      })
      const error = await decoder
        .decode({ value: Buffer.from([0, 0, 0, 0, id, 2, 0x41]) }, topic)
        .catch((e: unknown) => e)
      if (error instanceof RegistryUnavailableError)
        return { reason: 'registry outage', retriable: error.retriable }
      expect(error).toBeInstanceOf(PoisonMessageError)
      return {
        reason: (error as PoisonMessageError).reason,
        retriable: (error as PoisonMessageError).retriable,
      }
    }
    expect(await reasonOf(url, 99)).toEqual({ reason: 'unknown_schema_id', retriable: false })
    failWith = 503
    try {
      expect(await reasonOf(url, 21)).toEqual({ reason: 'registry outage', retriable: true })
    } finally {
      failWith = undefined
    }
    const closed = createServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    closed.close()
    await once(closed, 'close')
    expect(await reasonOf(deadUrl, 21)).toEqual({ reason: 'registry outage', retriable: true })
  })
})

describe('createRegistryClient', () => {
  const authOf = async (config: Parameters<typeof createRegistryClient>[0]) => {
    requests.length = 0
    await createRegistryClient(config)
      .getBySubjectAndId('s', 404_404)
      .catch(() => undefined)
    return requests[0]?.auth
  }

  it('sends basic auth from username/password', async () => {
    expect(await authOf({ url, username: 'svc', password: 'p@ss' })).toBe(
      `Basic ${Buffer.from('svc:p@ss').toString('base64')}`,
    )
  })

  it('moves credentials out of the URL into basic auth', async () => {
    const withCreds = url.replace('http://', 'http://svc:s%40cret@')
    expect(await authOf({ url: withCreds })).toBe(`Basic ${Buffer.from('svc:s@cret').toString('base64')}`)
    expect((createRegistryClient({ url: withCreds }).config().baseURLs ?? [])[0]).toBe(url)
  })

  it('sends no auth header without credentials', async () => {
    expect(await authOf({ url })).toBeUndefined()
  })

  it('gives a MockClient for { mock: true } and mock:// URLs, a REST client otherwise', () => {
    expect(createRegistryClient({ mock: true })).toBeInstanceOf(MockClient)
    expect(createRegistryClient({ url: 'mock://test' })).toBeInstanceOf(MockClient)
    expect(createRegistryClient({ url: `${url}, ${url}/` })).toBeInstanceOf(SchemaRegistryClient)
  })

  it('rejects unusable configuration with a fix', () => {
    expect(() => createRegistryClient({ url: ' ' })).toThrow(ConfigError)
    expect(() => createRegistryClient({ url: 'not a url' })).toThrow(/not a URL/)
    expect(() => createRegistryClient({ url, password: 'x' })).toThrow(/without a username/)
  })
})
