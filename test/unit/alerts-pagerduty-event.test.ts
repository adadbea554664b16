import { describe, expect, it } from 'vitest'
import { exampleAlert, exampleResolvedAlert } from '../../alerts/example-alert.ts'
import {
  buildPagerDutyEvent,
  PagerDutyEventSchema,
  pagerDutySummary,
  SUMMARY_MAX,
  truncate,
} from '../../alerts/pagerduty.ts'

const options = { routingKey: 'R0UT1NGKEY0123456789abcdef012345', source: 'driftwatch/prod-eu' }

describe('buildPagerDutyEvent: trigger', () => {
  const event = buildPagerDutyEvent(exampleAlert(), {
    ...options,
    links: (alert) => [
      { href: `https://ch.example.com/play?rule=${alert.rule}`, text: 'Reproduce in ClickHouse' },
    ],
  })

  it('has the Events API v2 shape with the alert dedup_key', () => {
    expect(PagerDutyEventSchema.parse(event)).toEqual(event)
    expect(event).toMatchObject({
      routing_key: options.routingKey,
      event_action: 'trigger',
      dedup_key: 'driftwatch:invoice-hallucination:llama-3.1-8b-ft-2025-06-02:canary:invoice_extraction:text',
      client: 'driftwatch',
      links: [
        { href: 'https://ch.example.com/play?rule=invoice-hallucination', text: 'Reproduce in ClickHouse' },
      ],
      payload: {
        source: 'driftwatch/prod-eu',
        severity: 'critical',
        timestamp: '2025-06-03T11:00:12.000Z',
        component: 'llama-3.1-8b-instruct',
        group: 'invoice_extraction',
        class: 'hallucination_rate',
      },
    })
  })

  it('puts the crossed limit with its numbers first in the summary, then the scope', () => {
    expect(event.event_action === 'trigger' && event.payload.summary).toBe(
      '[rollback] invoice-hallucination: hallucination_rate 0.021 > 0.01 (n=1,204, p=0.0003 < 0.01)' +
        ' · llama-3.1-8b-ft-2025-06-02 canary/invoice_extraction/text',
    )
  })

  it('carries every number and the reproducing SQL in custom_details', () => {
    if (event.event_action !== 'trigger') throw new Error('expected trigger')
    const alert = exampleAlert()
    expect(event.payload.custom_details).toMatchObject({
      observed: 0.021,
      baseline: 0.006,
      threshold: 0.01,
      p_value: 0.0003,
      confidence: 0.99,
      ci_low: 0.0142,
      ci_high: 0.0297,
      n: 1204,
      baseline_n: 18311,
      comparison: 'above',
      window_start: alert.window.start,
      window_end: alert.window.end,
      from_version: alert.from_version,
      to_version: alert.to_version,
      reproduce_sql: alert.reproduce_sql,
    })
    for (const [key, value] of Object.entries(alert)) {
      if (typeof value === 'number') expect(event.payload.custom_details?.[key], key).toBe(value)
    }
  })

  it('falls back to component "llm" and omits empty links', () => {
    const plain = buildPagerDutyEvent(exampleAlert({ model_name: undefined }), { ...options, links: [] })
    expect(plain.event_action === 'trigger' && plain.payload.component).toBe('llm')
    expect(plain).not.toHaveProperty('links')
  })
})

describe('severity mapping', () => {
  it.each([
    ['rollback', 'critical'],
    ['page', 'error'],
    ['ticket', 'warning'],
  ] as const)('%s → %s', (action, severity) => {
    const event = buildPagerDutyEvent(exampleAlert({ action }), options)
    expect(event.event_action === 'trigger' && event.payload.severity).toBe(severity)
  })
})

describe('buildPagerDutyEvent: resolve', () => {
  it('sends only routing_key, event_action and dedup_key', () => {
    expect(buildPagerDutyEvent(exampleResolvedAlert(), options)).toStrictEqual({
      routing_key: options.routingKey,
      event_action: 'resolve',
      dedup_key: exampleAlert().dedup_key,
    })
  })
})

describe('summary limit', () => {
  it('truncates to exactly 1024 characters with a visible marker', () => {
    const summary = pagerDutySummary(exampleAlert({ message: `x ${'9'.repeat(5000)}` }))
    expect(summary).toHaveLength(SUMMARY_MAX)
    expect(summary.endsWith('…')).toBe(true)
    expect(summary.startsWith('[rollback] invoice-hallucination: x 999')).toBe(true)
  })

  it('never splits a surrogate pair', () => {
    const cut = truncate(`${'a'.repeat(1022)}😀😀`, SUMMARY_MAX)
    expect(cut.length).toBeLessThanOrEqual(SUMMARY_MAX)
    expect(cut).toBe(`${'a'.repeat(1022)}…`)
    expect(() => encodeURIComponent(cut)).not.toThrow()
  })

  it('leaves short text alone', () => {
    expect(truncate('short', SUMMARY_MAX)).toBe('short')
  })

  it('the schema rejects what PagerDuty would reject', () => {
    const event = buildPagerDutyEvent(exampleAlert(), options)
    if (event.event_action !== 'trigger') throw new Error('expected trigger')
    const tooLong = { ...event, payload: { ...event.payload, summary: 'x'.repeat(1025) } }
    expect(PagerDutyEventSchema.safeParse(tooLong).success).toBe(false)
    expect(PagerDutyEventSchema.safeParse({ ...event, dedup_key: 'k'.repeat(256) }).success).toBe(false)
    const badSeverity = { ...event, payload: { ...event.payload, severity: 'fatal' } }
    expect(PagerDutyEventSchema.safeParse(badSeverity).success).toBe(false)
  })
})
