// A sampled, model-backed scoring job (Llama Guard, judge): per run it
//   1. finds the windows with interactions ingested since its watermark,
//   2. selects their sample in ClickHouse (jobs/sample-query.ts), minus what this scorer
//      version already scored or recorded as failed, plus failures due for another attempt,
//   3. scores the rows through the model client (which limits concurrency and rate, retries,
//      and opens its circuit while the endpoint is down), within the daily budget,
//   4. writes scores, failures, the review queue and the spend ledger in small batches,
//   5. moves the watermark once every selected row is scored, failed or cut by the budget.
// A crash or abort before step 5 replays the same windows; the anti-join skips what was
// stored, so nothing is scored twice and nothing is lost.

import type { Config, JudgeConfig, LlamaGuardConfig } from '../config/schema.ts'
import { scopeLabel } from '../contract/scope.ts'
import type { BudgetMode } from '../scoring/budget.ts'
import { CircuitOpenError, ModelCallAbortedError } from '../scoring/errors.ts'
import type { Store } from '../store/store.ts'
import { clickhouseTime, parseClickhouseTime } from '../store/time.ts'
import type { InteractionText, ModelScorerAdapter } from './model-scorers.ts'
import { formatUsd } from './progress.ts'
import {
  JobAbortedError,
  type JobContext,
  type JobDefinition,
  JobIncompleteError,
  type JobOutcome,
} from './registry.ts'
import { type SampleQueryRow, sampleQuery, touchedWindowsQuery } from './sample-query.ts'
import { PRIORITY, requestHash, resolveSamplingPolicy, type SamplingPolicy } from './sampler.ts'
import {
  classifyFailure,
  failureRow,
  type PreviousFailure,
  resolvedFailureRow,
  reviewRow,
  type ScoredInteraction,
  scoreRows,
  selectedForReview,
} from './score-rows.ts'
import { createSpendLedger, openBudget } from './spend.ts'
import { readWatermark, writeWatermark } from './watermarks.ts'

export interface WorkItem extends ScoredInteraction {
  priority: number
  hash: number
  /** Set for a failure being tried again. */
  previous?: PreviousFailure
}

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

  const windows =
    upTo > after
      ? await touchedWindows(
          store,
          policy,
          after,
          upTo,
          watermark ? undefined : backfillStart(config, ctx.now()),
        )
      : []
  const sampled = windows.length > 0 ? await selectCandidates(store, adapter, policy, windows, upTo) : []
  const retries = await dueRetries(store, adapter, settings.max_attempts)
  const work = [...sampled, ...retries].sort(
    (a, b) => a.priority - b.priority || a.hash - b.hash || compare(a.request_id, b.request_id),
  )
  log.info('scoring selection', {
    scorer_version: adapter.scorerVersion,
    windows: windows.length,
    selected: sampled.length,
    retries: retries.length,
  })

  const budget = await openBudget(store, adapter.scorer, settings, ctx.now())
  const state = createRunState(ctx, adapter, config, work.length, settings.batch_size)
  const inflight = new Set<Promise<void>>()
  const cap = settings.max_concurrency * 2
  // Starting from normal, a run that begins over budget says so at its first row.
  let lastMode: BudgetMode = 'normal'
  let stop: 'aborted' | 'circuit' | 'budget' | undefined
  let next = 0

  pages: for (let start = 0; start < work.length; start += TEXT_PAGE) {
    const page = work.slice(start, start + TEXT_PAGE)
    const texts = await fetchTexts(store, page)
    for (const item of page) {
      while (inflight.size >= cap) await Promise.race(inflight)
      if (signal.aborted) stop = 'aborted'
      else if (state.circuitOpen) stop = 'circuit'
      // A failed write ends the run: flush() below rethrows it and the job is recorded as failed.
      if (stop || state.writeFailed()) break pages
      const text = texts.get(item.request_id)
      next++
      if (!text) {
        state.missing++
        continue
      }
      const t = new Date(ctx.now())
      const mode = budget.mode(t)
      if (mode !== lastMode && mode === 'minimum_only')
        logBudgetChange(ctx, adapter, mode, budget.snapshot(), settings)
      lastMode = mode
      const perCall = budget.averageUsage(adapter.estimate(text), t)
      const pending = inflight.size + 1
      const fits = budget.canSpend(
        {
          promptTokens: perCall.promptTokens * pending,
          completionTokens: perCall.completionTokens * pending,
        },
        t,
      )
      if (mode === 'stopped' || !fits) {
        // Said once, with the numbers, whether the cap is reached or the next call would cross it.
        logBudgetChange(ctx, adapter, 'stopped', budget.snapshot(), settings)
        stop = 'budget'
        state.skip(item)
        if (state.degradedAt === undefined) state.degradedAt = next - 1
        break pages
      }
      if (mode === 'minimum_only' && item.priority !== PRIORITY.minimum) {
        state.skip(item)
        if (state.degradedAt === undefined) state.degradedAt = next - 1
        continue
      }
      const task = scoreOne(ctx, adapter, budget, state, item, text)
      inflight.add(task)
      void task.finally(() => inflight.delete(task))
      if (state.shouldFlush()) state.flushSoon()
    }
  }
  await Promise.all(inflight)
  if (stop === 'budget') for (const item of work.slice(next)) state.skip(item)
  await state.flush()

  const spent = budget.snapshot()
  const partial = state.outcome(windows.length, sampled.length, retries.length, spent, settings)
  if (stop === 'aborted' || signal.aborted) throw new JobAbortedError(partial)
  if (stop === 'circuit' || state.circuitOpen) {
    throw new JobIncompleteError('MODEL_ENDPOINT_DOWN', 'failed', {
      ...partial,
      message: `model endpoint ${adapter.client.model} is failing (circuit open); ${state.left + (work.length - next)} rows left for the next run. ${partial.message}`,
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
  const degraded = state.skipped > 0
  if (degraded)
    log.warn('scoring degraded by the daily budget', { scorer: adapter.scorer, message: partial.message })
  return { status: degraded ? 'degraded' : 'ok', ...partial }
}

function createRunState(
  ctx: JobContext,
  adapter: ModelScorerAdapter,
  config: Config,
  total: number,
  batchSize: number,
) {
  const { store, runId } = ctx
  const reviewed = config.review.scorers.includes(adapter.scorer as 'judge' | 'llama_guard')
  let scores: Record<string, unknown>[] = []
  let failures: Record<string, unknown>[] = []
  let review: Record<string, unknown>[] = []
  let pendingResults = 0
  let lastFlush = ctx.now()
  let seq = 0
  const failedByCode: Record<string, number> = {}
  const skippedByScope: Record<string, number> = {}
  const ledger = createSpendLedger(adapter.scorer, adapter.scorerVersion, runId)
  let writing: Promise<void> = Promise.resolve()
  let queued = false
  let writeError: unknown
  const writeBuffered = async () => {
    const batch = { scores, failures, review }
    scores = []
    failures = []
    review = []
    pendingResults = 0
    lastFlush = ctx.now()
    seq++
    // Spend first: after a crash the budget errs on the side of having spent.
    await ledger.flush(store)
    await store.insert('scores', batch.scores, { dedupToken: `scores:${runId}:${seq}` })
    await store.insert('scoring_failures', batch.failures, { dedupToken: `scoring_failures:${runId}:${seq}` })
    await store.insert('review_queue', batch.review, { dedupToken: `review_queue:${runId}:${seq}` })
  }
  const state = {
    scored: 0,
    failed: 0,
    skipped: 0,
    missing: 0,
    left: 0,
    reviewQueued: 0,
    circuitOpen: false,
    degradedAt: undefined as number | undefined,
    ledger,
    skip(item: WorkItem) {
      state.skipped++
      const key = scopeLabel(item)
      skippedByScope[key] = (skippedByScope[key] ?? 0) + 1
    },
    scoredRows(item: WorkItem, rows: Record<string, unknown>[], at: number) {
      scores.push(...rows)
      if (item.previous) failures.push(resolvedFailureRow(adapter, item, item.previous, runId, at))
      if (reviewed && selectedForReview(item.request_id, config.review.fraction)) {
        review.push(reviewRow(adapter, item, at))
        state.reviewQueued++
      }
      state.scored++
      pendingResults++
    },
    failedRow(code: string, row: Record<string, unknown>) {
      failures.push(row)
      failedByCode[code] = (failedByCode[code] ?? 0) + 1
      state.failed++
      pendingResults++
    },
    progress() {
      ctx.progress({
        done: state.scored + state.failed,
        total,
        failed: state.failed,
        spendUsd: ledger.totals.usd,
      })
    },
    shouldFlush() {
      return pendingResults >= batchSize || (pendingResults > 0 && ctx.now() - lastFlush >= FLUSH_INTERVAL_MS)
    },
    /**
     * Writes the buffered results in the background, one write at a time (at most one more
     * queued), so model calls keep going while ClickHouse stores the previous batch.
     */
    flushSoon() {
      if (queued) return
      queued = true
      writing = writing
        .then(async () => {
          queued = false
          if (writeError === undefined) await writeBuffered()
        })
        .catch((error: unknown) => {
          writeError ??= error
        })
    },
    /** Writes everything buffered and waits; throws the first write that failed. */
    async flush() {
      state.flushSoon()
      await writing
      if (writeError !== undefined) throw writeError
    },
    writeFailed: () => writeError !== undefined,
    outcome(
      windows: number,
      selected: number,
      retries: number,
      spent: ReturnType<Awaited<ReturnType<typeof openBudget>>['snapshot']>,
      settings: LlamaGuardConfig | JudgeConfig,
    ): Omit<JobOutcome, 'status'> {
      const topScopes = Object.entries(skippedByScope)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 20)
      const parts = [`${state.scored} scored`, `${state.failed} failed`]
      if (state.skipped > 0) {
        parts.push(
          `${state.skipped} selected rows not scored because the daily budget was reached` +
            ` (spent $${formatUsd(spent.usd)}${settings.usd_per_day ? ` of $${formatUsd(settings.usd_per_day)}` : ''},` +
            ` ${spent.promptTokens + spent.completionTokens} tokens${settings.tokens_per_day ? ` of ${settings.tokens_per_day}` : ''});` +
            ` sampling degraded to the per-scope minimum, then stopped`,
        )
      }
      if (state.missing > 0) parts.push(`${state.missing} interactions no longer in the store`)
      return {
        rowsDone: state.scored + state.failed,
        rowsTotal: total,
        spendUsd: ledger.totals.usd,
        message: `${adapter.scorer} ${adapter.scorerVersion}: ${parts.join(', ')}`,
        detail: {
          scorer_version: adapter.scorerVersion,
          windows,
          selected,
          retries,
          scored: state.scored,
          failed: state.failed,
          failed_by_code: failedByCode,
          skipped_budget: state.skipped,
          skipped_by_scope: Object.fromEntries(topScopes),
          degraded_at_row: state.degradedAt ?? null,
          missing: state.missing,
          review_queued: state.reviewQueued,
          run_spend: {
            requests: ledger.totals.requests,
            prompt_tokens: ledger.totals.promptTokens,
            completion_tokens: ledger.totals.completionTokens,
            usd: ledger.totals.usd,
          },
          budget: {
            day: spent.day,
            spent_usd: spent.usd,
            spent_tokens: spent.promptTokens + spent.completionTokens,
            usd_per_day: settings.usd_per_day ?? null,
            tokens_per_day: settings.tokens_per_day ?? null,
            degrade_at: settings.degrade_at,
          },
          circuit: adapter.client.stats().circuit,
        },
      }
    },
  }
  return state
}

type RunState = ReturnType<typeof createRunState>

async function scoreOne(
  ctx: JobContext,
  adapter: ModelScorerAdapter,
  budget: Awaited<ReturnType<typeof openBudget>>,
  state: RunState,
  item: WorkItem,
  text: InteractionText,
): Promise<void> {
  try {
    const result = await adapter.score(text, ctx.signal)
    const at = ctx.now()
    const cost = budget.costUsd(result.usage)
    budget.record(result.usage, new Date(at))
    state.ledger.add(result.usage, cost, at)
    state.scoredRows(item, scoreRows(adapter, item, result.metrics, result.usage, cost, ctx.runId, at), at)
  } catch (error) {
    // Not an attempt: the row was never judged, the next run takes it again.
    if (ctx.signal.aborted || error instanceof ModelCallAbortedError) {
      state.left++
      return
    }
    if (error instanceof CircuitOpenError) {
      state.circuitOpen = true
      state.left++
      return
    }
    const failure = classifyFailure(error)
    const at = ctx.now()
    let cost = 0
    if (failure.usage) {
      cost = budget.costUsd(failure.usage)
      budget.record(failure.usage, new Date(at))
      state.ledger.add(failure.usage, cost, at)
    }
    ctx.log.debug('scoring failed', {
      request_id: item.request_id,
      code: failure.code,
      retriable: failure.retriable,
    })
    state.failedRow(
      failure.code,
      failureRow(adapter, item, failure, item.previous, item.priority, cost, ctx.runId, at),
    )
  } finally {
    state.progress()
  }
}

function logBudgetChange(
  ctx: JobContext,
  adapter: ModelScorerAdapter,
  mode: BudgetMode,
  spent: { usd: number; promptTokens: number; completionTokens: number },
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

function backfillStart(config: Config, now: number): string | undefined {
  const hours = config.jobs.backfill_hours
  return hours === 'all' ? undefined : clickhouseTime(now - hours * 3_600_000)
}

async function touchedWindows(
  store: Store,
  policy: SamplingPolicy,
  after: number,
  upTo: number,
  notBefore: string | undefined,
) {
  const q = touchedWindowsQuery({
    windowMinutes: policy.windowMinutes,
    after: clickhouseTime(after),
    upTo: clickhouseTime(upTo),
    notBefore,
  })
  const rows = await store.query<{ window_idx: number }>(q.sql, q.params)
  return rows.map((r) => Number(r.window_idx))
}

async function selectCandidates(
  store: Store,
  adapter: ModelScorerAdapter,
  policy: SamplingPolicy,
  windows: number[],
  upTo: number,
): Promise<WorkItem[]> {
  const q = sampleQuery({
    policy,
    windows,
    upTo: clickhouseTime(upTo),
    scorerVersion: adapter.scorerVersion,
    primaryMetric: adapter.primaryMetric,
  })
  const rows = await store.query<SampleQueryRow>(q.sql, q.params)
  return rows.map((r) => ({
    request_id: r.request_id,
    timestamp: parseClickhouseTime(r.timestamp),
    model_version: r.model_version,
    variant_id: r.variant_id,
    segment: r.segment,
    modality: r.modality,
    priority: Number(r.priority),
    hash: Number(r.hash),
  }))
}

/** Retriable failures of this scorer version below max_attempts, with their interaction's scope. */
async function dueRetries(
  store: Store,
  adapter: ModelScorerAdapter,
  maxAttempts: number,
): Promise<WorkItem[]> {
  const rows = await store.query<{
    request_id: string
    attempts: number
    first_failed_at: string
    priority: number
    timestamp: string
    model_version: string
    variant_id: string
    segment: string
    modality: string
  }>(
    `SELECT f.request_id AS request_id, f.attempts AS attempts, f.first_failed_at AS first_failed_at, f.priority AS priority,
       i.timestamp AS timestamp, i.model_version AS model_version, i.variant_id AS variant_id, i.segment AS segment, i.modality AS modality
     FROM (
       SELECT request_id, attempts, first_failed_at, priority FROM scoring_failures FINAL
       WHERE scorer_version = {v:String} AND NOT resolved AND retriable AND attempts < {max:UInt32}
     ) AS f
     INNER JOIN (
       SELECT request_id, timestamp, model_version, variant_id, segment, modality FROM interactions
       WHERE request_id IN (SELECT request_id FROM scoring_failures WHERE scorer_version = {v:String})
       LIMIT 1 BY request_id
     ) AS i ON i.request_id = f.request_id
     WHERE f.request_id NOT IN (SELECT request_id FROM scores WHERE scorer_version = {v:String} AND metric = {m:String})`,
    { v: adapter.scorerVersion, m: adapter.primaryMetric, max: maxAttempts },
  )
  return rows.map((r) => ({
    request_id: r.request_id,
    timestamp: parseClickhouseTime(r.timestamp),
    model_version: r.model_version,
    variant_id: r.variant_id,
    segment: r.segment,
    modality: r.modality,
    priority: Number(r.priority),
    hash: requestHash(r.request_id),
    previous: {
      attempts: Number(r.attempts),
      firstFailedAt: parseClickhouseTime(r.first_failed_at),
      priority: Number(r.priority),
    },
  }))
}

async function fetchTexts(store: Store, items: WorkItem[]): Promise<Map<string, InteractionText>> {
  if (items.length === 0) return new Map()
  const times = items.map((i) => i.timestamp)
  const rows = await store.query<InteractionText>(
    `SELECT request_id, user_input, model_output, context FROM interactions
     WHERE request_id IN {ids:Array(String)}
       AND timestamp >= {lo:DateTime64(3, 'UTC')} AND timestamp <= {hi:DateTime64(3, 'UTC')}
     LIMIT 1 BY request_id`,
    {
      ids: items.map((i) => i.request_id),
      lo: clickhouseTime(Math.min(...times)),
      hi: clickhouseTime(Math.max(...times)),
    },
  )
  return new Map(rows.map((r) => [r.request_id, r]))
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
