// driftwatch experiment list | plan NAME | analyze NAME: A/B experiments from driftwatch.yaml
// `experiments:`. analyze prints the decision (ship | reject | keep_running | no_difference)
// with the rule of the decision matrix that made it and stores it in experiment_results;
// exit 0 for any decision, 2 for bad input. Through the running instance when one owns
// the embedded store.

import type { ExposureEntry } from '../../config/schema.ts'
import type { MetricResult } from '../../experiments/analysis.ts'
import { DECISION_MATRIX } from '../../experiments/decision.ts'
import type { QueryFn } from '../../experiments/measure.ts'
import { type LastResult, lastResults } from '../../experiments/results.ts'
import {
  analyzeAndStore,
  type ExperimentPlan,
  planExperiment,
  type ReportWithExposure,
  storeQuery,
} from '../../experiments/run.ts'
import type { Experiment } from '../../experiments/schema.ts'
import { ConfigError, DriftwatchError } from '../../lib/errors.ts'
import type { Exposure } from '../../metrics/exposure.ts'
import { migrate } from '../../store/migrate.ts'
import { choiceFlag, parseCommandArgs } from '../args.ts'
import { type AppContext, appContext, reachStore } from '../context.ts'
import type { Command } from '../io.ts'

const USAGE = `driftwatch experiment <subcommand> [flags]

  list            configured experiments and their last decision
  plan NAME       sample size per variant and days needed, baseline measured from stored data
  analyze NAME    SRM and assignment checks, every metric per segment x modality, the decision
                  (stored in experiment_results)

flags: --format table|json, --config FILE`

const SUBCOMMANDS = ['list', 'plan', 'analyze'] as const

export const experimentCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    'experiment',
    argv,
    { format: { type: 'string', short: 'f' } },
    USAGE,
  )
  if (values.help) {
    io.stdout(
      `${USAGE}\n\nthe decision matrix (first rule that applies decides):\n${DECISION_MATRIX.map((r) => `  ${r.rule} -> ${r.decision}: ${r.description}`).join('\n')}\n`,
    )
    return 0
  }
  const [sub, name, ...extra] = positionals
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new ConfigError(
      sub
        ? `driftwatch experiment: unknown subcommand ${JSON.stringify(sub)}`
        : 'driftwatch experiment: no subcommand given',
      { fix: `use one of ${SUBCOMMANDS.join(', ')}\n${USAGE}` },
    )
  }
  if (extra.length > 0)
    throw new ConfigError(`driftwatch experiment ${sub}: unexpected argument ${JSON.stringify(extra[0])}`)
  const format = choiceFlag('format', values.format, ['table', 'json'] as const, 'table')
  const ctx = appContext(io, values.config)
  if (sub === 'list') {
    if (name) throw new ConfigError(`driftwatch experiment list takes no NAME (got ${JSON.stringify(name)})`)
    const last = await withQuery(ctx, (query) => lastResults(query))
    const rows = ctx.config.experiments.map((e) =>
      listRow(
        e,
        last.find((l) => l.experiment === e.name),
      ),
    )
    io.stdout(format === 'json' ? `${JSON.stringify({ experiments: rows }, null, 2)}\n` : renderList(rows))
    return 0
  }
  const experiment = findExperiment(ctx, name, sub)
  if (sub === 'plan') {
    const plan = await withQuery(ctx, (query) => planExperiment(query, experiment))
    io.stdout(format === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan))
    return 0
  }
  const report = await reachStore(
    ctx,
    (url) => analyzeViaInstance(url, experiment, ctx.config.exposure),
    async (store) => {
      await migrate(store, ctx.log)
      return analyzeAndStore(store, experiment, new Date(), ctx.config.exposure)
    },
  )
  io.stdout(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report))
  return 0
}

function findExperiment(ctx: AppContext, name: string | undefined, sub: string): Experiment {
  const known = ctx.config.experiments.map((e) => e.name)
  const hint = known.length
    ? `configured experiments: ${known.join(', ')}`
    : `no experiments configured in ${ctx.configSource ?? 'driftwatch.yaml'}: add one under experiments: (docs/experiments.md)`
  if (!name) throw new ConfigError(`driftwatch experiment ${sub}: no NAME given`, { fix: hint })
  const experiment = ctx.config.experiments.find((e) => e.name === name)
  if (!experiment)
    throw new ConfigError(`driftwatch experiment ${sub}: unknown experiment ${JSON.stringify(name)}`, {
      fix: hint,
    })
  return experiment
}

/** A read-only query runner over the store or the running instance's /sql. */
function withQuery<T>(ctx: AppContext, run: (query: QueryFn) => Promise<T>): Promise<T> {
  return reachStore(
    ctx,
    (url) => run(httpQuery(url)),
    async (store) => {
      await migrate(store, ctx.log)
      return run(storeQuery(store))
    },
  )
}

function httpQuery(url: string): QueryFn {
  return async <T>(query: string, params: Record<string, unknown>) => {
    const response = await fetch(`${url}/sql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, params, format: 'JSONEachRow' }),
    })
    const text = await response.text()
    if (!response.ok)
      throw new DriftwatchError('SQL_FAILED', `the running instance at ${url} refused a query: ${text}`)
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as T)
  }
}

async function analyzeViaInstance(
  url: string,
  experiment: Experiment,
  exposure: readonly ExposureEntry[],
): Promise<ReportWithExposure> {
  const response = await fetch(`${url}/experiments/analyze`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment, exposure }),
  })
  const text = await response.text()
  if (!response.ok)
    throw new DriftwatchError(
      'EXPERIMENT_FAILED',
      `the running instance at ${url} could not analyze: ${text}`,
      {
        fix: 'restart the running instance (`driftwatch start`) so it serves /experiments/analyze',
      },
    )
  return JSON.parse(text) as ReportWithExposure
}

const armText = (arm: Record<string, string | undefined>) =>
  Object.entries(arm)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')

function listRow(e: Experiment, last: LastResult | undefined) {
  return {
    name: e.name,
    control: armText(e.control),
    treatment: armText(e.treatment),
    where: armText(e.where),
    goal: e.goal.map((g) => `${g.metric} (mde ${g.mde})`).join(', '),
    guardrails: e.guardrails.map((g) => g.metric).join(', '),
    started_at: e.started_at.toISOString(),
    last_decision: last?.decision ?? null,
    last_rule: last?.rule ?? null,
    last_analyzed_at: last?.last_at ?? null,
    analyses: Number(last?.analyses ?? 0),
  }
}

function table(header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return `${cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`
}

function renderList(rows: ReturnType<typeof listRow>[]): string {
  if (rows.length === 0)
    return 'no experiments configured (driftwatch.yaml experiments:, see docs/experiments.md)\n'
  return table(
    [
      'name',
      'control',
      'treatment',
      'where',
      'goal',
      'guardrails',
      'started_at',
      'last_decision',
      'last_rule',
    ],
    rows.map((r) => [
      r.name,
      r.control,
      r.treatment,
      r.where,
      r.goal,
      r.guardrails,
      r.started_at,
      r.last_decision,
      r.last_rule,
    ]),
  )
}

const num = (x: number | null | undefined, digits = 4): string =>
  x === null || x === undefined
    ? '-'
    : Math.abs(x) >= 1000
      ? x.toFixed(0)
      : Number(x.toPrecision(digits)).toString()
const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`)
const pv = (x: number | null | undefined) =>
  x === null || x === undefined ? '-' : x < 1e-4 ? x.toExponential(1) : x.toFixed(4)

function renderPlan(plan: ExperimentPlan): string {
  const lines = [
    `experiment ${plan.experiment}: ${plan.planned_per_variant ?? '?'} per variant${plan.duration_days !== null ? `, ~${plan.duration_days} day(s) at ${Math.round(plan.daily!)} observations/day` : ''}`,
    `alpha ${plan.alpha} over ${plan.comparisons} comparisons -> ${plan.alpha_per_comparison.toPrecision(3)} each (Bonferroni), power ${plan.power}; baseline from the control arm ${plan.baseline_window === 'experiment' ? 'since started_at' : 'before started_at (no experiment data yet)'}`,
    '',
    table(
      ['goal', 'kind', 'baseline', 'target', 'mde', 'effect_size', 'per_variant'],
      plan.goals.map((g) => [
        g.metric,
        g.kind,
        num(g.baseline),
        num(g.target),
        g.mde,
        num(g.effect_size),
        g.sample_size_per_variant,
      ]),
    ),
  ]
  if (plan.planned_per_variant === null)
    lines.push('no control data to measure a baseline from yet: ingest traffic (and score it) first\n')
  return lines.join('\n')
}

export function renderReport(r: ReportWithExposure): string {
  const head = [
    `experiment ${r.experiment}: ${r.decision.toUpperCase()}`,
    `  ${r.reason}`,
    `  srm: p = ${pv(r.srm.p_value)}${r.srm.flagged ? '  FLAGGED (< 0.001): decision blocked' : ''} (users control ${r.srm.users.control}, treatment ${r.srm.users.treatment})`,
    `  assignment: ${r.assignment.users_in_both} user(s) in both arms${r.assignment.users_in_both > 0 ? ` (${pct(r.assignment.share_in_both)}) WARNING: each user must see one variant` : ''}`,
    `  planned per variant: ${r.planned_per_variant ?? '?'}, observed: ${r.observed_per_variant}`,
    `  ${r.correction.comparisons} comparisons, Holm-corrected at alpha ${r.correction.alpha}; intervals at ${(r.correction.ci_level * 100).toPrecision(4)}% (Bonferroni-simultaneous)`,
    '',
  ]
  const rows = r.metrics.map((m: MetricResult) => [
    m.metric,
    m.role,
    `${m.segment}/${m.modality}`,
    m.control.n,
    num(m.control.value),
    m.treatment.n,
    num(m.treatment.value),
    num(m.diff),
    pct(m.rel_diff),
    m.ci_low === null && m.ci_high === null ? '-' : `[${num(m.ci_low)}, ${num(m.ci_high)}]`,
    pv(m.p_value),
    m.test,
    m.verdict,
  ])
  const main = `${head.join('\n')}${table(['metric', 'role', 'scope', 'n_c', 'control', 'n_t', 'treatment', 'diff', 'rel', 'ci', 'p', 'test', 'verdict'], rows)}`
  return r.exposure.length ? `${main}\n${renderExposure(r.exposure)}` : main
}

export function renderExposure(exposure: readonly Exposure[]): string {
  const usd = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `$${x.toFixed(2)}`)
  return `Money at risk per day (exposure:, from measured traffic)\n${table(
    [
      'metric',
      'scope',
      'traffic/day',
      '$/failure',
      'failures/day base',
      'failures/day cand',
      '$/day base',
      '$/day cand',
      'delta $/day',
    ],
    exposure.map((e) => [
      e.metric,
      `${e.segment}/${e.modality}`,
      Math.round(e.daily_traffic),
      e.usd_per_failure,
      num(e.baseline?.failures_per_day),
      num(e.candidate?.failures_per_day),
      usd(e.baseline?.usd_per_day),
      usd(e.candidate?.usd_per_day),
      usd(e.delta_usd_per_day),
    ]),
  )}`
}
