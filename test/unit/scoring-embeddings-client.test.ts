// The embeddings client against the fake server's /v1/embeddings over real sockets: the
// OpenAI request and response shapes, vectors in input order, and the chat client's failure
// handling (429 retried honouring Retry-After, 5xx, timeouts, malformed bodies).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type FakeOpenAI, fakeEmbedding, reply, startFakeOpenAI } from '../../fakes/openai-server.ts'
import { HttpError } from '../../lib/errors.ts'
import { silentLogger } from '../../lib/log.ts'
import { createEmbeddingsClient } from '../../scoring/embeddings-client.ts'
import { ModelResponseError, ModelTimeoutError } from '../../scoring/errors.ts'

let server: FakeOpenAI
beforeEach(async () => {
  server = await startFakeOpenAI()
})
afterEach(async () => {
  await server.close()
})

const client = (extra: { maxRetries?: number; timeoutMs?: number; dimensions?: number } = {}) =>
  createEmbeddingsClient({
    baseUrl: server.url,
    model: 'embed-small',
    timeoutMs: extra.timeoutMs ?? 5000,
    maxRetries: extra.maxRetries ?? 2,
    maxConcurrency: 2,
    requestsPerSecond: Number.POSITIVE_INFINITY,
    backoff: { initialMs: 1, maxMs: 5 },
    dimensions: extra.dimensions,
    log: silentLogger,
    configKey: 'shadow.embeddings',
  })

describe('embeddings client', () => {
  it('sends the OpenAI request shape and returns one vector per input, in order', async () => {
    const r = await client({ dimensions: 32 }).embed(['first text', 'second text'])
    expect(r.vectors).toEqual([fakeEmbedding('first text', 32), fakeEmbedding('second text', 32)])
    expect(r.promptTokens).toBeGreaterThan(0)
    expect(server.embeddingsRequests()).toEqual([
      {
        model: 'embed-small',
        input: ['first text', 'second text'],
        encoding_format: 'float',
        dimensions: 32,
      },
    ])
  })

  it('reads base64 vectors (little-endian float32) as some servers send them, in index order', async () => {
    const b64 = (xs: number[]) => Buffer.from(new Float32Array(xs).buffer).toString('base64')
    server.setEmbeddingsBehaviour({
      kind: 'raw',
      status: 200,
      body: JSON.stringify({
        object: 'list',
        data: [
          { object: 'embedding', index: 1, embedding: b64([0, 1, 0.25]) },
          { object: 'embedding', index: 0, embedding: b64([1, 0, 0.5]) },
        ],
        model: 'embed-small',
      }),
    })
    const r = await client().embed(['x', 'y'])
    expect(r.vectors).toEqual([
      [1, 0, 0.5],
      [0, 1, 0.25],
    ])
    // No usage reported: estimated as characters / 4, rounded up per text.
    expect(r.promptTokens).toBe(2)
  })

  it('the fake server validates like OpenAI: an empty input is a 400', async () => {
    await expect(client({ maxRetries: 0 }).embed([''])).rejects.toMatchObject({ status: 400 })
  })

  it('retries a 429 and a 503, then succeeds', async () => {
    let n = 0
    server.setEmbeddingsBehaviour(() =>
      n++ === 0 ? reply.rateLimited('0') : n === 2 ? reply.serverError(503) : reply.vectors(),
    )
    const r = await client().embed(['a'])
    expect(r.attempts).toBe(3)
    expect(r.vectors[0]).toEqual(fakeEmbedding('a'))
  })

  it('gives up with typed errors: 5xx after the retries, malformed body, timeout', async () => {
    server.setEmbeddingsBehaviour(reply.serverError(500))
    await expect(client({ maxRetries: 1 }).embed(['a'])).rejects.toBeInstanceOf(HttpError)
    server.setEmbeddingsBehaviour({ kind: 'raw', status: 200, body: '{"object":"list","data":[' })
    await expect(client({ maxRetries: 0 }).embed(['a'])).rejects.toBeInstanceOf(ModelResponseError)
    server.setEmbeddingsBehaviour({ kind: 'raw', status: 200, body: '{"object":"list","data":[]}' })
    await expect(client({ maxRetries: 0 }).embed(['a'])).rejects.toBeInstanceOf(ModelResponseError)
    server.setEmbeddingsBehaviour(reply.delayVectors(2000))
    await expect(client({ maxRetries: 0, timeoutMs: 50 }).embed(['a'])).rejects.toBeInstanceOf(
      ModelTimeoutError,
    )
  })
})
