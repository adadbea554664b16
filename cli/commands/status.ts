// driftwatch status: what the monitor sees now — traffic per scope over the last hour and
// every rule's state per scope, current value against its baseline or threshold. Read-only,
// through the running instance when one owns the embedded store.

import { choiceFlag, parseCommandArgs } from '../args.ts'
import { appContext } from '../context.ts'
import type { Command } from '../io.ts'
import { renderTable } from '../table.ts'
import { runReadOnly } from './sql.ts'

const USAGE = 'driftwatch status [--format table|json] [--config FILE]'

const SCOPES_SQL = `SELECT model_version, variant_id, segment, modality, count() AS requests,
  round(countIf(status = 'error') / count(), 4) AS error_rate,
  round(quantileIf(0.99)(latency_ms, status = 'ok')) AS latency_p99_ms
FROM interactions WHERE timestamp >= now64(3) - INTERVAL 1 HOUR
GROUP BY model_version, variant_id, segment, modality ORDER BY requests DESC LIMIT 50`

/** The table view leaves out the message (long); JSON has it. */
const rulesSql = (
  withMessage: boolean,
) => `SELECT rule, metric, model_version, variant_id, segment, modality, status,
  JSONExtractFloat(state, 'last', 'observed') AS observed,
  if(JSONExtractRaw(state, 'last', 'baseline') IN ('', 'null'), NULL, JSONExtractFloat(state, 'last', 'baseline')) AS baseline,
  JSONExtractFloat(state, 'last', 'threshold') AS threshold,
  JSONExtractString(state, 'last', 'comparison') AS comparison,
  JSONExtractUInt(state, 'last', 'n') AS n,
  if(JSONExtractRaw(state, 'last', 'p_value') IN ('', 'null'), NULL, JSONExtractFloat(state, 'last', 'p_value')) AS p_value,
  ${withMessage ? "JSONExtractString(state, 'last', 'message') AS message," : ''}
  last_update
FROM (SELECT dedup_key, argMax(rule, updated_at) AS rule, argMax(metric, updated_at) AS metric,
        argMax(model_version, updated_at) AS model_version, argMax(variant_id, updated_at) AS variant_id,
        argMax(segment, updated_at) AS segment, argMax(modality, updated_at) AS modality,
        argMax(status, updated_at) AS status, argMax(state, updated_at) AS state, max(updated_at) AS last_update
      FROM rule_states GROUP BY dedup_key)
ORDER BY status = 'firing' DESC, status = 'pending' DESC, rule, model_version, segment, modality`

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
      `${JSON.stringify({ scopes: await rows(SCOPES_SQL), rules: await rows(rulesSql(true)) }, null, 2)}\n`,
    )
    return 0
  }
  io.stdout('Traffic per scope, last hour\n')
  io.stdout(renderTable(await runReadOnly(ctx, SCOPES_SQL, {}, 'JSONCompactEachRowWithNames')))
  io.stdout(`\nRules (${ctx.config.rules.length} configured)\n`)
  io.stdout(renderTable(await runReadOnly(ctx, rulesSql(false), {}, 'JSONCompactEachRowWithNames')))
  return 0
}
