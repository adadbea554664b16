// driftwatch status: what the monitor sees now — traffic per scope over the last hour and
// every rule's state per scope, current value against its baseline or threshold, and the
// dollars at risk where `exposure:` prices a rule's scope. Read-only,
// through the running instance when one owns the embedded store.

import type { AlertExposure } from '../../alerts/alert.ts'
import { alertExposure } from '../../alerts/exposure.ts'
import { dailyKey, measureDailyTraffic } from '../../experiments/measure.ts'
import { latestStatesSql, readRuleStates, type StoredStateRow } from '../../jobs/evaluate/state-store.ts'
import { metricRowsSql } from '../../metrics/scope-stats.ts'
import { isoTime } from '../../store/time.ts'
import { choiceFlag, parseCommandArgs } from '../args.ts'
import { appContext } from '../context.ts'
import type { CliIO, Command } from '../io.ts'
import { renderTable } from '../table.ts'
import { runReadOnly } from './sql.ts'

const USAGE = 'driftwatch status [--format table|json] [--config FILE]'

/** Traffic per scope over the last hour: requests, error rate and p99 latency, as the registry defines them. */
const SCOPES_SQL = `SELECT model_version, variant AS variant_id, segment, modality,
  maxIf(n, metric_name = 'error_rate') AS requests,
  round(maxIf(value, metric_name = 'error_rate'), 4) AS error_rate,
  if(countIf(metric_name = 'latency_p99_ms') > 0, round(maxIf(value, metric_name = 'latency_p99_ms')), NULL) AS latency_p99_ms
FROM (
${metricRowsSql({ metrics: ['error_rate', 'latency_p99_ms'], window: (t) => `${t} >= now64(3) - INTERVAL 1 HOUR` })}
)
GROUP BY model_version, variant, segment, modality ORDER BY requests DESC LIMIT 50`

/** Every rule state, read through the state store's loader (validated; a bad row is reported). */
async function ruleRows(
  ctx: ReturnType<typeof appContext>,
  io: CliIO,
  withMessage: boolean,
): Promise<Record<string, unknown>[]> {
  const text = await runReadOnly(ctx, latestStatesSql(false), {}, 'JSONEachRow')
  const rows = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StoredStateRow)
  const { states, skipped } = readRuleStates(rows)
  for (const s of skipped) io.stderr(`warning: rule state ${s.dedup_key} unreadable, not shown: ${s.error}\n`)
  const rank = (status: string) => (status === 'firing' ? 0 : status === 'pending' ? 1 : 2)
  return [...states.values()]
    .sort(
      (a, b) =>
        rank(a.status) - rank(b.status) ||
        compare(a.rule, b.rule) ||
        compare(a.scope.model_version, b.scope.model_version) ||
        compare(a.scope.segment, b.scope.segment) ||
        compare(a.scope.modality, b.scope.modality),
    )
    .map((s) => ({
      rule: s.rule,
      metric: s.metric,
      ...s.scope,
      status: s.status,
      observed: s.last?.observed ?? null,
      baseline: s.last?.baseline ?? null,
      threshold: s.last?.threshold ?? null,
      comparison: s.last?.comparison ?? null,
      n: s.last?.n ?? null,
      p_value: s.last?.p_value ?? null,
      ...(withMessage ? { message: s.last?.message ?? null } : {}),
      last_update: isoTime(s.updated_at),
    }))
}

/**
 * Dollars at risk per rule scope (config `exposure:`): the last look's observed failure rate
 * (candidate) and its baseline on the slice's measured daily traffic, priced as alerts are.
 */
async function exposureRows(
  ctx: ReturnType<typeof appContext>,
  rules: readonly Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  const entries = ctx.config.exposure
  if (entries.length === 0) return []
  const query = async <T>(sql: string, params: Record<string, unknown>): Promise<T[]> =>
    (await runReadOnly(ctx, sql, params, 'JSONEachRow'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as T)
  const daily = await measureDailyTraffic(query)
  const out: Record<string, unknown>[] = []
  for (const r of rules) {
    if (typeof r.observed !== 'number') continue
    const scope = {
      model_version: String(r.model_version),
      variant_id: String(r.variant_id),
      segment: String(r.segment),
      modality: String(r.modality),
    }
    const e = alertExposure(
      {
        metric: String(r.metric),
        scope,
        observed: r.observed,
        baseline: typeof r.baseline === 'number' ? r.baseline : null,
      },
      entries,
      daily.get(dailyKey(scope.segment, scope.modality)) ?? 0,
    )
    if (e) out.push({ rule: r.rule, metric: r.metric, ...scope, ...e })
  }
  return out
}

const EXPOSURE_COLUMNS = [
  'rule',
  'model_version',
  'segment',
  'modality',
  'metric',
  'traffic_per_day',
  'usd_per_failure',
  'failures_per_day',
  'baseline_failures_per_day',
  'usd_per_day',
  'baseline_usd_per_day',
  'delta_usd_per_day',
]

const round = (x: number | null | undefined, digits: number) =>
  x === null || x === undefined ? null : Number(x.toFixed(digits))

function exposureTableRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => {
    const e = r as unknown as AlertExposure
    return {
      ...r,
      traffic_per_day: Math.round(e.daily_traffic),
      failures_per_day: round(e.candidate?.failures_per_day, 1),
      baseline_failures_per_day: round(e.baseline?.failures_per_day, 1),
      usd_per_day: round(e.candidate?.usd_per_day, 2),
      baseline_usd_per_day: round(e.baseline?.usd_per_day, 2),
      delta_usd_per_day: round(e.delta_usd_per_day, 2),
    }
  })
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Objects as JSONCompactEachRowWithNames text, the table renderer's input. */
function compactWithNames(rows: Record<string, unknown>[], columns: string[]): string {
  return [columns, ...rows.map((r) => columns.map((c) => r[c] ?? null))]
    .map((r) => JSON.stringify(r))
    .join('\n')
}

const RULE_COLUMNS = [
  'rule',
  'metric',
  'model_version',
  'variant_id',
  'segment',
  'modality',
  'status',
  'observed',
  'baseline',
  'threshold',
  'comparison',
  'n',
  'p_value',
  'last_update',
]

export const statusCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs('status', argv, { format: { type: 'string', short: 'f' } }, USAGE)
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const format = choiceFlag('format', values.format, ['table', 'json'] as const, 'table')
  const ctx = appContext(io, values.config)
  if (format === 'json') {
    const rows = async (sql: string) =>
      (await runReadOnly(ctx, sql, {}, 'JSONEachRow'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    const rules = await ruleRows(ctx, io, true)
    const exposure = await exposureRows(ctx, rules)
    io.stdout(`${JSON.stringify({ scopes: await rows(SCOPES_SQL), rules, exposure }, null, 2)}\n`)
    return 0
  }
  io.stdout('Traffic per scope, last hour\n')
  io.stdout(renderTable(await runReadOnly(ctx, SCOPES_SQL, {}, 'JSONCompactEachRowWithNames')))
  io.stdout(`\nRules (${ctx.config.rules.length} configured)\n`)
  const rules = await ruleRows(ctx, io, false)
  io.stdout(renderTable(compactWithNames(rules, RULE_COLUMNS)))
  const exposure = await exposureRows(ctx, rules)
  if (exposure.length > 0) {
    io.stdout('\nMoney at risk per day (exposure:, last look vs baseline, measured traffic)\n')
    io.stdout(renderTable(compactWithNames(exposureTableRows(exposure), EXPOSURE_COLUMNS)))
  }
  return 0
}
