// The incident book on the real engine: record before send, send what is owed, one incident
// per (key, fired_at) across a crash, a resolve for a reason outside the test, and stored
// rows that do not match AlertSchema reported and skipped instead of crashing a cycle.
import { afterAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../alerts/alert.ts'
import { type AlertEmitterOptions, createAlertEmitter } from '../../alerts/emitter.ts'
import { exampleAlert } from '../../alerts/example-alert.ts'
import type { PagerDutyEvent } from '../../alerts/pagerduty.ts'
import type { RollbackTrigger } from '../../alerts/rollback-trigger.ts'
import { createIncidents } from '../../jobs/evaluate/incidents.ts'
import { loadRuleStates } from '../../jobs/evaluate/state-store.ts'
import { createLogger } from '../../lib/log.ts'
import type { RuleState } from '../../rules/evaluate.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime, parseClickhouseTime } from '../../store/time.ts'
import { createTestStore } from '../helpers/store.ts'

const stores: Store[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
})

/** In-memory sinks recording what they were given; `failing` makes PagerDuty answer 500 until cleared. */
function sinks() {
  const sent = { pagerduty: [] as PagerDutyEvent[], webhook: [] as RollbackTrigger[] }
  const control = { failing: false }
  const options: AlertEmitterOptions = {
    pagerduty: {
      routingKey: 'rk',
      source: 'driftwatch/test',
      sender: {
        async send(event) {
          if (control.failing) throw new Error('PagerDuty answered 500')
          sent.pagerduty.push(event)
          return { status: 202, dedupKey: event.dedup_key, attempts: 1 }
        },
      },
    },
    webhook: {
      async send(trigger) {
        sent.webhook.push(trigger)
        return { status: 200, attempts: 1 }
      },
    },
  }
  return { sent, control, emitter: createAlertEmitter(options) }
}

function logLines() {
  const lines: Array<Record<string, unknown>> = []
  const log = createLogger({ level: 'warn', write: (line) => lines.push(JSON.parse(line)) })
  return { lines, log }
}

function stateFor(alert: Alert, status: RuleState['status'], now: number): RuleState {
  return {
    dedup_key: alert.dedup_key,
    rule: alert.rule,
    metric: alert.metric,
    scope: alert.scope,
    scorer_version: 'judge-v1',
    status,
    started_at: parseClickhouseTime(alert.window.start),
    seq: { looks: 3, pValue: 0.0003, lowerBound: 0.012, margin: 0.01, tau: 0.01 },
    consecutive_fire: status === 'firing' ? 1 : 0,
    consecutive_healthy: 0,
    fired_at: parseClickhouseTime(alert.fired_at),
    resolved_at: status === 'resolved' ? now : null,
    suppressed: false,
    updated_at: now,
    last: null,
  }
}

async function setup() {
  const store = await createTestStore()
  stores.push(store)
  const s = sinks()
  const { lines, log } = logLines()
  let clock = Date.UTC(2025, 5, 3, 11, 0, 12)
  const incidents = createIncidents({ store, emitter: s.emitter, log, now: () => clock })
  const tick = (ms: number) => {
    clock += ms
    return clock
  }
  return { store, incidents, ...s, lines, tick, now: () => clock }
}

describe('incidents', () => {
  it('records before sending, completes what a failing sink still owes, and never sends a sink twice', async () => {
    const { store, incidents, sent, control } = await setup()
    const alert = exampleAlert()
    control.failing = true
    await incidents.transition(alert, stateFor(alert, 'firing', 1))
    expect(sent.webhook).toHaveLength(1)
    expect(sent.pagerduty).toHaveLength(0)
    const states = await loadRuleStates(store)
    expect(states.get(alert.dedup_key)?.status).toBe('firing')
    expect((await incidents.open()).map((a) => a.dedup_key)).toEqual([alert.dedup_key])

    control.failing = false
    await incidents.sendOwed()
    await incidents.sendOwed()
    expect(sent.pagerduty).toHaveLength(1)
    expect(sent.webhook).toHaveLength(1)
  })

  it('keeps an open incident open under its key: a second fire (a crash before the state was saved) pages nobody', async () => {
    const { incidents, sent, tick } = await setup()
    const first = exampleAlert()
    await incidents.transition(first, stateFor(first, 'firing', 1))
    const later = exampleAlert({ fired_at: new Date(tick(60_000)).toISOString(), observed: 0.03 })
    const state = stateFor(later, 'firing', 2)
    const kept = await incidents.transition(later, state)
    expect(kept.fired_at).toBe(first.fired_at)
    expect(state.fired_at).toBe(parseClickhouseTime(first.fired_at))
    expect(sent.pagerduty).toHaveLength(1)
    expect(sent.webhook).toHaveLength(1)
  })

  it('resolves an open incident for a reason, once, with the incident fired_at', async () => {
    const { store, incidents, sent, tick } = await setup()
    const alert = exampleAlert()
    await incidents.transition(alert, stateFor(alert, 'firing', 1))
    const at = tick(5 * 60_000)
    const reason = `${alert.from_version} was rolled back; the incident is closed without a test`
    const resolved = await incidents.resolve(alert.dedup_key, reason, stateFor(alert, 'resolved', at))
    expect(resolved).toMatchObject({
      state: 'resolved',
      fired_at: alert.fired_at,
      message: reason,
      resolved_at: new Date(at).toISOString(),
    })
    expect(sent.pagerduty.map((e) => e.event_action)).toEqual(['trigger', 'resolve'])
    expect(sent.webhook.map((t) => t.state)).toEqual(['firing', 'resolved'])
    expect(await incidents.open()).toEqual([])
    expect((await loadRuleStates(store)).get(alert.dedup_key)?.status).toBe('resolved')
    // Nothing open any more: a second resolve is a no-op.
    expect(await incidents.resolve(alert.dedup_key, reason)).toBeUndefined()
    expect(sent.pagerduty).toHaveLength(2)
  })

  it('reports and skips a stored alert that does not match AlertSchema', async () => {
    const { store, incidents, lines, sent } = await setup()
    const good = exampleAlert()
    await incidents.transition(good, stateFor(good, 'firing', 1))
    const other = exampleAlert({ rule: 'other', dedup_key: 'driftwatch:other:v:canary:s:text' })
    const payloads = { schema: JSON.stringify({ ...other, observed: 'high' }), json: '{not json' }
    for (const [id, payload] of Object.entries(payloads)) {
      await store.insert('alerts', [
        {
          alert_id: `bad-${id}`,
          dedup_key: other.dedup_key,
          rule: other.rule,
          metric: other.metric,
          action: other.action,
          state: 'firing',
          ...other.scope,
          observed: 0,
          threshold: 0,
          comparison: 'above',
          confidence: 0.99,
          n: 0,
          window_start: clickhouseTime(0),
          window_end: clickhouseTime(0),
          from_version: other.from_version,
          fired_at: clickhouseTime(0),
          message: 'x',
          reproduce_sql: 'x',
          sinks: ['pagerduty'],
          sent_to: [],
          last_error: '',
          payload,
          created_at: clickhouseTime(Date.now()),
        },
      ])
    }
    await expect(incidents.sendOwed()).resolves.toBeUndefined()
    expect(sent.pagerduty).toHaveLength(1)
    expect((await incidents.open()).map((a) => a.dedup_key)).toEqual([good.dedup_key])
    const reported = lines.filter((l) => l.msg === 'stored alert unreadable; skipped')
    expect(new Set(reported.map((l) => l.alert_id))).toEqual(new Set(['bad-schema', 'bad-json']))
    expect(reported.find((l) => l.alert_id === 'bad-schema')?.error).toMatch(/^observed: /)
    expect(reported.find((l) => l.alert_id === 'bad-json')?.error).toMatch(/not JSON/)
  })
})
