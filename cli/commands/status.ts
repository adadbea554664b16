// driftwatch status: what the monitor sees now — traffic per scope over the last hour and
// every rule's state per scope, current value against its baseline or threshold. Read-only,
// through the running instance when one owns the embedded store.

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
    io.stdout(
      `${JSON.stringify({ scopes: await rows(SCOPES_SQL), rules: await ruleRows(ctx, io, true) }, null, 2)}\n`,
    )
    return 0
  }
  io.stdout('Traffic per scope, last hour\n')
  io.stdout(renderTable(await runReadOnly(ctx, SCOPES_SQL, {}, 'JSONCompactEachRowWithNames')))
  io.stdout(`\nRules (${ctx.config.rules.length} configured)\n`)
  io.stdout(renderTable(compactWithNames(await ruleRows(ctx, io, false), RULE_COLUMNS)))
  return 0
}
