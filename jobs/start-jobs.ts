// The built-in jobs as configured in driftwatch.yaml (refusal always, Llama Guard and judge
// when enabled), and startJobs(): the scheduler running them inside a long-lived process
// (`driftwatch start`, `driftwatch jobs`) until its signal aborts.

import { resolve } from 'node:path'
import type { Config } from '../config/schema.ts'
import { errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { Store } from '../store/store.ts'
import { closeAbandonedRuns, type RunOwner } from './job-runs.ts'
import { createJobLease, type JobLease, keepLease } from './lease.ts'
import { type ClientOverrides, createJudgeAdapter, createLlamaGuardAdapter } from './model-scorers.ts'
import { formatJobProgress, type ProgressReport } from './progress.ts'
import { createRefusalJob } from './refusal-job.ts'
import type { JobDefinition } from './registry.ts'
import { createGoldenJob } from './replay/golden-job.ts'
import { createScheduler, type Scheduler } from './scheduler.ts'
import { createModelScoringJob } from './scoring-job.ts'

export interface BuiltinJobsOptions {
  config: Config
  log: Logger
  /** Where api_key_env variables are read; default process.env. */
  env?: NodeJS.ProcessEnv
  /** Base of a relative scorers.judge.prompt path; default the working directory. */
  cwd?: string
  /** HTTP client knobs outside the config (tests, benchmarks). */
  client?: ClientOverrides
}

/** Default cron of each built-in job: the detector is cheap, model calls are batched up. */
export const DEFAULT_SCHEDULES = {
  refusal: '* * * * *',
  llama_guard: '*/5 * * * *',
  judge: '*/5 * * * *',
} as const

export interface PlannedJob {
  name: string
  enabled: boolean
  schedule: string
  description: string
}

/** The built-in jobs and whether driftwatch.yaml enables them, without building any client. */
export function plannedJobs(config: Config): PlannedJob[] {
  const s = config.scorers
  const schedule = (name: keyof typeof DEFAULT_SCHEDULES) =>
    config.jobs.schedule[name] ?? DEFAULT_SCHEDULES[name]
  return [
    {
      name: 'refusal',
      enabled: s.refusal.enabled,
      schedule: schedule('refusal'),
      description: 'built-in refusal detector, every answered interaction',
    },
    {
      name: 'llama_guard',
      enabled: s.llama_guard.enabled,
      schedule: schedule('llama_guard'),
      description: s.llama_guard.enabled
        ? `Llama Guard ${s.llama_guard.model} on a sample`
        : 'Llama Guard (off: set scorers.llama_guard.enabled, base_url, model)',
    },
    {
      name: 'judge',
      enabled: s.judge.enabled,
      schedule: schedule('judge'),
      description: s.judge.enabled
        ? `LLM judge ${s.judge.model} on a sample`
        : 'LLM judge (off: set scorers.judge.enabled, base_url, model)',
    },
    {
      name: 'golden',
      enabled: config.golden !== undefined,
      schedule: config.jobs.schedule.golden ?? config.golden?.cron ?? '0 3 * * *',
      description: config.golden
        ? `golden suite ${config.golden.suite} against ${config.golden.model}`
        : 'golden suite (off: set golden.suite, target, model)',
    },
  ]
}

/** Scoring jobs first: jobs registered later (windows, baselines) depend on their output. */
export async function builtinJobs(options: BuiltinJobsOptions): Promise<JobDefinition[]> {
  const { config } = options
  const scorers = config.scorers
  const adapterOptions = { log: options.log, env: options.env, cwd: options.cwd, client: options.client }
  const jobs: JobDefinition[] = []
  if (scorers.refusal.enabled)
    jobs.push(
      createRefusalJob({ batchSize: scorers.refusal.batch_size, defaultSchedule: DEFAULT_SCHEDULES.refusal }),
    )
  if (scorers.llama_guard.enabled) {
    jobs.push(
      createModelScoringJob({
        adapter: createLlamaGuardAdapter(scorers.llama_guard, adapterOptions),
        settings: scorers.llama_guard,
        defaultSchedule: DEFAULT_SCHEDULES.llama_guard,
      }),
    )
  }
  if (scorers.judge.enabled) {
    jobs.push(
      createModelScoringJob({
        adapter: await createJudgeAdapter(scorers.judge, adapterOptions),
        settings: scorers.judge,
        defaultSchedule: DEFAULT_SCHEDULES.judge,
      }),
    )
  }
  // The golden suite reads what the scorers wrote on its answers: after them.
  if (config.golden)
    jobs.push(
      createGoldenJob({
        golden: { ...config.golden, suite: resolve(options.cwd ?? process.cwd(), config.golden.suite) },
        env: options.env,
        cwd: options.cwd,
        client: options.client,
      }),
    )
  return jobs
}

/**
 * config.jobs.schedule without the built-in jobs that are switched off: scheduling a disabled
 * scorer is not a mistake, a misspelt job name still is.
 */
export function activeSchedules(config: Config, jobs: readonly JobDefinition[]): Record<string, string> {
  const registered = new Set(jobs.map((j) => j.name))
  return Object.fromEntries(
    Object.entries(config.jobs.schedule).filter(
      ([name]) => registered.has(name) || !Object.hasOwn(DEFAULT_SCHEDULES, name),
    ),
  )
}

/** A scheduler over the configured built-in jobs (and `extra`), not started: for one-off runs. */
export async function createJobsScheduler(
  options: BuiltinJobsOptions & {
    store: Store
    jobs?: readonly JobDefinition[]
    onProgress?: (report: ProgressReport) => void
    lease?: JobLease
  },
): Promise<Scheduler> {
  const jobs = [...(await builtinJobs(options)), ...(options.jobs ?? [])]
  return createScheduler({
    store: options.store,
    config: options.config,
    log: options.log,
    jobs,
    schedules: activeSchedules(options.config, jobs),
    lease: options.lease,
    onProgress:
      options.onProgress ?? ((report) => options.log.info(formatJobProgress(report), { job: report.job })),
  })
}

export interface StartJobsOptions extends BuiltinJobsOptions {
  store: Store
  /** Aborting it stops the scheduler (running jobs record what they did first). */
  signal?: AbortSignal
  /** Jobs of other parts of driftwatch, run after the built-in ones. */
  jobs?: readonly JobDefinition[]
  /** Default: one info log line per report. */
  onProgress?: (report: ProgressReport) => void
  /** Default: a lease named "jobs" expiring after jobs.lease_ttl_ms, renewed every `leaseIntervalMs` (default a third of it). */
  lease?: JobLease
  leaseIntervalMs?: number
}

/**
 * Builds the configured jobs and schedules them (unless jobs.enabled is false, when the
 * scheduler is returned unstarted, still usable for runOnce). Call stop() — or abort the
 * signal and then await stop() — before closing the store.
 */
export async function startJobs(options: StartJobsOptions): Promise<Scheduler> {
  const { config, log } = options
  if (!config.jobs.enabled) {
    log.info('scheduled jobs are disabled (jobs.enabled: false)')
    return createJobsScheduler(options)
  }
  // One runner at a time across processes sharing a ClickHouse server. The embedded store
  // opens in one process only: no lease, and no wait for a killed holder's lease to expire.
  const lease =
    options.lease ??
    (options.store.kind === 'server'
      ? createJobLease({ store: options.store, ttlMs: config.jobs.lease_ttl_ms })
      : undefined)
  const scheduler = await createJobsScheduler({ ...options, lease })
  if (options.signal?.aborted) return scheduler
  if (!lease) {
    await scheduler.start()
    options.signal?.addEventListener('abort', () => void scheduler.stop(), { once: true })
    return scheduler
  }
  try {
    await lease.acquire(options.signal)
  } catch (error) {
    log.warn('job lease: first claim failed; retrying in the background', { error: errorMessage(error) })
  }
  const keeper = new AbortController()
  const kept = keepLease({
    lease,
    log,
    signal: keeper.signal,
    intervalMs: options.leaseIntervalMs ?? Math.floor(config.jobs.lease_ttl_ms / 3),
    // Runs the previous holder left `running` when it let the lease expire are closed.
    onAcquired: async (takenFrom) => {
      const owner = takenFrom ? holderProcess(takenFrom) : undefined
      if (!owner) return
      const closed = await closeAbandonedRuns(options.store, Date.now(), owner)
      if (closed > 0)
        log.warn('closed job runs left running by the previous lease holder', { runs: closed, ...owner })
    },
    // Its scheduled runs must not overlap the next holder's: stop them (they record `aborted`).
    onLost: () => {
      if (scheduler.running().length > 0)
        log.warn('job lease lost: aborting the scheduled runs in flight', { jobs: scheduler.running() })
      scheduler.abortAutomatic()
    },
  })
  await scheduler.start()
  const stop = async () => {
    await scheduler.stop()
    keeper.abort()
    await kept
  }
  options.signal?.addEventListener('abort', () => void stop(), { once: true })
  return { ...scheduler, stop }
}

/** The host and pid in a default lease holder name (`<host>:<pid>:<random>`), else undefined. */
export function holderProcess(holder: string): RunOwner | undefined {
  const m = /^(.+):(\d+):[^:]+$/.exec(holder)
  return m ? { host: m[1]!, pid: Number(m[2]) } : undefined
}
