// driftwatch replay: recorded production traffic (--select, stratified by segment x
// modality) or a golden suite (--suite FILE.jsonl) sent to a candidate endpoint, answers
// stored as interactions of the candidate (variant replay, shadow_of = original), both sides
// scored by the same scorer, compared per scope. Exit 0 = no regression, 1 = regression,
// 2 = bad input (checked before anything is sent or written). Progress on stderr.

import { writeFileSync } from 'node:fs'
import type { ExposureEntry } from '../../config/schema.ts'
import { dailyKey, measureDailyTraffic } from '../../experiments/measure.ts'
import { compareReplay, junitXml, type ReplayReport } from '../../jobs/replay/compare.ts'
import { runReplay } from '../../jobs/replay/run.ts'
import { gradeRun, openReplayScorers } from '../../jobs/replay/score.ts'
import {
  caseFromRow,
  checkSelect,
  type ReplayCase,
  readSuite,
  selectionSql,
} from '../../jobs/replay/suite.ts'
import { ConfigError } from '../../lib/errors.ts'
import { computeExposure, type Exposure } from '../../metrics/exposure.ts'
import { metricDefinition } from '../../metrics/registry.ts'
import { createModelClient } from '../../scoring/model-client.ts'
import { migrate } from '../../store/migrate.ts'
import { choiceFlag, intFlag, numberFlag, parseCommandArgs } from '../args.ts'
import { appContext, reachStore } from '../context.ts'
import type { Command } from '../io.ts'
import { renderExposure } from './experiment.ts'

const USAGE = `driftwatch replay (--select "<SQL over interactions>" | --suite FILE.jsonl) --target URL --model M
  [--system-prompt-version V] [--concurrency N] [--rps R] [--budget-usd X] [--per-scope N]
  [--weight-by frequency|revenue] [--format table|json] [--junit FILE] [--config FILE]

exit 0: no regression; 1: a segment x modality regressed beyond replay.max_increase; 2: bad input`

export const replayCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs(
    'replay',
    argv,
    {
      select: { type: 'string' },
      suite: { type: 'string' },
      target: { type: 'string' },
      model: { type: 'string' },
      'system-prompt-version': { type: 'string' },
      concurrency: { type: 'string' },
      rps: { type: 'string' },
      'budget-usd': { type: 'string' },
      'per-scope': { type: 'string' },
      'weight-by': { type: 'string' },
      format: { type: 'string', short: 'f' },
      junit: { type: 'string' },
    },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  if ((values.select === undefined) === (values.suite === undefined))
    throw new ConfigError('driftwatch replay: give exactly one of --select or --suite', { fix: USAGE })
  if (!values.target)
    throw new ConfigError('driftwatch replay: --target URL is required', {
      fix: 'e.g. --target http://localhost:8000/v1',
    })
  try {
    new URL(values.target)
  } catch {
    throw new ConfigError(`--target ${JSON.stringify(values.target)} is not a URL`, {
      fix: 'e.g. --target http://localhost:8000/v1',
    })
  }
  if (!values.model)
    throw new ConfigError('driftwatch replay: --model M is required', {
      fix: 'the candidate model name, e.g. --model llama-3.1-8b-v3',
    })
  const format = choiceFlag('format', values.format, ['table', 'json'] as const, 'table')
  const concurrency = intFlag('concurrency', values.concurrency, { min: 1, fallback: 4 })!
  const rps = numberFlag('rps', values.rps, { min: 0.001 })
  const budget = numberFlag('budget-usd', values['budget-usd'], { min: 0 })
  const perScope = intFlag('per-scope', values['per-scope'], { min: 1, fallback: 50 })!
  const weightBy = choiceFlag(
    'weight-by',
    values['weight-by'],
    ['frequency', 'revenue'] as const,
    'frequency',
  )
  const select = values.select !== undefined ? checkSelect(values.select) : undefined
  // A suite is read and checked completely before anything is sent or written.
  const suite = values.suite !== undefined ? readSuite(values.suite) : undefined
  const ctx = appContext(io, values.config)
  const cfg = ctx.config.replay
  if (
    budget !== undefined &&
    cfg.price_per_1k_prompt_tokens === 0 &&
    cfg.price_per_1k_completion_tokens === 0
  )
    throw new ConfigError(
      '--budget-usd has no effect while replay.price_per_1k_prompt_tokens and price_per_1k_completion_tokens are 0',
      {
        fix: 'set the candidate prices under replay: in driftwatch.yaml',
      },
    )
  const apiKey = cfg.api_key_env ? io.env[cfg.api_key_env] : undefined

  const report = await reachStore(
    ctx,
    () => {
      throw new ConfigError(
        'driftwatch replay writes candidate answers, but another driftwatch process owns the embedded store',
        {
          fix: 'stop `driftwatch start` for the replay, or point clickhouse.url at a ClickHouse server',
        },
      )
    },
    async (store) => {
      await migrate(store, ctx.log)
      let cases: ReplayCase[]
      if (select !== undefined) {
        const text = await store.queryReadOnly(selectionSql(select), { per_scope: perScope }, 'JSONEachRow')
        cases = text
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => caseFromRow(JSON.parse(l)))
        if (cases.length === 0)
          throw new ConfigError('--select matched no interactions', {
            fix: 'check the WHERE clause: `driftwatch sql` runs the same SELECT',
          })
      } else cases = suite!
      if (weightBy === 'revenue') cases = weightByRevenue(cases, ctx.config.exposure)
      io.stderr(
        `replay: ${cases.length} case(s) across ${new Set(cases.map((c) => `${c.segment}/${c.modality}`)).size} segment x modality -> ${values.model} at ${new URL(values.target!).host}\n`,
      )
      const client = createModelClient({
        baseUrl: values.target!,
        model: values.model!,
        apiKey,
        timeoutMs: cfg.timeout_ms,
        maxRetries: cfg.max_retries,
        maxConcurrency: concurrency,
        requestsPerSecond: rps ?? Number.POSITIVE_INFINITY,
        log: ctx.log,
      })
      let lastReport = 0
      const run = await runReplay(cases, {
        client,
        candidateVersion: values.model!,
        systemPromptVersion: values['system-prompt-version'],
        concurrency,
        maxTokens: cfg.max_tokens,
        temperature: cfg.temperature,
        budgetUsd: budget,
        pricePer1kPrompt: cfg.price_per_1k_prompt_tokens,
        pricePer1kCompletion: cfg.price_per_1k_completion_tokens,
        signal: io.signal,
        onProgress: (done, total, spent) => {
          if (Date.now() - lastReport < 1000 && done < total) return
          lastReport = Date.now()
          io.stderr(`replay: ${done} / ${total} answered, $${spent.toFixed(4)} spent\n`)
        },
      })
      if (run.budgetExhausted)
        io.stderr(
          `replay: budget of $${budget} reached after ${run.scored.length} of ${run.planned} cases ($${run.spentUsd.toFixed(4)} spent); stopping, comparing what was answered\n`,
        )
      // Model scorers (judge, Llama Guard) grade both sides at the same scorer versions.
      const scorers = await openReplayScorers(
        ctx.config.scorers,
        { log: ctx.log, env: io.env, cwd: io.cwd },
        store,
        run.runId,
      )
      if (scorers.length)
        io.stderr(
          `replay: scoring answers with ${scorers.map((s) => `${s.adapter.scorer} ${s.adapter.scorerVersion}`).join(', ')}\n`,
        )
      const graded = await gradeRun(store, run, scorers, io.signal ?? new AbortController().signal)
      const notes = graded.notes
      const modelScores = graded.scores
      for (const note of notes) io.stderr(`replay: ${note}\n`)
      await store.insert('interactions', run.interactions, { dedupToken: `replay:${run.runId}:i` })
      await store.insert('scores', [...run.scores, ...modelScores], { dedupToken: `replay:${run.runId}:s` })
      for (const s of scorers) await s.ledger.flush(store)
      const compared = compareReplay(run.scored, {
        notes,
        alpha: cfg.alpha,
        limits: cfg.max_increase,
        budgetExhausted: run.budgetExhausted,
        planned: run.planned,
      })
      let exposure: Exposure[] = []
      if (ctx.config.exposure.length > 0) {
        const daily = await measureDailyTraffic((sql, params) => store.query(sql, params))
        exposure = computeExposure(
          ctx.config.exposure,
          // Dollars at risk are failures times cost: failure-rate metrics only (not means, latency).
          compared.by_scope
            .filter((r) => {
              const def = metricDefinition(r.metric)
              return def.kind === 'rate' && def.worse === 'higher'
            })
            .map((r) => ({
              segment: r.segment,
              modality: r.modality,
              metric: r.metric,
              dailyTraffic: daily.get(dailyKey(r.segment, r.modality)) ?? 0,
              baselineRate: r.recorded.value,
              candidateRate: r.candidate.value,
            })),
        )
      }
      return { ...compared, exposure }
    },
  )
  if (values.junit) writeFileSync(values.junit, junitXml(report))
  io.stdout(
    format === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : `${renderReplay(report)}${report.exposure.length ? `\n${renderExposure(report.exposure)}` : ''}`,
  )
  return report.regressed ? 1 : 0
}

/**
 * --weight-by revenue: each case weighs what one failure of its segment costs (exposure:
 * usd_per_failure; the largest entry of the segment), times a suite line's own weight, so
 * weighted_failures are dollars. A segment without an exposure entry is refused, not guessed.
 */
export function weightByRevenue(cases: ReplayCase[], exposure: readonly ExposureEntry[]): ReplayCase[] {
  return cases.map((c) => {
    const usd = exposure.filter((e) => e.segment === c.segment).map((e) => e.usd_per_failure)
    if (usd.length === 0)
      throw new ConfigError(`--weight-by revenue: segment ${c.segment} has no exposure entry`, {
        fix: `add { segment: ${c.segment}, usd_per_failure: N } under exposure: in driftwatch.yaml`,
      })
    return { ...c, weight: c.weight * Math.max(...usd) }
  })
}

const f = (x: number | null) => (x === null ? '-' : Number(x.toPrecision(3)).toString())

function renderReplay(r: ReplayReport): string {
  const rows = [
    [
      'segment',
      'modality',
      'metric',
      'test',
      'n_rec',
      'recorded',
      'n_cand',
      'candidate',
      'diff',
      'p',
      'w_fail_rec',
      'w_fail_cand',
      'regressed',
    ],
    ...r.by_scope.map((s) => [
      s.segment,
      s.modality,
      s.metric,
      s.test ?? '-',
      String(s.recorded.n),
      f(s.recorded.value),
      String(s.candidate.n),
      f(s.candidate.value),
      f(s.diff),
      s.p_value === null ? '-' : s.p_value.toExponential(2),
      s.weighted_failures ? f(s.weighted_failures.recorded) : '-',
      s.weighted_failures ? f(s.weighted_failures.candidate) : '-',
      s.regressed ? 'REGRESSED' : 'ok',
    ]),
  ]
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  return `replay: ${r.cases} cases, ${r.regressed ? 'REGRESSED' : 'no regression'} (Holm over ${r.by_scope.filter((s) => s.p_value !== null).length} comparisons, alpha ${r.alpha})\n${r.message}\n\n${rows
    .map((row) =>
      row
        .map((c, i) => c.padEnd(w[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`
}
