import { afterEach, describe, expect, it } from 'vitest'
import { AlertDeliveryError } from '../../alerts/delivery.ts'
import { type AlertEmitterOptions, createAlertEmitter, SINKS_BY_ACTION } from '../../alerts/emitter.ts'
import { exampleAlert, exampleResolvedAlert } from '../../alerts/example-alert.ts'
import { createPagerDutySender, type PagerDutyEvent } from '../../alerts/pagerduty.ts'
import type { RollbackTrigger } from '../../alerts/rollback-trigger.ts'
import { createWebhookSender } from '../../alerts/webhook.ts'
import { type CaptureServer, pagerDutyInvalid, startCaptureServer } from '../../fakes/capture-server.ts'

/** In-memory sinks recording what they were given; `fail` makes one of them throw. */
function fakeSinks(fail: Partial<Record<'pagerduty' | 'webhook' | 'kafka', Error>> = {}) {
  const sent = {
    pagerduty: [] as PagerDutyEvent[],
    webhook: [] as RollbackTrigger[],
    kafka: [] as RollbackTrigger[],
  }
  const options: AlertEmitterOptions = {
    pagerduty: {
      routingKey: 'rk',
      source: 'driftwatch/test',
      sender: {
        async send(event) {
          sent.pagerduty.push(event)
          if (fail.pagerduty) throw fail.pagerduty
          return { status: 202, dedupKey: event.dedup_key, attempts: 1 }
        },
      },
    },
    webhook: {
      async send(trigger) {
        sent.webhook.push(trigger)
        if (fail.webhook) throw fail.webhook
        return { status: 200, attempts: 1 }
      },
    },
    kafka: {
      async publish(trigger) {
        sent.kafka.push(trigger)
        if (fail.kafka) throw fail.kafka
        return { topic: 'llm.rollback', partition: 0, offset: '1', attempts: 1 }
      },
    },
  }
  return { sent, options }
}

describe('emitter routing', () => {
  it.each([
    ['rollback', ['pagerduty', 'webhook', 'kafka']],
    ['page', ['pagerduty', 'webhook']],
    ['ticket', ['webhook']],
  ] as const)('%s → %j', async (action, sinks) => {
    const { sent, options } = fakeSinks()
    const results = await createAlertEmitter(options).emit(exampleAlert({ action }))
    expect(results.map((r) => r.sink)).toEqual(sinks)
    expect(results.every((r) => r.ok && r.attempts === 1)).toBe(true)
    expect(SINKS_BY_ACTION[action]).toEqual(sinks)
    for (const sink of ['pagerduty', 'webhook', 'kafka'] as const) {
      expect(sent[sink].length, sink).toBe((sinks as readonly string[]).includes(sink) ? 1 : 0)
    }
  })

  it('sends resolves to the same sinks, as resolve events', async () => {
    const { sent, options } = fakeSinks()
    await createAlertEmitter(options).emit(exampleResolvedAlert())
    expect(sent.pagerduty[0]?.event_action).toBe('resolve')
    expect(sent.webhook[0]?.state).toBe('resolved')
    expect(sent.kafka[0]?.state).toBe('resolved')
  })

  it('skips sinks that are not configured and can be limited to the ones still owed', async () => {
    const { sent, options } = fakeSinks()
    const onlyWebhook = createAlertEmitter({ webhook: options.webhook })
    expect((await onlyWebhook.emit(exampleAlert())).map((r) => r.sink)).toEqual(['webhook'])

    const emitter = createAlertEmitter(options)
    expect(emitter.sinksFor(exampleAlert(), { sinks: ['kafka', 'pagerduty'] })).toEqual([
      'pagerduty',
      'kafka',
    ])
    const results = await emitter.emit(exampleAlert(), { sinks: ['kafka'] })
    expect(results).toEqual([{ sink: 'kafka', ok: true, attempts: 1 }])
    expect(sent.pagerduty).toHaveLength(0)
  })

  it('rejects an invalid decision before sending anything', async () => {
    const { sent, options } = fakeSinks()
    const bad = { ...exampleAlert(), n: -5 }
    await expect(createAlertEmitter(options).emit(bad)).rejects.toMatchObject({ code: 'ALERT_INVALID' })
    expect(sent.pagerduty.length + sent.webhook.length + sent.kafka.length).toBe(0)
  })
})

describe('emitter isolates sink failures', () => {
  it('one sink failing does not stop the others, and its result says why', async () => {
    const down = new AlertDeliveryError('pagerduty: not delivered after 6 attempts: HTTP 503', {
      sink: 'pagerduty',
      attempts: 6,
      status: 503,
      retriable: true,
    })
    const { sent, options } = fakeSinks({ pagerduty: down, kafka: new Error('producer is disconnected') })
    const results = await createAlertEmitter(options).emit(exampleAlert())

    expect(results).toEqual([
      {
        sink: 'pagerduty',
        ok: false,
        attempts: 6,
        status: 503,
        error: 'pagerduty: not delivered after 6 attempts: HTTP 503',
        code: 'ALERT_DELIVERY',
        retriable: true,
      },
      { sink: 'webhook', ok: true, attempts: 1, status: 200 },
      { sink: 'kafka', ok: false, attempts: 0, error: 'producer is disconnected', retriable: true },
    ])
    expect(sent.webhook).toHaveLength(1)
  })

  it('sends to sinks concurrently: a slow sink does not hold the others back', async () => {
    const { options } = fakeSinks()
    let webhookCalled: () => void = () => {}
    const webhookSeen = new Promise<void>((resolve) => {
      webhookCalled = resolve
    })
    const webhook = options.webhook!
    const results = await createAlertEmitter({
      ...options,
      // PagerDuty only answers once the webhook has been called: sequential sending would hang.
      pagerduty: {
        ...options.pagerduty!,
        sender: {
          async send(event) {
            await webhookSeen
            return { status: 202, dedupKey: event.dedup_key, attempts: 1 }
          },
        },
      },
      webhook: {
        async send(trigger) {
          webhookCalled()
          return webhook.send(trigger)
        },
      },
    }).emit(exampleAlert({ action: 'page' }))
    expect(results.every((r) => r.ok)).toBe(true)
  })
})

describe('emitter over real HTTP', () => {
  let pagerduty: CaptureServer | undefined
  let receiver: CaptureServer | undefined
  afterEach(async () => {
    await Promise.all([pagerduty?.close(), receiver?.close()])
  })

  it('a PagerDuty 400 fails only the PagerDuty result, not retried; the webhook is delivered', async () => {
    pagerduty = await startCaptureServer({ fallback: pagerDutyInvalid(["'routing_key' is invalid"]) })
    receiver = await startCaptureServer({ fallback: { status: 202 } })
    const emitter = createAlertEmitter({
      pagerduty: {
        routingKey: 'bad',
        source: 'driftwatch/test',
        sender: createPagerDutySender({ url: pagerduty.url, sleep: async () => {} }),
      },
      webhook: createWebhookSender({ url: receiver.url, secret: 's3cret', sleep: async () => {} }),
    })
    const results = await emitter.emit(exampleAlert({ action: 'page' }))
    expect(results).toEqual([
      expect.objectContaining({
        sink: 'pagerduty',
        ok: false,
        attempts: 1,
        status: 400,
        code: 'PAGERDUTY_INVALID_EVENT',
        retriable: false,
      }),
      { sink: 'webhook', ok: true, attempts: 1, status: 202 },
    ])
    expect(results[0]?.error).toMatch(/field routing_key/)
    expect(pagerduty.requests).toHaveLength(1)
    expect(receiver.requests).toHaveLength(1)
  })
})
