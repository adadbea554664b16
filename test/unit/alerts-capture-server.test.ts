import { afterEach, describe, expect, it } from 'vitest'
import { type CaptureServer, pagerDutyAccepted, startCaptureServer } from '../../fakes/capture-server.ts'

let server: CaptureServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('capture server', () => {
  it('records method, path, headers and JSON body, answering from the queue then the fallback', async () => {
    server = await startCaptureServer({ respond: [{ status: 429, headers: { 'retry-after': '1' } }] })
    const post = () =>
      fetch(`${server!.url}/v2/enqueue?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test': 'yes' },
        body: JSON.stringify({ dedup_key: 'k1' }),
      })
    const first = await post()
    expect(first.status).toBe(429)
    expect(first.headers.get('retry-after')).toBe('1')
    expect((await post()).status).toBe(200)
    expect(server.requests[0]).toMatchObject({
      index: 0,
      method: 'POST',
      path: '/v2/enqueue?x=1',
      rawBody: '{"dedup_key":"k1"}',
      body: { dedup_key: 'k1' },
    })
    expect(server.requests[0]?.headers['x-test']).toBe('yes')
  })

  it('answers from a function set later, and waits for requests', async () => {
    server = await startCaptureServer()
    server.respondWith(pagerDutyAccepted)
    const waiting = server.waitForRequests(2)
    for (const key of ['a', 'b']) {
      const response = await fetch(server.url, { method: 'POST', body: JSON.stringify({ dedup_key: key }) })
      expect(await response.json()).toEqual({ status: 'success', message: 'Event processed', dedup_key: key })
    }
    expect((await waiting).map((r) => r.index)).toEqual([0, 1])
    await expect(server.waitForRequests(3, 50)).rejects.toThrow(/2 of 3 requests/)
  })
})
