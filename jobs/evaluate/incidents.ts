// Incident bookkeeping, in one owner. An incident is one (dedup_key, fired_at): its trigger
// and, later, its resolve. Each alert is recorded in the `alerts` table before it is sent
// (with the sinks that owe it), the rule state that goes with it is saved, then it is sent,
// and recorded again with the sinks that confirmed. So a crash anywhere in between is
// finished by the next cycle, and nobody is paged twice:
// - crash after the record, before the state: the next look fires again, finds the incident
//   open under the same key and keeps it (same fired_at, same alert_id), sending only what
//   is still owed;
// - crash or a failing sink before the confirmation: sendOwed() completes it next cycle.
// The evaluation cycle calls transition() once per fire or resolve; resolve() closes an open
// incident for a reason the test did not decide (the version was rolled back, has no traffic).

import { type Alert, AlertSchema, alertNumbers, parseAlert } from '../../alerts/alert.ts'
import type { SinkName } from '../../alerts/delivery.ts'
import type { AlertEmitter } from '../../alerts/emitter.ts'
import { errorMessage } from '../../lib/errors.ts'
import type { Logger } from '../../lib/log.ts'
import type { RuleState } from '../../rules/evaluate.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime, isoTime, parseClickhouseTime } from '../../store/time.ts'
import { saveRuleStates } from './state-store.ts'

/** One row per alert (trigger or resolve) of one incident; rewritten as sinks confirm. */
export function alertId(alert: Pick<Alert, 'dedup_key' | 'fired_at' | 'state'>): string {
  return `${alert.dedup_key}@${alert.fired_at}#${alert.state}`
}

/** An alert as recorded: which sinks it is for and which confirmed. */
export interface AlertRecord {
  alert: Alert
  sinks: SinkName[]
  sentTo: SinkName[]
  lastError: string
  /** When this row was written (epoch ms); a rewrite is always later, so it wins. */
  createdAt: number
}

export interface IncidentDeps {
  store: Store
  emitter: AlertEmitter
  log: Logger
  /** Clock for the record's created_at and for resolve(); default Date.now. */
  now?: () => number
}

export interface Incidents {
  /** Sends every recorded alert a sink still owes (a crash or a failing sink left it unfinished). */
  sendOwed(): Promise<void>
  /**
   * One transition the evaluator decided (a `firing` or `resolved` alert) with the rule state
   * that goes with it: recorded, state saved, sent, confirmations recorded. An incident already
   * open under the key is the same incident. Returns the alert as recorded and sent.
   */
  transition(alert: Alert, state: RuleState): Promise<Alert>
  /**
   * Closes the open incident of a key for a reason outside the test ("v2 was rolled back"),
   * sending a resolve with the incident's last numbers and `reason` as its message. `state`,
   * if given, is the rule state to save with it (already resolved by the caller). undefined
   * when no incident is open under the key.
   */
  resolve(dedupKey: string, reason: string, state?: RuleState): Promise<Alert | undefined>
  /** The open incidents (the newest alert of their key is `firing`), optionally of one rule. */
  open(rule?: string): Promise<Alert[]>
}

export function createIncidents(deps: IncidentDeps): Incidents {
  const { store, emitter, log } = deps
  const now = deps.now ?? Date.now

  /** Writes a row strictly newer than the one it replaces: argMax(…, created_at) must not tie. */
  async function record(r: Omit<AlertRecord, 'createdAt'>, after?: number): Promise<AlertRecord> {
    const written = { ...r, createdAt: Math.max(now(), (after ?? Number.NEGATIVE_INFINITY) + 1) }
    await recordAlert(store, written)
    return written
  }

  async function send(r: AlertRecord): Promise<void> {
    const missing = r.sinks.filter((s) => !r.sentTo.includes(s))
    if (missing.length === 0) return
    const results = await emitter.emit(r.alert, { sinks: missing })
    const sentTo: SinkName[] = [...r.sentTo, ...results.filter((x) => x.ok).map((x) => x.sink)]
    const errors = results.filter((x) => !x.ok).map((x) => `${x.sink}: ${x.error}`)
    for (const x of results) {
      const fields = {
        rule: r.alert.rule,
        dedup_key: r.alert.dedup_key,
        state: r.alert.state,
        sink: x.sink,
        attempts: x.attempts,
      }
      if (x.ok) log.info('alert delivered', fields)
      else log.error('alert delivery failed; retried next cycle', { ...fields, error: x.error })
    }
    await record({ alert: r.alert, sinks: r.sinks, sentTo, lastError: errors.join('; ') }, r.createdAt)
  }

  async function transition(decided: Alert, state: RuleState): Promise<Alert> {
    let alert = decided
    const latest = await latestRecord(store, log, alert.dedup_key)
    // Open under this key (a crash between recording it and saving the state): the same
    // incident, so the same fired_at and alert_id.
    if (alert.state === 'firing' && latest?.alert.state === 'firing') {
      alert = { ...alert, fired_at: latest.alert.fired_at }
      state.fired_at = parseClickhouseTime(latest.alert.fired_at)
    }
    if (latest && alertId(latest.alert) === alertId(alert)) {
      await saveRuleStates(store, [state])
      await send(latest)
      return alert
    }
    const fresh = await record({ alert, sinks: emitter.sinksFor(alert), sentTo: [], lastError: '' })
    await saveRuleStates(store, [state])
    await send(fresh)
    return alert
  }

  async function resolve(dedupKey: string, reason: string, state?: RuleState): Promise<Alert | undefined> {
    const latest = await latestRecord(store, log, dedupKey)
    if (latest?.alert.state !== 'firing') return undefined
    const at = now()
    const open = latest.alert
    const end = Math.max(at, parseClickhouseTime(open.window.start))
    const alert = parseAlert({
      ...open,
      state: 'resolved',
      resolved_at: isoTime(at),
      window: { start: open.window.start, end: isoTime(end) },
      message: reason,
    })
    const fresh = await record({ alert, sinks: emitter.sinksFor(alert), sentTo: [], lastError: '' })
    if (state) await saveRuleStates(store, [state])
    await send(fresh)
    return alert
  }

  return {
    async sendOwed() {
      for (const r of await undeliveredAlerts(store, log)) await send(r)
    },
    transition,
    resolve,
    async open(rule) {
      return (await latestRecords(store, log, { rule }))
        .filter((r) => r.alert.state === 'firing')
        .map((r) => r.alert)
    },
  }
}

async function recordAlert(store: Store, record: AlertRecord): Promise<void> {
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
      window_start: clickhouseTime(parseClickhouseTime(alert.window.start)),
      window_end: clickhouseTime(parseClickhouseTime(alert.window.end)),
      from_version: alert.from_version,
      to_version: alert.to_version,
      fired_at: clickhouseTime(parseClickhouseTime(alert.fired_at)),
      resolved_at: alert.resolved_at ? clickhouseTime(parseClickhouseTime(alert.resolved_at)) : null,
      message: alert.message,
      reproduce_sql: alert.reproduce_sql,
      sinks: record.sinks,
      sent_to: record.sentTo,
      last_error: record.lastError,
      payload: JSON.stringify(alert),
      created_at: clickhouseTime(record.createdAt),
    },
  ])
}

interface RecordRow {
  alert_id: string
  payload: string
  sinks: SinkName[]
  sent_to: SinkName[]
  last_error: string
  created_ms: number
}

const LATEST_COLUMNS = `argMax(payload, created_at) AS payload, argMax(sinks, created_at) AS sinks,
       argMax(sent_to, created_at) AS sent_to, argMax(last_error, created_at) AS last_error,
       toUnixTimestamp64Milli(max(created_at)) AS created_ms`

/** Alerts whose latest row still misses a sink: to be completed (idempotently) by the next cycle. */
async function undeliveredAlerts(store: Store, log: Logger): Promise<AlertRecord[]> {
  const rows = await store.query<RecordRow>(
    `SELECT alert_id, ${LATEST_COLUMNS}
FROM alerts GROUP BY alert_id
HAVING length(arrayFilter(s -> NOT has(sent_to, s), sinks)) > 0`,
  )
  return readRecords(rows, log)
}

/** The newest alert of one incident key, if any: a `firing` one means the incident is open. */
async function latestRecord(store: Store, log: Logger, dedupKey: string): Promise<AlertRecord | undefined> {
  return (await latestRecords(store, log, { dedupKey }))[0]
}

/** The newest alert row of every incident key (or of one key, or one rule). */
async function latestRecords(
  store: Store,
  log: Logger,
  filter: { dedupKey?: string; rule?: string },
): Promise<AlertRecord[]> {
  const where: string[] = []
  if (filter.dedupKey !== undefined) where.push('dedup_key = {k:String}')
  if (filter.rule !== undefined) where.push('rule = {rule:String}')
  const rows = await store.query<RecordRow>(
    `SELECT argMax(alert_id, created_at) AS alert_id, ${LATEST_COLUMNS}
FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
GROUP BY dedup_key`,
    {
      ...(filter.dedupKey !== undefined ? { k: filter.dedupKey } : {}),
      ...(filter.rule !== undefined ? { rule: filter.rule } : {}),
    },
  )
  return readRecords(rows, log)
}

/** Validates each stored alert against AlertSchema; an unreadable row is logged and skipped. */
function readRecords(rows: RecordRow[], log: Logger): AlertRecord[] {
  const records: AlertRecord[] = []
  for (const r of rows) {
    const alert = readAlert(r.payload)
    if (!alert.ok) {
      log.error('stored alert unreadable; skipped', {
        alert_id: r.alert_id,
        table: 'alerts',
        error: alert.error,
      })
      continue
    }
    records.push({
      alert: alert.value,
      sinks: r.sinks,
      sentTo: r.sent_to,
      lastError: r.last_error,
      createdAt: Number(r.created_ms),
    })
  }
  return records
}

function readAlert(payload: string): { ok: true; value: Alert } | { ok: false; error: string } {
  let json: unknown
  try {
    json = JSON.parse(payload)
  } catch (error) {
    return { ok: false, error: `payload is not JSON: ${errorMessage(error)}` }
  }
  const parsed = AlertSchema.safeParse(json)
  if (parsed.success) return { ok: true, value: parsed.data }
  return {
    ok: false,
    error: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
  }
}
