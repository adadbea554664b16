// driftwatch shadow report: the shadow pairs the `shadow` job stored (shadow_pairs), per
// shadow version x segment x modality: divergence, how it was measured (and any fallback to
// lexical), judge disagreement, latency and cost of shadow vs production. Read-only, through
// the running instance when one owns the embedded store. Pairs are made by
// `driftwatch jobs run shadow` (or the scheduler).

import { parseDuration } from '../../lib/duration.ts'
import { ConfigError } from '../../lib/errors.ts'
import { buildShadowReport, type ShadowReport, type StoredPair } from '../../shadow/report.ts'
import { choiceFlag, parseCommandArgs } from '../args.ts'
import { appContext } from '../context.ts'
import type { Command } from '../io.ts'
import { renderTable } from '../table.ts'
import { runReadOnly } from './sql.ts'

const USAGE = `driftwatch shadow report [--format table|json] [--since 24h] [--shadow-version V] [--config FILE]
  pairs are made by: driftwatch jobs run shadow`

const PAIRS_SQL = `SELECT shadow_version, production_version, segment, modality, method, fallback_reason, distance,
  divergent, judge_helpfulness_diff, judge_hallucination_disagree, production_status, shadow_status,
  production_latency_ms, shadow_latency_ms, production_cost_usd, shadow_cost_usd
FROM shadow_pairs FINAL
WHERE interaction_ts >= now64(3) - toIntervalMillisecond({since_ms:UInt64})
  AND ({version:String} = '' OR shadow_version = {version:String})
LIMIT 1000000`

export const shadowCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    'shadow',
    argv,
    {
      format: { type: 'string', short: 'f' },
      since: { type: 'string' },
      'shadow-version': { type: 'string' },
    },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  if (positionals[0] !== 'report' || positionals.length > 1) {
    throw new ConfigError(`driftwatch shadow: unknown sub-command ${JSON.stringify(positionals.join(' '))}`, {
      fix: `usage: ${USAGE}`,
    })
  }
  const format = choiceFlag('format', values.format, ['table', 'json'] as const, 'table')
  const sinceMs = parseDuration(values.since ?? '24h')
  if (sinceMs === undefined)
    throw new ConfigError(`--since ${JSON.stringify(values.since)} is not a duration`, {
      fix: 'e.g. --since 24h or 7d',
    })
  const ctx = appContext(io, values.config)
  const text = await runReadOnly(
    ctx,
    PAIRS_SQL,
    { since_ms: sinceMs, version: values['shadow-version'] ?? '' },
    'JSONEachRow',
  )
  const rows = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StoredPair)
    .map((r) => ({
      ...r,
      distance: Number(r.distance),
      production_latency_ms: Number(r.production_latency_ms),
      shadow_latency_ms: Number(r.shadow_latency_ms),
      production_cost_usd: r.production_cost_usd === null ? null : Number(r.production_cost_usd),
      shadow_cost_usd: r.shadow_cost_usd === null ? null : Number(r.shadow_cost_usd),
      judge_helpfulness_diff: r.judge_helpfulness_diff === null ? null : Number(r.judge_helpfulness_diff),
      judge_hallucination_disagree:
        r.judge_hallucination_disagree === null ? null : Number(r.judge_hallucination_disagree),
    }))
  const report = buildShadowReport(rows, ctx.config.shadow.divergence_threshold)
  if (format === 'json') {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`)
    return 0
  }
  io.stdout(renderReport(report))
  return 0
}

const COLUMNS = [
  'shadow_version',
  'segment',
  'modality',
  'pairs',
  'method',
  'div_mean',
  'div_rate',
  'judge_diff',
  'p50_prod',
  'p50_shadow',
  'p95_prod',
  'p95_shadow',
  'p95_diff_ci',
  'cost_prod',
  'cost_shadow',
  'cost_p',
]

function renderReport(report: ShadowReport): string {
  const lines = [
    `Shadow pairs: ${report.pairs}, ${report.divergent} above distance ${report.threshold}` +
      (report.fallback.pairs
        ? `; ${report.fallback.pairs} measured lexically after a fallback (${report.fallback.reasons.join('; ')})`
        : ''),
  ]
  const rows = report.scopes.map((s) => {
    const p95 = s.latency_ms.p95
    return [
      s.shadow_version,
      s.segment,
      s.modality,
      s.pairs,
      s.methods.embedding && s.methods.lexical
        ? `embedding ${s.methods.embedding}/lexical ${s.methods.lexical}`
        : s.methods.embedding
          ? 'embedding'
          : 'lexical',
      s.divergence_mean,
      s.divergence_rate,
      s.judge.helpfulness_diff_mean,
      s.latency_ms.p50.production,
      s.latency_ms.p50.shadow,
      p95.production,
      p95.shadow,
      p95.diff === null ? null : `${p95.diff} [${p95.ci_low}, ${p95.ci_high}]`,
      s.cost_usd.production_mean,
      s.cost_usd.shadow_mean,
      s.cost_usd.p_value,
    ]
  })
  const table = [COLUMNS, ...rows].map((r) => JSON.stringify(r)).join('\n')
  return `${lines.join('\n')}\n${renderTable(table)}${report.notes.map((n) => `note: ${n}`).join('\n')}\n`
}
