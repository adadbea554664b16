// Dollars at risk on alerts: the pure block (alerts/exposure.ts), the payloads that carry it
// (PagerDuty custom_details, the rollback trigger the webhook and Kafka send), and the emitter
// wrapper that measures traffic before sending.
import { describe, expect, it } from 'vitest'
import { AlertSchema } from '../../alerts/alert.ts'
import type { AlertEmitter } from '../../alerts/emitter.ts'
import { exampleAlert } from '../../alerts/example-alert.ts'
import { alertExposure, withExposure } from '../../alerts/exposure.ts'
import { buildPagerDutyEvent } from '../../alerts/pagerduty.ts'
import { buildRollbackTrigger, RollbackTriggerSchema } from '../../alerts/rollback-trigger.ts'
import { parseConfig } from '../../config/load.ts'
import { silentLogger } from '../../lib/log.ts'

const { exposure: entries } = parseConfig({
  exposure: [
    { segment: 'invoice_extraction', metric: 'hallucination_rate', usd_per_failure: 50 },
    { segment: 'invoice_extraction', usd_per_failure: 5 },
  ],
})
const options = { routingKey: 'R0UT1NGKEY0123456789abcdef012345', source: 'driftwatch/prod-eu' }

describe('alertExposure', () => {
  const alert = exampleAlert() // hallucination_rate 0.021 vs baseline 0.006, invoice_extraction

  it('prices candidate and baseline on the measured daily traffic', () => {
    const e = alertExposure(alert, entries, 10_000)!
    expect(e.usd_per_failure).toBe(50)
    expect(e.daily_traffic).toBe(10_000)
    expect(e.candidate!.failures_per_day).toBeCloseTo(alert.observed * 10_000, 9)
    expect(e.candidate!.usd_per_day).toBeCloseTo(alert.observed * 10_000 * 50, 9)
    expect(e.baseline!.usd_per_day).toBeCloseTo(alert.baseline! * 10_000 * 50, 9)
    expect(e.delta_usd_per_day).toBeCloseTo((alert.observed - alert.baseline!) * 10_000 * 50, 9)
  })

  it('an absolute rule (no baseline) has only the candidate side', () => {
    const e = alertExposure({ ...alert, baseline: null }, entries, 100)!
    expect(e.baseline).toBeNull()
    expect(e.delta_usd_per_day).toBeNull()
    expect(e.candidate!.usd_per_day).toBeCloseTo(alert.observed * 100 * 50, 9)
  })

  it('nothing for an unpriced segment or a metric that is not a failure rate', () => {
    expect(
      alertExposure({ ...alert, scope: { ...alert.scope, segment: 'chat' } }, entries, 100),
    ).toBeUndefined()
    expect(alertExposure({ ...alert, metric: 'latency_p95_ms', observed: 900 }, entries, 100)).toBeUndefined()
  })

  it('a segment-wide entry prices the other failure rates', () => {
    expect(alertExposure({ ...alert, metric: 'error_rate' }, entries, 100)!.usd_per_failure).toBe(5)
  })
})

describe('payloads carry the exposure block', () => {
  const exposure = alertExposure(exampleAlert(), entries, 10_000)!
  const alert = AlertSchema.parse({ ...exampleAlert(), exposure })

  it('PagerDuty custom_details', () => {
    const event = buildPagerDutyEvent(alert, options)
    expect(event.event_action === 'trigger' && event.payload.custom_details?.exposure).toEqual(exposure)
  })

  it('the rollback trigger (webhook body and Kafka value), valid against its schema', () => {
    const trigger = buildRollbackTrigger(alert)
    expect(RollbackTriggerSchema.parse(trigger).exposure).toEqual(exposure)
  })

  it('absent, not null, when exposure does not cover the alert', () => {
    expect('exposure' in buildRollbackTrigger(exampleAlert())).toBe(false)
    const event = buildPagerDutyEvent(exampleAlert(), options)
    expect(event.event_action === 'trigger' && 'exposure' in (event.payload.custom_details ?? {})).toBe(false)
  })
})

describe('withExposure', () => {
  const recorder = () => {
    const sent: unknown[] = []
    const emitter: AlertEmitter = {
      sinksFor: () => ['webhook'],
      emit: async (a) => {
        sent.push(buildRollbackTrigger(a))
        return [{ sink: 'webhook', ok: true, attempts: 1 }]
      },
    }
    return { sent, emitter }
  }

  it('measures the scope traffic and attaches the block before the sinks build payloads', async () => {
    const { sent, emitter } = recorder()
    const asked: string[] = []
    const wrapped = withExposure(emitter, {
      entries,
      dailyTraffic: async (segment, modality) => {
        asked.push(`${segment}/${modality}`)
        return 2_000
      },
      log: silentLogger,
    })
    await wrapped.emit(exampleAlert())
    expect(asked).toEqual(['invoice_extraction/text'])
    expect((sent[0] as { exposure: { daily_traffic: number } }).exposure.daily_traffic).toBe(2_000)
  })

  it('a failing traffic measurement still sends the alert, without the block', async () => {
    const { sent, emitter } = recorder()
    const wrapped = withExposure(emitter, {
      entries,
      dailyTraffic: async () => {
        throw new Error('store down')
      },
      log: silentLogger,
    })
    const results = await wrapped.emit(exampleAlert())
    expect(results[0]!.ok).toBe(true)
    expect('exposure' in (sent[0] as object)).toBe(false)
  })
})
