// The job contract and the registry of named jobs: what a job is (name, default schedule,
// dependencies, run), what it gets (JobContext) and reports (JobOutcome), and the dependency
// order the scheduler runs them in. Validation errors name the job and the fix.

import { validate as isValidCron } from 'node-cron'
import type { Config } from '../config/schema.ts'
import { ConfigError, DriftwatchError } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { Store } from '../store/store.ts'

export interface JobProgress {
  done: number
  total: number
  /** Failed rows so far (recorded in scoring_failures). */
  failed: number
  spendUsd: number
}

export interface JobContext {
  store: Store
  config: Config
  log: Logger
  /** Aborted on shutdown: stop starting work, record what is done, return. */
  signal: AbortSignal
  runId: string
  /** Cheap to call often: the scheduler throttles what it prints and records. */
  progress(p: JobProgress): void
  now(): number
}

/** ok: everything selected was handled; degraded: a budget cut the sample (detail says how). */
export type JobOutcomeStatus = 'ok' | 'degraded'

export interface JobOutcome {
  status: JobOutcomeStatus
  rowsDone: number
  rowsTotal: number
  spendUsd: number
  message: string
  detail: Record<string, unknown>
}

/**
 * Thrown by a job that could not finish (endpoint down, shutdown) after storing part of its
 * work: the scheduler records the partial numbers. The watermark stays where the stored
 * work ends, so the next run continues from there.
 */
export class JobIncompleteError extends DriftwatchError {
  readonly partial: Omit<JobOutcome, 'status'>
  readonly status: 'failed' | 'aborted'
  constructor(code: string, status: 'failed' | 'aborted', partial: Omit<JobOutcome, 'status'>) {
    super(code, partial.message, { retriable: true })
    this.partial = partial
    this.status = status
  }
}

/** The job's signal fired (shutdown, Ctrl-C): it stored what it finished and stopped. */
export class JobAbortedError extends JobIncompleteError {
  constructor(partial: Omit<JobOutcome, 'status'>) {
    super('JOB_ABORTED', 'aborted', { ...partial, message: `stopped before finishing: ${partial.message}` })
  }
}

export interface JobDefinition {
  name: string
  description: string
  /** Cron expression used unless config jobs.schedule.<name> replaces it. */
  defaultSchedule: string
  /** Jobs that run first in run-all, and that a scheduled run waits for when they are busy. */
  dependsOn?: readonly string[]
  run(ctx: JobContext): Promise<JobOutcome>
}

export interface JobRegistry {
  list(): readonly JobDefinition[]
  get(name: string): JobDefinition
  has(name: string): boolean
  /** Every job, dependencies before dependents; ties keep registration order (scoring first). */
  order(): JobDefinition[]
  schedule(name: string): string
}

export function createJobRegistry(
  jobs: readonly JobDefinition[],
  schedules: Record<string, string> = {},
): JobRegistry {
  const byName = new Map<string, JobDefinition>()
  for (const job of jobs) {
    if (!/^[a-z][a-z0-9_-]*$/.test(job.name)) {
      throw new ConfigError(`job name ${JSON.stringify(job.name)} is not valid`, {
        fix: 'use lower-case letters, digits, _ and -',
      })
    }
    if (byName.has(job.name))
      throw new ConfigError(`two jobs are named ${job.name}`, { fix: 'give every job its own name' })
    byName.set(job.name, job)
  }
  for (const job of jobs) {
    for (const dep of job.dependsOn ?? []) {
      if (!byName.has(dep)) {
        throw new ConfigError(`job ${job.name} depends on ${dep}, which is not registered`, {
          fix: `register ${dep} or remove it from ${job.name}.dependsOn`,
        })
      }
    }
    if (!isValidCron(job.defaultSchedule)) {
      throw new ConfigError(
        `job ${job.name} has an invalid default schedule ${JSON.stringify(job.defaultSchedule)}`,
      )
    }
  }
  for (const name of Object.keys(schedules)) {
    if (!byName.has(name)) {
      throw new ConfigError(`jobs.schedule.${name}: there is no job named ${name}`, {
        fix: `use one of ${[...byName.keys()].join(', ') || '(no jobs registered)'}`,
      })
    }
  }
  const ordered = topologicalOrder(jobs, byName)
  return {
    list: () => jobs,
    has: (name) => byName.has(name),
    get(name) {
      const job = byName.get(name)
      if (!job) {
        throw new ConfigError(`there is no job named ${JSON.stringify(name)}`, {
          fix: `use one of ${[...byName.keys()].join(', ') || '(none: enable a scorer in driftwatch.yaml)'}; see driftwatch jobs list`,
        })
      }
      return job
    },
    order: () => [...ordered],
    schedule: (name) => schedules[name] ?? byName.get(name)?.defaultSchedule ?? '',
  }
}

/** Kahn's algorithm, always taking the earliest-registered job that is ready: a stable order. */
function topologicalOrder(
  jobs: readonly JobDefinition[],
  byName: Map<string, JobDefinition>,
): JobDefinition[] {
  const out: JobDefinition[] = []
  const placed = new Set<string>()
  while (out.length < jobs.length) {
    const ready = jobs.find((j) => !placed.has(j.name) && (j.dependsOn ?? []).every((d) => placed.has(d)))
    if (!ready) {
      const stuck = jobs.filter((j) => !placed.has(j.name))
      throw new ConfigError(`jobs depend on each other in a cycle: ${describeCycle(stuck, byName)}`, {
        fix: 'remove one of these dependencies',
      })
    }
    placed.add(ready.name)
    out.push(ready)
  }
  return out
}

/** Follows unplaced dependencies from the first stuck job until one repeats. */
function describeCycle(stuck: JobDefinition[], byName: Map<string, JobDefinition>): string {
  const path: string[] = []
  let current: JobDefinition | undefined = stuck[0]
  const names = new Set(stuck.map((j) => j.name))
  while (current && !path.includes(current.name)) {
    path.push(current.name)
    const next: string | undefined = (current.dependsOn ?? []).find((d) => names.has(d))
    current = next ? byName.get(next) : undefined
  }
  return current ? [...path.slice(path.indexOf(current.name)), current.name].join(' -> ') : path.join(' -> ')
}
