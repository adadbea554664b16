import { afterEach, describe, expect, it } from 'vitest'
import { exampleAlert, exampleResolvedAlert } from '../../alerts/example-alert.ts'
import { buildRollbackTrigger } from '../../alerts/rollback-trigger.ts'
import { createWebhookSender, verifyWebhookSignature } from '../../alerts/webhook.ts'
import { type CaptureServer, startCaptureServer } from '../../fakes/capture-server.ts'

const SECRET = 'whsec-unit-test'
let server: CaptureServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

const noWait = async () => {}

describe('webhook sender', () => {
  it('POSTs the trigger JSON with a signature the receiver verifies', async () => {
    server = await startCaptureServer()
    const sender = createWebhookSender({ url: `${server.url}/hooks/driftwatch`, secret: SECRET })
    const trigger = buildRollbackTrigger(exampleAlert())

    await expect(sender.send(trigger)).resolves.toEqual({ status: 200, attempts: 1 })

    const [request] = server.requests
    expect(request).toMatchObject({ method: 'POST', path: '/hooks/driftwatch', body: trigger })
    expect(request?.headers['x-driftwatch-event']).toBe('trigger')
    expect(request?.headers['idempotency-key']).toBe(`${trigger.dedup_key}:firing:${trigger.fired_at}`)
    expect(verifyWebhookSignature(SECRET, request!.headers, request!.rawBody)).toMatchObject({ ok: true })
  })

  it('sends resolves with X-Driftwatch-Event: resolve', async () => {
    server = await startCaptureServer({ fallback: { status: 204 } })
    const sender = createWebhookSender({ url: server.url, secret: SECRET })
    await expect(sender.send(buildRollbackTrigger(exampleResolvedAlert()))).resolves.toMatchObject({
      status: 204,
    })
    expect(server.requests[0]?.headers['x-driftwatch-event']).toBe('resolve')
  })

  it('retries 5xx with the same body and idempotency key, re-signing each attempt', async () => {
    server = await startCaptureServer({ respond: [{ status: 502 }, { status: 503 }] })
    let clock = 1_700_000_000_000
    const sender = createWebhookSender({
      url: server.url,
      secret: SECRET,
      sleep: noWait,
      now: () => (clock += 90_000),
    })
    await expect(sender.send(buildRollbackTrigger(exampleAlert()))).resolves.toMatchObject({ attempts: 3 })
    const [a, b, c] = server.requests
    expect(new Set([a?.rawBody, b?.rawBody, c?.rawBody]).size).toBe(1)
    expect(new Set(server.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1)
    expect(new Set(server.requests.map((r) => r.headers['x-driftwatch-timestamp'])).size).toBe(3)
    for (const request of server.requests) {
      const now = Number(request.headers['x-driftwatch-timestamp']) * 1000
      expect(verifyWebhookSignature(SECRET, request.headers, request.rawBody, { now }).ok).toBe(true)
    }
  })

  it('does not retry a 4xx from the receiver', async () => {
    server = await startCaptureServer({ fallback: { status: 401, body: { error: 'bad signature' } } })
    const sender = createWebhookSender({ url: server.url, secret: SECRET, sleep: noWait })
    await expect(sender.send(buildRollbackTrigger(exampleAlert()))).rejects.toMatchObject({
      sink: 'webhook',
      status: 401,
      retriable: false,
      attempts: 1,
    })
    expect(server.requests).toHaveLength(1)
  })

  it('refuses an empty secret at construction', () => {
    expect(() => createWebhookSender({ url: 'http://127.0.0.1:9', secret: '' })).toThrow(/secret is empty/)
  })
})
