// driftwatch backtest: would these rules have caught last Tuesday's incident, and how often
// would they have paged last month? Replays the evaluation cycle as of each step over the
// stored interactions and scores (jobs/evaluate/backtest.ts), with no sinks, and prints every
// fire and resolve plus a per-rule summary. Live rule states and alerts are never touched.

import { goneVersions, lastStable } from '../../deploy/deployments.ts'
import { runBacktest } from '../../jobs/evaluate/backtest.ts'
import { parseDuration } from '../../lib/duration.ts'
import { ConfigError } from '../../lib/errors.ts'
import { parseClickhouseTime } from '../../store/time.ts'
import { choiceFlag, listFlag, parseCommandArgs } from '../args.ts'
import { appContext, openStore } from '../context.ts'
import type { Command } from '../io.ts'

const USAGE =
  'driftwatch backtest [--from T] [--to T] [--step 1m] [--rule NAME ...] [--change-at T] [--format table|json] [--config FILE]'

const HELP = `${USAGE}

  --from T        first step (ISO 8601 UTC, e.g. 2026-11-24T00:00:00Z); default --to minus 1 day
  --to T          last step; default the newest stored interaction
  --step D        time between steps (30s, 1m, 5m, 1h); default 1m
  --rule NAME     only this rule (repeatable); default every configured rule
  --change-at T   when the change you expect to catch happened: the summary's delay is from it
  --format F      table (default) or json: {"timeline": [...], "summary": [...]}

Evaluates the configured rules as of each step with the same code as the live evaluation
cycle: as of a step only interactions timed before it (and their scores) count. No alert is
sent and the live rule states and alert history are not changed. Reads the store directly:
stop a running monitor that owns the embedded store first (or use a ClickHouse server).
`

function timeFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) {
    throw new ConfigError(`--${name} must be an ISO 8601 time, got ${JSON.stringify(value)}`, {
      fix: `pass --${name} 2026-11-24T00:00:00Z`,
    })
  }
  return ms
}

export const backtestCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs(
    'backtest',
    argv,
    {
      from: { type: 'string' },
      to: { type: 'string' },
      step: { type: 'string' },
      rule: { type: 'string', multiple: true },
      'change-at': { type: 'string' },
      format: { type: 'string', short: 'f' },
    },
    USAGE,
  )
  if (values.help) {
    io.stdout(HELP)
    return 0
  }
  const format = choiceFlag('format', values.format, ['table', 'json'] as const, 'table')
  const step = values.step === undefined ? 60_000 : parseDuration(values.step)
  if (step === undefined || !(step > 0)) {
    throw new ConfigError(
      `--step must be a duration like 30s, 1m or 1h, got ${JSON.stringify(values.step)}`,
      {
        fix: 'pass --step 1m',
      },
    )
  }
  const ctx = appContext(io, values.config)
  const wanted = listFlag(values.rule)
  const rules = wanted ? ctx.config.rules.filter((r) => wanted.includes(r.name)) : ctx.config.rules
  const unknown = (wanted ?? []).filter((name) => !ctx.config.rules.some((r) => r.name === name))
  if (unknown.length > 0) {
    throw new ConfigError(`--rule ${unknown.join(', ')}: no such rule in the config`, {
      fix: `one of ${ctx.config.rules.map((r) => r.name).join(', ') || '(no rules configured: add rules: to driftwatch.yaml)'}`,
    })
  }
  const store = await openStore(ctx)
  try {
    let to = timeFlag('to', values.to)
    if (to === undefined) {
      const [row] = await store.query<{ t: string | null; n: number | string }>(
        'SELECT max(timestamp) AS t, count() AS n FROM interactions',
      )
      if (!row || Number(row.n) === 0 || !row.t) {
        throw new ConfigError('nothing stored to backtest over', {
          fix: 'ingest interactions first, or pass --from and --to',
        })
      }
      to = parseClickhouseTime(row.t) + 1
    }
    const from = timeFlag('from', values.from) ?? to - 86_400_000
    const changeAt = timeFlag('change-at', values['change-at'])
    const started = Date.now()
    const report = await runBacktest({
      store,
      rules,
      settings: ctx.config.evaluation,
      from,
      to,
      step,
      changeAt,
      lastStable: async (excluding) => (await lastStable(store, { excluding }))?.model_version,
      goneVersions: () => goneVersions(store),
      log: ctx.log,
    })
    if (format === 'json') {
      io.stdout(`${JSON.stringify(report)}\n`)
      return 0
    }
    const steps = Math.floor((to - from) / step) + 1
    io.stdout(
      `backtest of ${rules.length} rule(s), ${steps} steps of ${values.step ?? '1m'} from ${new Date(from).toISOString()} to ${new Date(to).toISOString()} (${((Date.now() - started) / 1000).toFixed(1)} s)\n\n`,
    )
    if (report.timeline.length === 0) io.stdout('no fires or resolves\n')
    for (const e of report.timeline) {
      io.stdout(
        `${e.at}  ${e.event.padEnd(7)} ${e.rule}  ${e.scope.model_version}/${e.scope.variant_id}/${e.scope.segment}/${e.scope.modality}  ${e.message}\n`,
      )
    }
    io.stdout('\nsummary\n')
    const header = ['rule', 'first_fire_at', 'delay_minutes', 'pages', 'pages_per_day']
    const rows = report.summary.map((s) => [
      s.rule,
      s.first_fire_at ?? '-',
      s.delay_minutes === null ? '-' : String(s.delay_minutes),
      String(s.pages),
      String(s.pages_per_day),
    ])
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    for (const r of [header, ...rows]) io.stdout(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`)
    return 0
  } finally {
    await store.close()
  }
}
