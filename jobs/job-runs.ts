// The job_runs table: one row per run, rewritten with a higher revision as the run progresses
// (running → ok | degraded | failed | aborted), so `SELECT … FROM job_runs FINAL` shows every
// run's latest state, including the one in progress, and a budget cut is on record.

import { hostname } from 'node:os'
import type { Store } from '../store/store.ts'
import { clickhouseTime, parseClickhouseTime } from '../store/time.ts'

export type JobRunStatus = 'running' | 'ok' | 'degraded' | 'failed' | 'aborted'
export type JobTrigger = 'scheduled' | 'manual' | 'run-all' | 'start'

export interface JobRunState {
  job: string
  runId: string
  trigger: JobTrigger
  status: JobRunStatus
  startedAt: number
  finishedAt: number | null
  rowsDone: number
  rowsTotal: number
  spendUsd: number
  message: string
  detail: Record<string, unknown>
}

/** Writes successive states of one run; revisions only go up, so the last write wins. */
export interface JobRunRecorder {
  readonly state: JobRunState
  write(patch: Partial<Omit<JobRunState, 'job' | 'runId' | 'startedAt'>>): Promise<void>
}

export function createJobRunRecorder(store: Store, initial: JobRunState): JobRunRecorder {
  let revision = 0
  const state = { ...initial }
  const host = hostname()
  return {
    state,
    async write(patch) {
      Object.assign(state, patch)
      revision++
      await store.insert(
        'job_runs',
        [
          {
            job: state.job,
            run_id: state.runId,
            trigger: state.trigger,
            status: state.status,
            started_at: clickhouseTime(state.startedAt),
            finished_at: state.finishedAt === null ? null : clickhouseTime(state.finishedAt),
            rows_done: state.rowsDone,
            rows_total: state.rowsTotal,
            spend_usd: state.spendUsd,
            message: state.message,
            detail: JSON.stringify(state.detail),
            host,
            pid: process.pid,
            revision,
          },
        ],
        { dedupToken: `job_runs:${state.runId}:${revision}` },
      )
    },
  }
}

export interface JobRunRow {
  job: string
  run_id: string
  trigger: string
  status: JobRunStatus
  started_at: string
  finished_at: string | null
  rows_done: number
  rows_total: number
  spend_usd: number
  message: string
  detail: string
}

const RUN_COLUMNS =
  'job, run_id, trigger, status, started_at, finished_at, rows_done, rows_total, spend_usd, message, detail'

export async function recentJobRuns(
  store: Store,
  options: { job?: string; limit?: number } = {},
): Promise<JobRunRow[]> {
  return store.query<JobRunRow>(
    `SELECT ${RUN_COLUMNS} FROM job_runs FINAL
     WHERE {job:String} = '' OR job = {job:String}
     ORDER BY started_at DESC, run_id DESC LIMIT {limit:UInt32}`,
    { job: options.job ?? '', limit: options.limit ?? 20 },
  )
}

/** The latest run of every job (for `jobs list`). SQL kept here so the CLI can run it read-only. */
export const LAST_RUN_PER_JOB_SQL = `SELECT job, run_id, status, started_at, finished_at, rows_done, rows_total, spend_usd, message
FROM job_runs FINAL ORDER BY job, started_at DESC, run_id DESC LIMIT 1 BY job`

/** The process whose scheduled runs are closed: a job-lease holder that let the lease expire. */
export interface RunOwner {
  host: string
  pid: number
}

/**
 * Runs still marked running when a scheduler starts over the embedded store belonged to a
 * process that died (only one process can own that store). They are closed as failed, so
 * nobody mistakes them for work in progress. On a ClickHouse server, where another process may
 * really be running some, only `owner`'s scheduled and start-up runs are closed: the caller
 * took the job lease over from it after it expired.
 */
export async function closeAbandonedRuns(store: Store, now: number, owner?: RunOwner): Promise<number> {
  const rows = await store.query<JobRunRow & { revision: number; started_at: string }>(
    `SELECT ${RUN_COLUMNS}, revision FROM job_runs FINAL WHERE status = 'running'${
      owner ? " AND host = {host:String} AND pid = {pid:UInt32} AND trigger IN ('scheduled', 'start')" : ''
    }`,
    owner ? { host: owner.host, pid: owner.pid } : undefined,
  )
  if (rows.length === 0) return 0
  await store.insert(
    'job_runs',
    rows.map((r) => ({
      ...r,
      started_at: clickhouseTime(parseClickhouseTime(r.started_at)),
      status: 'failed',
      finished_at: clickhouseTime(now),
      message: owner
        ? `the job lease holder running this job (${owner.host}, pid ${owner.pid}) let the lease expire before it finished (crash, kill or stall); the next run continues from the watermark`
        : 'the process running this job ended before it finished (crash or kill); the next run continues from the watermark',
      host: hostname(),
      pid: process.pid,
      revision: r.revision + 1,
    })),
  )
  return rows.length
}
