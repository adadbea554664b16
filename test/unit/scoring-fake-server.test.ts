import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type FakeOpenAI, reply, sequence, startFakeOpenAI } from '../../fakes/openai-server.ts'

let server: FakeOpenAI
beforeEach(async () => {
  server = await startFakeOpenAI()
})
afterEach(async () => {
  await server.close()
})

const post = (body: unknown, path = '/chat/completions', headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

const valid = { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0, max_tokens: 10 }

describe('fake OpenAI server', () => {
  it('answers with the chat.completion shape', async () => {
    server.setBehaviour(reply.content('hello there'))
    const response = await post(valid)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    const body = (await response.json()) as {
      id: string
      created: number
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }
    }
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello there' }, finish_reason: 'stop' }],
    })
    expect(body.id).toMatch(/^chatcmpl-/)
    expect(Number.isInteger(body.created)).toBe(true)
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens)
  })

  it('validates requests like a real server, with OpenAI error bodies', async () => {
    const cases: Array<[unknown, number]> = [
      ['{not json', 400],
      [{ messages: valid.messages }, 400],
      [{ ...valid, messages: [] }, 400],
      [{ ...valid, messages: [{ role: 'wizard', content: 'x' }] }, 400],
      [{ ...valid, temperature: 3 }, 400],
      [{ ...valid, max_tokens: 0 }, 400],
      [{ ...valid, response_format: { type: 'yaml' } }, 400],
    ]
    for (const [body, status] of cases) {
      const response = await post(body)
      expect(response.status).toBe(status)
      const json = (await response.json()) as { error: { message: unknown } }
      expect(json.error).toMatchObject({ type: 'invalid_request_error' })
      expect(typeof json.error.message).toBe('string')
    }
    expect((await post(valid, '/completions')).status).toBe(404)
    expect((await fetch(`${server.url}/chat/completions`)).status).toBe(405)
    expect(server.chatRequests()).toHaveLength(0) // the behaviour never saw invalid requests
    expect(server.requests).toHaveLength(cases.length + 2)
  })

  it('requires the API key when configured', async () => {
    await server.close()
    server = await startFakeOpenAI({ apiKey: 'k' })
    expect((await post(valid)).status).toBe(401)
    expect((await post(valid, '/chat/completions', { authorization: 'Bearer k' })).status).toBe(200)
  })

  it('sends 429 with Retry-After and 5xx errors', async () => {
    server.setBehaviour(sequence(reply.rateLimited('2'), reply.serverError(503)))
    const limited = await post(valid)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('2')
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded')
    expect((await post(valid)).status).toBe(503)
  })

  it('applies a fixed latency and records concurrency', async () => {
    server.setLatency(200)
    const started = performance.now()
    await Promise.all([post(valid), post(valid), post(valid)])
    expect(performance.now() - started).toBeGreaterThanOrEqual(195)
    expect(server.stats()).toMatchObject({ count: 3, inFlight: 0, maxConcurrency: 3 })
  })

  it('records request bodies and statuses in arrival order', async () => {
    await post({ ...valid, model: 'a' })
    await post({ ...valid, model: 'b' })
    expect(server.requests.map((r) => [r.index, (r.body as { model: string }).model, r.status])).toEqual([
      [0, 'a', 200],
      [1, 'b', 200],
    ])
  })
})
