import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type FakeOpenAI, reply, sequence, startFakeOpenAI } from '../../fakes/openai-server.ts'
import { HttpError } from '../../lib/errors.ts'
import { createLogger, silentLogger } from '../../lib/log.ts'
import {
  CircuitOpenError,
  ModelCallAbortedError,
  ModelResponseError,
  ModelTimeoutError,
  ModelUnreachableError,
} from '../../scoring/errors.ts'
import { createModelClient, type ModelClientOptions, parseRetryAfter } from '../../scoring/model-client.ts'

const SECRET = 'sk-test-very-secret-key'
const MESSAGES = [{ role: 'user' as const, content: 'private user text 12345' }]

let server: FakeOpenAI

beforeEach(async () => {
  server = await startFakeOpenAI({ behaviour: () => reply.content('hello') })
})
afterEach(async () => {
  await server.close()
})

function client(overrides: Partial<ModelClientOptions> = {}) {
  return createModelClient({
    baseUrl: server.url,
    model: 'test-judge',
    apiKey: SECRET,
    timeoutMs: 2_000,
    maxRetries: 3,
    maxConcurrency: 4,
    requestsPerSecond: Number.POSITIVE_INFINITY,
    log: silentLogger,
    backoff: { initialMs: 5, maxMs: 20 },
    ...overrides,
  })
}

const ask = (c: ReturnType<typeof client>, signal?: AbortSignal) =>
  c.complete({ messages: MESSAGES, temperature: 0, maxTokens: 50, signal })

describe('model client: protocol', () => {
  it('sends an OpenAI chat-completions request and returns content, usage and timings', async () => {
    const c = client()
    const result = await c.complete({
      messages: MESSAGES,
      temperature: 0,
      maxTokens: 64,
      responseFormat: { type: 'json_object' },
    })
    expect(result).toMatchObject({ content: 'hello', attempts: 1, finishReason: 'stop', usageReported: true })
    expect(result.promptTokens).toBeGreaterThan(0)
    expect(result.completionTokens).toBeGreaterThan(0)
    expect(result.latencyMs).toBeGreaterThanOrEqual(0)
    const [request] = server.requests
    expect(request!.path).toBe('/v1/chat/completions')
    expect(request!.headers.authorization).toBe(`Bearer ${SECRET}`)
    expect(request!.body).toEqual({
      model: 'test-judge',
      messages: MESSAGES,
      temperature: 0,
      max_tokens: 64,
      stream: false,
      response_format: { type: 'json_object' },
    })
  })

  it('accepts a base URL with a trailing slash and works without an API key', async () => {
    const c = client({ baseUrl: `${server.url}/`, apiKey: undefined })
    await ask(c)
    expect(server.requests[0]!.headers.authorization).toBeUndefined()
  })

  it('estimates tokens when the server sends no usage', async () => {
    server.setBehaviour(() => reply.content('12345678', { omitUsage: true }))
    const result = await ask(client())
    expect(result).toMatchObject({ usageReported: false, promptTokens: 0, completionTokens: 2 })
  })

  it('a 200 body that is not JSON is a typed, non-retried error', async () => {
    server.setBehaviour(() => reply.malformedBody())
    const error = await ask(client()).catch((e) => e)
    expect(error).toBeInstanceOf(ModelResponseError)
    expect(error.code).toBe('MODEL_BAD_RESPONSE')
    expect(server.requests).toHaveLength(1)
  })

  it('a JSON body that is not a chat completion is a typed error naming the bad field', async () => {
    server.setBehaviour(() => ({
      kind: 'raw',
      body: JSON.stringify({ choices: [{ message: { role: 'assistant', content: null } }] }),
    }))
    const error = await ask(client()).catch((e) => e)
    expect(error).toBeInstanceOf(ModelResponseError)
    expect(error.message).toContain('choices.0.message.content')
  })

  it('never logs the API key or message content, even at debug level', async () => {
    const lines: string[] = []
    const log = createLogger({ level: 'debug', write: (line) => lines.push(line) })
    server.setBehaviour(sequence(reply.serverError(500), reply.content('secret answer text')))
    await ask(client({ log }))
    const all = lines.join('')
    expect(lines.length).toBeGreaterThan(0)
    expect(all).not.toContain(SECRET)
    expect(all).not.toContain('private user text')
    expect(all).not.toContain('secret answer text')
  })
})

describe('model client: retries', () => {
  it('honours Retry-After (seconds) on 429, then succeeds', async () => {
    server.setBehaviour(sequence(reply.rateLimited('1'), reply.content('ok')))
    const result = await ask(client())
    expect(result.content).toBe('ok')
    expect(result.attempts).toBe(2)
    const [first, second] = server.requests
    // Backoff alone would be ~5 ms: the gap proves the server's Retry-After was honoured.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950)
  })

  it('does not wait for a Retry-After longer than maxRetryAfterMs: the job re-queues instead', async () => {
    server.setBehaviour(reply.rateLimited('120'))
    const error = await ask(client({ maxRetryAfterMs: 5_000 })).catch((e) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ status: 429, retriable: true, retryAfterMs: 120_000 })
    expect(server.requests).toHaveLength(1)
  })

  it('retries a 500 and returns the later success', async () => {
    server.setBehaviour(sequence(reply.serverError(500), reply.content('ok')))
    const result = await ask(client())
    expect(result).toMatchObject({ content: 'ok', attempts: 2 })
  })

  it('gives up after maxRetries on a persistent 503', async () => {
    server.setBehaviour(reply.serverError(503))
    const error = await ask(client({ maxRetries: 2 })).catch((e) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ status: 503, retriable: true })
    expect(server.requests).toHaveLength(3)
  })

  it('retries a timeout and succeeds', async () => {
    server.setBehaviour(sequence(reply.delay(1_000, reply.content('late')), reply.content('ok')))
    const result = await ask(client({ timeoutMs: 150 }))
    expect(result).toMatchObject({ content: 'ok', attempts: 2 })
  })

  it('reports a typed, retriable timeout when every attempt times out', async () => {
    server.setBehaviour(reply.delay(1_000, reply.content('late')))
    const error = await ask(client({ timeoutMs: 100, maxRetries: 1 })).catch((e) => e)
    expect(error).toBeInstanceOf(ModelTimeoutError)
    expect(error).toMatchObject({ code: 'MODEL_TIMEOUT', retriable: true })
    expect(server.requests).toHaveLength(2)
  })

  it('retries a dropped connection', async () => {
    server.setBehaviour(sequence(reply.drop(), reply.content('ok')))
    const result = await ask(client())
    expect(result).toMatchObject({ content: 'ok', attempts: 2 })
  })

  it('reports an unreachable server as a typed, retriable error', async () => {
    const url = server.url
    await server.close()
    const error = await ask(client({ baseUrl: url, maxRetries: 1 })).catch((e) => e)
    expect(error).toBeInstanceOf(ModelUnreachableError)
    expect(error.retriable).toBe(true)
    server = await startFakeOpenAI()
  })

  it.each([400, 401, 404, 422])('does not retry a %i', async (status) => {
    server.setBehaviour(reply.error(status, { message: 'nope', type: 'invalid_request_error' }))
    const error = await ask(client()).catch((e) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ status, retriable: false })
    expect(error.message).toContain('nope')
    expect(error.fix).toBeTruthy()
    expect(server.requests).toHaveLength(1)
  })

  it('fix texts name the YAML keys of the scorer, not the code options', async () => {
    const judge = { configKey: 'scorers.judge', maxRetries: 0 }
    server.setBehaviour(reply.delay(1_000, reply.content('late')))
    const timeout = await ask(client({ ...judge, timeoutMs: 100 })).catch((e) => e)
    expect(timeout.fix).toBe(
      'raise scorers.judge.timeout_ms or lower scorers.judge.max_concurrency if the model server is overloaded',
    )
    server.setBehaviour(reply.error(429, { message: 'slow down' }))
    const limited = await ask(client(judge)).catch((e) => e)
    expect(limited.fix).toMatch(/scorers\.judge\.requests_per_second \/ scorers\.judge\.max_concurrency/)
    server.setBehaviour(reply.error(404, { message: 'no such model' }))
    const missing = await ask(client(judge)).catch((e) => e)
    expect(missing.fix).toMatch(/scorers\.judge\.base_url .*scorers\.judge\.model/)
    for (const error of [timeout, limited, missing])
      expect(error.fix).not.toMatch(/baseUrl|timeoutMs|requestsPerSecond/)
  })

  it('a wrong API key is a 401 from the server, not retried', async () => {
    await server.close()
    server = await startFakeOpenAI({ apiKey: 'the-right-key' })
    const error = await ask(client()).catch((e) => e)
    expect(error).toMatchObject({ status: 401, retriable: false })
    expect(error.message).not.toContain(SECRET)
    expect(server.requests).toHaveLength(1)
  })

  it('stops at once when the caller aborts, without further attempts', async () => {
    server.setBehaviour(reply.delay(1_000, reply.content('late')))
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const error = await ask(client(), controller.signal).catch((e) => e)
    expect(error).toBeInstanceOf(ModelCallAbortedError)
    expect(server.requests).toHaveLength(1)
  })
})

describe('model client: circuit breaker', () => {
  it('opens after N consecutive failures, refuses without calling, then half-opens after the cool-down', async () => {
    let clock = 0
    const c = client({
      maxRetries: 0,
      circuitBreaker: { failureThreshold: 3, coolDownMs: 10_000 },
      now: () => clock,
    })
    server.setBehaviour(reply.serverError(500))
    for (let i = 0; i < 3; i++) await expect(ask(c)).rejects.toBeInstanceOf(HttpError)
    expect(c.stats().circuit).toBe('open')

    const open = await ask(c).catch((e) => e)
    expect(open).toBeInstanceOf(CircuitOpenError)
    expect(open).toMatchObject({ code: 'CIRCUIT_OPEN', retriable: true, retryAfterMs: 10_000 })
    expect(server.requests).toHaveLength(3) // refused without touching the network

    clock += 10_000
    expect(c.stats().circuit).toBe('half-open')
    server.setBehaviour(() => reply.content('back'))
    await expect(ask(c)).resolves.toMatchObject({ content: 'back' })
    expect(c.stats().circuit).toBe('closed')
    expect(server.requests).toHaveLength(4)
  })

  it('a failed half-open probe re-opens the circuit for another cool-down', async () => {
    let clock = 0
    const c = client({
      maxRetries: 0,
      circuitBreaker: { failureThreshold: 2, coolDownMs: 1_000 },
      now: () => clock,
    })
    server.setBehaviour(reply.serverError(503))
    for (let i = 0; i < 2; i++) await ask(c).catch(() => {})
    clock += 1_000
    await expect(ask(c)).rejects.toBeInstanceOf(HttpError) // the probe
    expect(c.stats().circuit).toBe('open')
    await expect(ask(c)).rejects.toBeInstanceOf(CircuitOpenError)
    expect(server.requests).toHaveLength(3)
  })

  it('lets exactly one probe through while half-open', async () => {
    let clock = 0
    const c = client({
      maxRetries: 0,
      circuitBreaker: { failureThreshold: 1, coolDownMs: 1_000 },
      now: () => clock,
    })
    server.setBehaviour(reply.serverError(500))
    await ask(c).catch(() => {})
    clock += 1_000
    server.setBehaviour(() => reply.delay(100, reply.content('ok')))
    const results = await Promise.allSettled([ask(c), ask(c), ask(c)])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(CircuitOpenError)
    expect(server.requests).toHaveLength(2)
  })

  it('stops retrying a call as soon as the circuit opens', async () => {
    const c = client({ maxRetries: 10, circuitBreaker: { failureThreshold: 3, coolDownMs: 60_000 } })
    server.setBehaviour(reply.serverError(500))
    const error = await ask(c).catch((e) => e)
    expect(error).toBeInstanceOf(CircuitOpenError)
    expect(server.requests).toHaveLength(3)
  })

  it('client errors (4xx) do not open the circuit', async () => {
    const c = client({ circuitBreaker: { failureThreshold: 2, coolDownMs: 60_000 } })
    server.setBehaviour(reply.error(400))
    for (let i = 0; i < 5; i++) await ask(c).catch(() => {})
    expect(c.stats().circuit).toBe('closed')
    expect(server.requests).toHaveLength(5)
  })
})

describe('model client: limits', () => {
  it('never has more than maxConcurrency requests in flight', async () => {
    server.setLatency(40)
    const c = client({ maxConcurrency: 3 })
    await Promise.all(Array.from({ length: 12 }, () => ask(c)))
    expect(server.stats().maxConcurrency).toBe(3)
    expect(c.stats().limiter.maxActiveSeen).toBe(3)
    expect(server.requests).toHaveLength(12)
  })

  it('holds no concurrency slot during retry backoff', async () => {
    server.setBehaviour(sequence(reply.rateLimited('1'), reply.content('ok')))
    const c = client({ maxConcurrency: 1 })
    const slow = ask(c) // gets the 429, then sleeps ~1 s before retrying
    await new Promise((r) => setTimeout(r, 100))
    const fast = await ask(c) // must not wait for the sleeping call
    expect(fast.content).toBe('ok')
    expect(server.requests).toHaveLength(2)
    await slow
  })

  it('spaces requests by the rate limit', async () => {
    const c = client({ requestsPerSecond: 10, maxConcurrency: 10 })
    await Promise.all(Array.from({ length: 6 }, () => ask(c)))
    const times = server.requests.map((r) => r.receivedAt).sort((a, b) => a - b)
    // burst 1 at 10/s: 6 requests need at least 5 refills of 100 ms.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(480)
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(70)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z')
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('1.5', now)).toBe(1_500)
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now)).toBe(7_000)
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0)
  })
  it('ignores missing or garbage values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
  })
})
