// The alerts table: every incident's trigger and resolve, with the numbers and which sinks
// confirmed delivery. Written before sending and again after, so a crash in between leaves
// a row whose missing sinks the next cycle completes — never a second page.

import type { Store } from '../store/store.ts'
import { clickhouseTime } from '../store/time.ts'
import { type Alert, alertNumbers } from './alert.ts'
import type { SinkName } from './delivery.ts'

export function alertId(alert: Pick<Alert, 'dedup_key' | 'fired_at' | 'state'>): string {
  return `${alert.dedup_key}@${alert.fired_at}#${alert.state}`
}

export interface AlertRecord {
  alert: Alert
  sinks: SinkName[]
  sentTo: SinkName[]
  lastError: string
}

export async function recordAlert(store: Store, record: AlertRecord, now = Date.now()): Promise<void> {
  const { alert } = record
  await store.insert('alerts', [
    {
      alert_id: alertId(alert),
      dedup_key: alert.dedup_key,
      rule: alert.rule,
      metric: alert.metric,
      action: alert.action,
      state: alert.state,
      ...alert.scope,
      ...alertNumbers(alert),
      window_start: clickhouseTime(Date.parse(alert.window.start)),
      window_end: clickhouseTime(Date.parse(alert.window.end)),
      from_version: alert.from_version,
      to_version: alert.to_version,
      fired_at: clickhouseTime(Date.parse(alert.fired_at)),
      resolved_at: alert.resolved_at ? clickhouseTime(Date.parse(alert.resolved_at)) : null,
      message: alert.message,
      reproduce_sql: alert.reproduce_sql,
      sinks: record.sinks,
      sent_to: record.sentTo,
      last_error: record.lastError,
      payload: JSON.stringify(alert),
      created_at: clickhouseTime(now),
    },
  ])
}

/** Alerts whose latest row still misses a sink: to be completed (idempotently) by the next cycle. */
export async function undeliveredAlerts(store: Store): Promise<AlertRecord[]> {
  const rows = await store.query<{
    payload: string
    sinks: SinkName[]
    sent_to: SinkName[]
    last_error: string
  }>(
    `SELECT argMax(payload, created_at) AS payload, argMax(sinks, created_at) AS sinks,
            argMax(sent_to, created_at) AS sent_to, argMax(last_error, created_at) AS last_error
     FROM alerts GROUP BY alert_id
     HAVING length(arrayFilter(s -> NOT has(sent_to, s), sinks)) > 0`,
  )
  return rows.map((r) => ({
    alert: JSON.parse(r.payload),
    sinks: r.sinks,
    sentTo: r.sent_to,
    lastError: r.last_error,
  }))
}

/** The newest alert of an incident key, if any: a 'firing' one means the incident is open. */
export async function latestAlert(store: Store, dedupKey: string): Promise<Alert | undefined> {
  const rows = await store.query<{ payload: string }>(
    'SELECT argMax(payload, created_at) AS payload FROM alerts WHERE dedup_key = {k:String} GROUP BY dedup_key',
    { k: dedupKey },
  )
  return rows[0] ? (JSON.parse(rows[0].payload) as Alert) : undefined
}
