import { afterEach, describe, expect, it } from 'vitest'
import { AlertDeliveryError } from '../../alerts/delivery.ts'
import { exampleAlert } from '../../alerts/example-alert.ts'
import {
  buildPagerDutyEvent,
  createPagerDutySender,
  PAGERDUTY_EVENTS_URL,
  PagerDutyRejectedError,
} from '../../alerts/pagerduty.ts'
import {
  type CaptureServer,
  pagerDutyAccepted,
  pagerDutyInvalid,
  pagerDutyRateLimited,
  startCaptureServer,
} from '../../fakes/capture-server.ts'

const event = buildPagerDutyEvent(exampleAlert(), { routingKey: 'rk-0123456789', source: 'driftwatch/test' })
let server: CaptureServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

/** Records backoff delays instead of waiting them out. */
function fakeSleep() {
  const delays: number[] = []
  return { delays, sleep: async (ms: number) => void delays.push(ms) }
}

describe('PagerDuty sender: rate limit then accepted', () => {
  it('is one logical send made of two requests, honouring Retry-After', async () => {
    server = await startCaptureServer({ respond: [pagerDutyRateLimited(1)], fallback: pagerDutyAccepted })
    const { delays, sleep } = fakeSleep()
    const sender = createPagerDutySender({ url: `${server.url}/v2/enqueue`, sleep, initialMs: 10 })

    const result = await sender.send(event)

    expect(result).toEqual({ status: 202, dedupKey: event.dedup_key, attempts: 2 })
    expect(server.requests).toHaveLength(2)
    expect(delays).toHaveLength(1)
    expect(delays[0]).toBeGreaterThanOrEqual(1000)
    // The retry is the same event (same dedup_key), which is what makes it idempotent.
    expect(server.requests[0]?.body).toEqual(event)
    expect(server.requests[1]?.rawBody).toBe(server.requests[0]?.rawBody)
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v2/enqueue' })
    expect(server.requests[0]?.headers['content-type']).toBe('application/json')
  })

  it('retries 5xx and dropped connections with backoff', async () => {
    server = await startCaptureServer({
      respond: [
        { status: 503, body: 'upstream down' },
        { status: 200, destroy: true },
      ],
      fallback: pagerDutyAccepted,
    })
    const { delays, sleep } = fakeSleep()
    const sender = createPagerDutySender({ url: server.url, sleep, initialMs: 10, maxMs: 100 })
    await expect(sender.send(event)).resolves.toMatchObject({ status: 202, attempts: 3 })
    expect(delays).toHaveLength(2)
  })

  it('gives up after `retries` with a retriable delivery error', async () => {
    server = await startCaptureServer({ fallback: pagerDutyRateLimited() })
    const sender = createPagerDutySender({ url: server.url, retries: 2, sleep: fakeSleep().sleep })
    const error = await sender.send(event).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AlertDeliveryError)
    expect(error).toMatchObject({ sink: 'pagerduty', attempts: 3, status: 429, retriable: true })
    expect(server.requests).toHaveLength(3)
  })
})

describe('PagerDuty sender: invalid event', () => {
  it('does not retry a 400 and names the field PagerDuty complains about', async () => {
    server = await startCaptureServer({
      respond: [pagerDutyInvalid(["'summary' is too long (maiximum is 1024 characters)"])],
      fallback: pagerDutyAccepted,
    })
    const sender = createPagerDutySender({ url: server.url, sleep: fakeSleep().sleep })
    const error = await sender.send(event).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(PagerDutyRejectedError)
    expect(error).toMatchObject({
      code: 'PAGERDUTY_INVALID_EVENT',
      retriable: false,
      status: 400,
      attempts: 1,
      field: 'summary',
      errors: ["'summary' is too long (maiximum is 1024 characters)"],
    })
    expect((error as Error).message).toMatch(/field summary/)
    expect(server.requests).toHaveLength(1)
  })

  it('does not send an event that fails the schema at all', async () => {
    server = await startCaptureServer({ fallback: pagerDutyAccepted })
    const sender = createPagerDutySender({ url: server.url })
    const bad = { ...event, dedup_key: 'k'.repeat(300) }
    await expect(sender.send(bad)).rejects.toMatchObject({ code: 'PAGERDUTY_INVALID_EVENT', attempts: 0 })
    expect(server.requests).toHaveLength(0)
  })
})

describe('PagerDuty sender: endpoint', () => {
  it('defaults to the public Events API, then env PAGERDUTY_EVENTS_URL, then the url option', () => {
    expect(createPagerDutySender({ env: {} }).url).toBe(PAGERDUTY_EVENTS_URL)
    expect(createPagerDutySender({ env: { PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9/x' } }).url).toBe(
      'http://127.0.0.1:9/x',
    )
    expect(
      createPagerDutySender({
        url: 'http://127.0.0.1:8/y',
        env: { PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9/x' },
      }).url,
    ).toBe('http://127.0.0.1:8/y')
  })

  it('fails at construction on a bad URL, naming where it came from', () => {
    expect(() => createPagerDutySender({ env: { PAGERDUTY_EVENTS_URL: 'events.pagerduty.com' } })).toThrow(
      /PAGERDUTY_EVENTS_URL: not a URL/,
    )
  })

  it('does not retry a non-retriable status such as 404', async () => {
    server = await startCaptureServer({ fallback: { status: 404, body: 'not found' } })
    const sender = createPagerDutySender({ url: server.url, sleep: fakeSleep().sleep })
    await expect(sender.send(event)).rejects.toMatchObject({ status: 404, retriable: false, attempts: 1 })
  })

  it('times out a hung request and retries it', async () => {
    server = await startCaptureServer({
      respond: [{ status: 202, delayMs: 2000 }],
      fallback: pagerDutyAccepted,
    })
    const sender = createPagerDutySender({ url: server.url, timeoutMs: 100, sleep: fakeSleep().sleep })
    await expect(sender.send(event)).resolves.toMatchObject({ attempts: 2 })
  })
})
