// A sampled, model-backed scoring job (Llama Guard, judge): per run it
//   1. finds the windows with interactions ingested since its watermark,
//   2. selects their sample in ClickHouse (jobs/sample-query.ts), minus what this scorer
//      version already scored or recorded as failed, plus failures due for another attempt
//      (jobs/scoring-selection.ts),
//   3. decides per row whether to score, skip or stop (jobs/scoring-decision.ts, pure: abort,
//      open circuit, failed write, daily budget) and scores through the model client (which
//      limits concurrency and rate, retries, and opens its circuit while the endpoint is down),
//   4. writes scores, failures, the review queue and the spend ledger in small batches
//      (jobs/scoring-writer.ts),
//   5. moves the watermark once every selected row is scored, failed or cut by the budget.
// A crash or abort before step 5 replays the same windows; the anti-join skips what was
// stored, so nothing is scored twice and nothing is lost.

import type { Config, JudgeConfig, LlamaGuardConfig } from '../config/schema.ts'
import type { BudgetMode, BudgetState, ScorerBudget } from '../scoring/budget.ts'
import { CircuitOpenError, ModelCallAbortedError } from '../scoring/errors.ts'
import type { InteractionText, ModelScorerAdapter } from './model-scorers.ts'
import {
  JobAbortedError,
  type JobContext,
  type JobDefinition,
  JobIncompleteError,
  type JobOutcome,
} from './registry.ts'
import { resolveSamplingPolicy } from './sampler.ts'
import {
  classifyFailure,
  failureRow,
  resolvedFailureRow,
  reviewRow,
  scoreRows,
  selectedForReview,
} from './score-rows.ts'
import { decideItem, type StopReason } from './scoring-decision.ts'
import { createTally, type RunTally, scoringOutcome, tallySkip } from './scoring-outcome.ts'
import { backfillStart, fetchTexts, selectWork, type WorkItem } from './scoring-selection.ts'
import { createResultsWriter, type ResultsWriter } from './scoring-writer.ts'
import { createSpendLedger, openBudget, type SpendLedger } from './spend.ts'
import { readWatermark, writeWatermark } from './watermarks.ts'

export type { WorkItem } from './scoring-selection.ts'

export interface ModelScoringJobOptions {
  adapter: ModelScorerAdapter
  settings: LlamaGuardConfig | JudgeConfig
  defaultSchedule?: string
  dependsOn?: string[]
}

/** Rows whose text is fetched at once; small enough to keep memory flat on a large backfill. */
const TEXT_PAGE = 100
/** Stored results are never older than this while a run goes on (crash loses at most this much work). */
const FLUSH_INTERVAL_MS = 1000

export function createModelScoringJob(options: ModelScoringJobOptions): JobDefinition {
  const { adapter, settings } = options
  return {
    name: adapter.scorer,
    description: `${adapter.scorer} on a deterministic sample (${adapter.scorerVersion})`,
    defaultSchedule: options.defaultSchedule ?? '*/5 * * * *',
    dependsOn: options.dependsOn,
    run: (ctx) => runModelScoring(ctx, adapter, settings),
  }
}

/** What scoring one row needs besides the row. */
interface ScoringRun {
  ctx: JobContext
  adapter: ModelScorerAdapter
  config: Config
  budget: ScorerBudget
  ledger: SpendLedger
  writer: ResultsWriter
  tally: RunTally
  total: number
}

export async function runModelScoring(
  ctx: JobContext,
  adapter: ModelScorerAdapter,
  settings: LlamaGuardConfig | JudgeConfig,
): Promise<JobOutcome> {
  const { store, config, log, signal, runId } = ctx
  const policy = resolveSamplingPolicy(config.sampling, settings.sampling)
  const upTo = ctx.now() - config.jobs.settle_seconds * 1000
  const watermark = await readWatermark(store, adapter.scorer, adapter.scorerVersion)
  const after = watermark?.cursorMs ?? 0

  const { windows, sampled, retries, work } = await selectWork(store, {
    adapter,
    policy,
    after,
    upTo,
    notBefore: watermark ? undefined : backfillStart(config, ctx.now()),
    maxAttempts: settings.max_attempts,
  })
  log.info('scoring selection', {
    scorer_version: adapter.scorerVersion,
    windows: windows.length,
    selected: sampled.length,
    retries: retries.length,
  })

  const ledger = createSpendLedger(adapter.scorer, adapter.scorerVersion, runId)
  const run: ScoringRun = {
    ctx,
    adapter,
    config,
    budget: await openBudget(store, adapter.scorer, settings, ctx.now()),
    ledger,
    writer: createResultsWriter({
      store,
      runId,
      ledger,
      batchSize: settings.batch_size,
      flushIntervalMs: FLUSH_INTERVAL_MS,
      now: () => ctx.now(),
    }),
    tally: createTally(),
    total: work.length,
  }
  const { tally, budget, writer } = run
  const inflight = new Set<Promise<void>>()
  const cap = settings.max_concurrency * 2
  // Position of the next row in `work` not yet taken (scored, skipped, missing or cut).
  let next = 0

  /** Walks the work page by page until it ends or a decision stops the run. */
  const dispatch = async (): Promise<StopReason | undefined> => {
    // Starting from normal, a run that begins over budget says so at its first row.
    let lastMode: BudgetMode = 'normal'
    for (let start = 0; start < work.length; start += TEXT_PAGE) {
      const page = work.slice(start, start + TEXT_PAGE)
      const texts = await fetchTexts(store, page)
      for (const item of page) {
        while (inflight.size >= cap) await Promise.race(inflight)
        const text = texts.get(item.request_id)
        const { decision, mode, announce } = decideItem({
          aborted: signal.aborted,
          circuitOpen: tally.circuitOpen,
          // A failed write ends the run: flush() below rethrows it and the job is recorded as failed.
          writeFailed: writer.failed(),
          estimate: text ? adapter.estimate(text) : undefined,
          priority: item.priority,
          inflight: inflight.size,
          budget,
          now: new Date(ctx.now()),
          lastMode,
        })
        lastMode = mode
        for (const change of announce) logBudgetChange(ctx, adapter, change, budget.snapshot(), settings)
        if (decision.action === 'stop' && decision.reason !== 'budget') return decision.reason
        next++
        if (decision.action === 'missing') tally.missing++
        else if (decision.action === 'skip') tallySkip(tally, item, next - 1)
        else if (decision.action === 'stop') {
          tallySkip(tally, item, next - 1)
          return decision.reason
        } else if (text) {
          const task = scoreOne(run, item, text)
          inflight.add(task)
          void task.finally(() => inflight.delete(task))
        }
      }
    }
    return undefined
  }

  const stop = await dispatch()
  await Promise.all(inflight)
  if (stop === 'budget') for (const item of work.slice(next)) tallySkip(tally, item)
  await writer.flush()

  const partial = scoringOutcome({
    tally,
    scorer: adapter.scorer,
    scorerVersion: adapter.scorerVersion,
    total: work.length,
    windows: windows.length,
    selected: sampled.length,
    retries: retries.length,
    spent: budget.snapshot(),
    ledger,
    settings,
    circuit: adapter.client.stats().circuit,
  })
  if (stop === 'aborted' || signal.aborted) throw new JobAbortedError(partial)
  if (stop === 'circuit' || tally.circuitOpen) {
    throw new JobIncompleteError('MODEL_ENDPOINT_DOWN', 'failed', {
      ...partial,
      message: `model endpoint ${adapter.client.model} is failing (circuit open); ${tally.left + (work.length - next)} rows left for the next run. ${partial.message}`,
    })
  }
  if (upTo > after)
    await writeWatermark(
      store,
      adapter.scorer,
      adapter.scorerVersion,
      { cursorMs: upTo, cursorId: '', runId },
      watermark,
    )
  const degraded = tally.skipped > 0
  if (degraded)
    log.warn('scoring degraded by the daily budget', { scorer: adapter.scorer, message: partial.message })
  return { status: degraded ? 'degraded' : 'ok', ...partial }
}

async function scoreOne(run: ScoringRun, item: WorkItem, text: InteractionText): Promise<void> {
  const { ctx, adapter, budget, ledger, writer, tally, config } = run
  try {
    const result = await adapter.score(text, ctx.signal)
    const at = ctx.now()
    const cost = budget.costUsd(result.usage)
    budget.record(result.usage, new Date(at))
    ledger.add(result.usage, cost, at)
    const review =
      config.review.scorers.includes(adapter.scorer as 'judge' | 'llama_guard') &&
      selectedForReview(item.request_id, config.review.fraction)
    if (review) tally.reviewQueued++
    tally.scored++
    writer.add({
      scores: scoreRows(adapter, item, result.metrics, result.usage, cost, ctx.runId, at),
      failures: item.previous ? [resolvedFailureRow(adapter, item, item.previous, ctx.runId, at)] : [],
      review: review ? [reviewRow(adapter, item, at)] : [],
    })
  } catch (error) {
    // Not an attempt: the row was never judged, the next run takes it again.
    if (ctx.signal.aborted || error instanceof ModelCallAbortedError) {
      tally.left++
      return
    }
    if (error instanceof CircuitOpenError) {
      tally.circuitOpen = true
      tally.left++
      return
    }
    const failure = classifyFailure(error)
    const at = ctx.now()
    let cost = 0
    if (failure.usage) {
      cost = budget.costUsd(failure.usage)
      budget.record(failure.usage, new Date(at))
      ledger.add(failure.usage, cost, at)
    }
    ctx.log.debug('scoring failed', {
      request_id: item.request_id,
      code: failure.code,
      retriable: failure.retriable,
    })
    tally.failedByCode[failure.code] = (tally.failedByCode[failure.code] ?? 0) + 1
    tally.failed++
    writer.add({
      failures: [failureRow(adapter, item, failure, item.previous, item.priority, cost, ctx.runId, at)],
    })
  } finally {
    ctx.progress({
      done: tally.scored + tally.failed,
      total: run.total,
      failed: tally.failed,
      spendUsd: ledger.totals.usd,
    })
  }
}

function logBudgetChange(
  ctx: JobContext,
  adapter: ModelScorerAdapter,
  mode: BudgetMode,
  spent: BudgetState,
  settings: LlamaGuardConfig | JudgeConfig,
) {
  const fields = {
    scorer: adapter.scorer,
    spent_usd: spent.usd,
    usd_per_day: settings.usd_per_day ?? null,
    spent_tokens: spent.promptTokens + spent.completionTokens,
    tokens_per_day: settings.tokens_per_day ?? null,
  }
  if (mode === 'minimum_only') {
    ctx.log.warn(
      `${adapter.scorer}: ${Math.round(settings.degrade_at * 100)}% of the daily budget used; sampling degraded to the per-scope minimum`,
      fields,
    )
  } else if (mode === 'stopped') {
    ctx.log.warn(`${adapter.scorer}: daily budget reached; scoring stopped until 00:00 UTC`, fields)
  }
}
