// Runs registered jobs on their cron schedules (node-cron) or on demand, one run of a job at a
// time, each run recorded in job_runs with its progress. It owns nothing else: what a job does
// lives in the job; the store, config and logger are passed in.
//
// One run per job at a time is an in-process lock. Across processes (several `start` or
// `jobs` processes on one ClickHouse server) the optional `lease` (jobs/lease.ts) decides:
// scheduled and start-up runs happen only in the process that holds it; the others skip
// them with a message. Runs asked for by hand (`jobs run`) are not gated.

import { randomUUID } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { createTask, type ScheduledTask } from 'node-cron'
import type { Config } from '../config/schema.ts'
import { DriftwatchError, errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { Store } from '../store/store.ts'
import { closeAbandonedRuns, createJobRunRecorder, type JobRunStatus, type JobTrigger } from './job-runs.ts'
import type { JobLease } from './lease.ts'
import { createProgressThrottle, type ProgressReport } from './progress.ts'
import {
  createJobRegistry,
  type JobDefinition,
  JobIncompleteError,
  type JobOutcome,
  type JobProgress,
  type JobRegistry,
} from './registry.ts'

export interface RunResult {
  job: string
  runId: string
  status: JobRunStatus | 'skipped'
  rowsDone: number
  rowsTotal: number
  spendUsd: number
  message: string
  durationMs: number
  error?: unknown
}

export interface SchedulerOptions {
  store: Store
  config: Config
  log: Logger
  jobs: readonly JobDefinition[]
  /** Cron per job name replacing its default; default config.jobs.schedule. Unknown names are an error. */
  schedules?: Record<string, string>
  /** Progress lines of running jobs (throttled by jobs.progress_interval_ms, plus a final one). */
  onProgress?: (report: ProgressReport) => void
  now?: () => number
  /** When given, scheduled and start-up runs happen only while it is held. */
  lease?: Pick<JobLease, 'held'>
}

export interface RunOptions {
  trigger?: JobTrigger
  /** Stops this run early (in addition to stop()). */
  signal?: AbortSignal
}

export interface Scheduler {
  readonly registry: JobRegistry
  /** Schedules every job; with jobs.run_on_start also runs them all once, in the background. */
  start(): Promise<void>
  /** Unschedules, aborts running jobs and waits until they have recorded what they did. */
  stop(): Promise<void>
  runOnce(name: string, options?: RunOptions): Promise<RunResult>
  /** Every job once in dependency order; a job whose dependency failed is skipped. */
  runAll(options?: RunOptions): Promise<{ results: RunResult[]; failed: RunResult[] }>
  /** Names of the jobs running now. */
  running(): string[]
  /**
   * Aborts the scheduled and start-up runs in flight (they record `aborted`): for a process
   * that lost the job lease, so that its runs do not overlap the new holder's. Manual runs go on.
   */
  abortAutomatic(): void
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { store, config, log } = options
  const now = options.now ?? Date.now
  const registry = createJobRegistry(options.jobs, options.schedules ?? config.jobs.schedule)
  const inFlight = new Map<string, Promise<RunResult>>()
  const stopping = new AbortController()
  const tasks: ScheduledTask[] = []
  const automaticRuns = new Set<AbortController>()
  let init: Promise<void> | undefined

  // A run marked `running` in an embedded store belongs to a dead process (see job-runs.ts).
  const ensureInit = () => {
    init ??= (async () => {
      if (store.kind !== 'embedded') return
      const closed = await closeAbandonedRuns(store, now())
      if (closed > 0) log.warn('closed job runs left running by a previous process', { runs: closed })
    })()
    return init
  }

  async function execute(
    job: JobDefinition,
    trigger: JobTrigger,
    external: AbortSignal | undefined,
  ): Promise<RunResult> {
    const runId = randomUUID()
    const startedAt = now()
    const jobLog = log.child({ job: job.name, run_id: runId })
    // One signal per run; every model call in flight listens to it, hence the raised limit.
    const controller = new AbortController()
    setMaxListeners(10_000, controller.signal)
    const abort = () => controller.abort()
    for (const s of [stopping.signal, external]) {
      if (s?.aborted) abort()
      s?.addEventListener('abort', abort, { once: true })
    }
    const signal = controller.signal
    const automatic = trigger === 'scheduled' || trigger === 'start'
    if (automatic) automaticRuns.add(controller)
    const recorder = createJobRunRecorder(store, {
      job: job.name,
      runId,
      trigger,
      status: 'running',
      startedAt,
      finishedAt: null,
      rowsDone: 0,
      rowsTotal: 0,
      spendUsd: 0,
      message: '',
      detail: {},
    })
    const throttle = createProgressThrottle(job.name, config.jobs.progress_interval_ms, startedAt, now)
    // Progress rows are written one at a time, in order; a failed write is logged, not fatal.
    let progressWrites = Promise.resolve()
    const progress = (p: JobProgress) => {
      const report = throttle.update(p)
      if (!report) return
      options.onProgress?.(report)
      progressWrites = progressWrites
        .then(() => recorder.write({ rowsDone: p.done, rowsTotal: p.total, spendUsd: p.spendUsd }))
        .catch((error) => jobLog.warn('cannot record job progress', { error: errorMessage(error) }))
    }

    let status: JobRunStatus
    let outcome: Omit<JobOutcome, 'status'>
    let failure: unknown
    try {
      await recorder.write({})
      jobLog.info('job started', { trigger })
      const result = await job.run({ store, config, log: jobLog, signal, runId, progress, now })
      status = result.status
      outcome = result
    } catch (error) {
      failure = error
      if (error instanceof JobIncompleteError) {
        status = error.status
        outcome = error.partial
      } else {
        status = 'failed'
        const last = throttle.last
        outcome = {
          rowsDone: last.done,
          rowsTotal: last.total,
          spendUsd: last.spendUsd,
          message: errorMessage(error),
          detail: errorDetail(error),
        }
      }
    }
    await progressWrites
    const finishedAt = now()
    options.onProgress?.(
      throttle.final({
        done: outcome.rowsDone,
        total: outcome.rowsTotal,
        failed: throttle.last.failed,
        spendUsd: outcome.spendUsd,
      }),
    )
    try {
      await recorder.write({
        status,
        finishedAt,
        rowsDone: outcome.rowsDone,
        rowsTotal: outcome.rowsTotal,
        spendUsd: outcome.spendUsd,
        message: outcome.message,
        detail: outcome.detail,
      })
    } catch (error) {
      jobLog.error('cannot record the end of a job run', { error: errorMessage(error), status })
    }
    const fields = {
      status,
      rows_done: outcome.rowsDone,
      rows_total: outcome.rowsTotal,
      spend_usd: outcome.spendUsd,
      message: outcome.message,
    }
    if (status === 'failed') jobLog.error('job failed', fields)
    else if (status === 'degraded') jobLog.warn('job degraded', fields)
    else jobLog.info(`job ${status}`, fields)
    stopping.signal.removeEventListener('abort', abort)
    external?.removeEventListener('abort', abort)
    automaticRuns.delete(controller)
    return {
      job: job.name,
      runId,
      status,
      rowsDone: outcome.rowsDone,
      rowsTotal: outcome.rowsTotal,
      spendUsd: outcome.spendUsd,
      message: outcome.message,
      durationMs: finishedAt - startedAt,
      ...(failure !== undefined && status === 'failed' ? { error: failure } : {}),
    }
  }

  async function runOnce(name: string, runOptions: RunOptions = {}): Promise<RunResult> {
    const job = registry.get(name)
    const busy = inFlight.get(name)
    if (busy) return skipped(name, 'already running')
    if (stopping.signal.aborted) return skipped(name, 'the scheduler is stopping')
    const automatic = runOptions.trigger === 'scheduled' || runOptions.trigger === 'start'
    if (automatic && options.lease && !options.lease.held())
      return skipped(name, 'another process holds the job lease')
    const run = (async () => {
      await ensureInit()
      return execute(job, runOptions.trigger ?? 'manual', runOptions.signal)
    })()
    inFlight.set(name, run)
    try {
      return await run
    } finally {
      inFlight.delete(name)
    }
  }

  /** A scheduled tick: waits for busy dependencies first, so it never reads their half-written output. */
  async function tick(job: JobDefinition): Promise<void> {
    try {
      for (const dep of job.dependsOn ?? []) await inFlight.get(dep)?.catch(() => undefined)
      const result = await runOnce(job.name, { trigger: 'scheduled' })
      if (result.status === 'skipped')
        log.info('scheduled job skipped', { job: job.name, reason: result.message })
    } catch (error) {
      // Only the bookkeeping around a run can get here (e.g. the store is down); the next tick tries again.
      log.error('scheduled job could not start', { job: job.name, error: errorMessage(error) })
    }
  }

  async function runAll(runOptions: RunOptions = {}) {
    const results: RunResult[] = []
    const bad = new Set<string>()
    for (const job of registry.order()) {
      const failedDep = (job.dependsOn ?? []).find((d) => bad.has(d))
      let result: RunResult
      if (failedDep) result = skipped(job.name, `dependency ${failedDep} did not succeed`)
      else if (runOptions.signal?.aborted || stopping.signal.aborted)
        result = skipped(job.name, 'stopped before it started')
      else
        result = await runOnce(job.name, {
          trigger: runOptions.trigger ?? 'run-all',
          signal: runOptions.signal,
        })
      if (result.status !== 'ok' && result.status !== 'degraded') bad.add(job.name)
      results.push(result)
    }
    return { results, failed: results.filter((r) => bad.has(r.job)) }
  }

  return {
    registry,
    async start() {
      await ensureInit()
      for (const job of registry.list()) {
        const expression = registry.schedule(job.name)
        const task = createTask(expression, () => tick(job), {
          name: `driftwatch:${job.name}`,
          timezone: config.jobs.timezone,
          // Our own lock decides; node-cron's overlap check would only log a second warning.
          noOverlap: false,
          // node-cron's messages (missed ticks) go to our structured log, never to stdout.
          logger: cronLogger(log),
        })
        await task.start()
        tasks.push(task)
        log.info('job scheduled', {
          job: job.name,
          schedule: expression,
          next: task.getNextRun()?.toISOString(),
        })
      }
      if (config.jobs.run_on_start) {
        runAll({ trigger: 'start' }).catch((error) =>
          log.error('initial job run failed', { error: errorMessage(error) }),
        )
      }
    },
    async stop() {
      stopping.abort()
      for (const task of tasks.splice(0)) await task.destroy()
      await Promise.allSettled([...inFlight.values()])
    },
    runOnce,
    runAll,
    running: () => [...inFlight.keys()],
    abortAutomatic() {
      for (const controller of automaticRuns) controller.abort()
    },
  }
}

function skipped(job: string, message: string): RunResult {
  return { job, runId: '', status: 'skipped', rowsDone: 0, rowsTotal: 0, spendUsd: 0, message, durationMs: 0 }
}

function errorDetail(error: unknown): Record<string, unknown> {
  if (error instanceof DriftwatchError)
    return { code: error.code, retriable: error.retriable, fix: error.fix }
  return { code: 'UNEXPECTED', name: error instanceof Error ? error.name : typeof error }
}

function cronLogger(log: Logger) {
  const text = (m: string | Error) => (m instanceof Error ? m.message : m)
  return {
    info: (m: string) => log.debug(`node-cron: ${m}`),
    warn: (m: string) => log.warn(`node-cron: ${m}`),
    error: (m: string | Error) => log.error(`node-cron: ${text(m)}`),
    debug: (m: string | Error) => log.debug(`node-cron: ${text(m)}`),
  }
}
