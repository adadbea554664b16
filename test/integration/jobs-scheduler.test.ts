// The scheduler over the embedded store: dependency order, one run of a job at a time, every
// run recorded in job_runs (progress, failure, abort), cron ticks, stop() waiting for running
// jobs, and runs left `running` by a dead process closed on start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import type { ProgressReport } from '../../jobs/progress.ts'
import { JobAbortedError, type JobContext, type JobDefinition, type JobOutcome } from '../../jobs/registry.ts'
import { createScheduler } from '../../jobs/scheduler.ts'
import { startJobs } from '../../jobs/start-jobs.ts'
import { DriftwatchError } from '../../lib/errors.ts'
import { silentLogger } from '../../lib/log.ts'
import type { Store } from '../../store/store.ts'
import { createTestStore } from '../helpers/store.ts'

let store: Store
const config = parseConfig({
  jobs: { progress_interval_ms: 1, settle_seconds: 0 },
  scorers: { refusal: { enabled: false } },
})
const ok = (rows = 1): JobOutcome => ({
  status: 'ok',
  rowsDone: rows,
  rowsTotal: rows,
  spendUsd: 0,
  message: 'done',
  detail: { rows },
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function job(
  name: string,
  run: (ctx: JobContext) => Promise<JobOutcome>,
  dependsOn: string[] = [],
  defaultSchedule = '0 0 1 1 *',
): JobDefinition {
  return { name, description: name, defaultSchedule, dependsOn, run }
}

async function runsOf(name: string) {
  return store.query<{
    status: string
    trigger: string
    message: string
    rows_done: number
    finished_at: string | null
  }>(
    'SELECT status, trigger, message, rows_done, finished_at FROM job_runs FINAL WHERE job = {j:String} ORDER BY started_at',
    { j: name },
  )
}

beforeAll(async () => {
  store = await createTestStore()
})
afterAll(async () => {
  await store.close()
})

describe('scheduler', () => {
  it('runs every job once in dependency order and skips dependents of a failed job', async () => {
    const order: string[] = []
    const track =
      (name: string, fail = false) =>
      async () => {
        order.push(name)
        if (fail) throw new DriftwatchError('BOOM', 'the model endpoint said no', { retriable: true })
        return ok()
      }
    const s = createScheduler({
      store,
      config,
      log: silentLogger,
      jobs: [
        job('o_alerts', track('o_alerts'), ['o_baselines']),
        job('o_baselines', track('o_baselines', true), ['o_scoring']),
        job('o_scoring', track('o_scoring')),
        job('o_other', track('o_other')),
      ],
    })
    const { results, failed } = await s.runAll()
    expect(order).toEqual(['o_scoring', 'o_baselines', 'o_other'])
    expect(results.map((r) => [r.job, r.status])).toEqual([
      ['o_scoring', 'ok'],
      ['o_baselines', 'failed'],
      ['o_alerts', 'skipped'],
      ['o_other', 'ok'],
    ])
    expect(failed.map((r) => r.job)).toEqual(['o_baselines', 'o_alerts'])
    const [run] = await runsOf('o_baselines')
    expect(run).toMatchObject({ status: 'failed', trigger: 'run-all', message: 'the model endpoint said no' })
    expect(run!.finished_at).not.toBeNull()
  })

  it('never runs a job twice at once', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let calls = 0
    const s = createScheduler({
      store,
      config,
      log: silentLogger,
      jobs: [
        job('lock', async () => {
          calls++
          await gate
          return ok()
        }),
      ],
    })
    const first = s.runOnce('lock')
    await sleep(50)
    expect(s.running()).toEqual(['lock'])
    expect(await s.runOnce('lock')).toMatchObject({ status: 'skipped', message: 'already running' })
    release()
    expect((await first).status).toBe('ok')
    expect(calls).toBe(1)
  })

  it('reports progress while a job runs and records the final numbers', async () => {
    const reports: ProgressReport[] = []
    const s = createScheduler({
      store,
      config,
      log: silentLogger,
      onProgress: (r) => reports.push(r),
      jobs: [
        job('progress', async (ctx) => {
          for (let done = 1; done <= 3; done++) {
            await sleep(5)
            ctx.progress({ done, total: 3, failed: 0, spendUsd: done * 0.01 })
          }
          return { ...ok(3), spendUsd: 0.03 }
        }),
      ],
    })
    await s.runOnce('progress')
    expect(reports.length).toBeGreaterThanOrEqual(2)
    expect(reports.at(-1)).toMatchObject({ job: 'progress', done: 3, total: 3, final: true, spendUsd: 0.03 })
    expect((await runsOf('progress'))[0]).toMatchObject({ status: 'ok', rows_done: 3 })
  })

  it('runs a job on its cron schedule, and stop() waits for the run in flight, which records an abort', async () => {
    let started = 0
    const s = createScheduler({
      store,
      config,
      log: silentLogger,
      jobs: [
        job(
          'ticker',
          async (ctx) => {
            started++
            await new Promise<void>((resolve) =>
              ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
            )
            await sleep(20) // finishing touches after the abort: stop() must wait for them
            throw new JobAbortedError({ ...ok(7), message: '7 rows stored' })
          },
          [],
          '* * * * * *',
        ),
      ],
    })
    await s.start()
    for (let i = 0; i < 40 && started === 0; i++) await sleep(100)
    expect(started).toBe(1)
    await s.stop()
    expect(s.running()).toEqual([])
    const runs = await runsOf('ticker')
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({
      status: 'aborted',
      trigger: 'scheduled',
      rows_done: 7,
      message: 'stopped before finishing: 7 rows stored',
    })
  })

  it('closes runs left running by a process that died', async () => {
    await store.insert('job_runs', [
      {
        job: 'ghost',
        run_id: 'dead-1',
        trigger: 'scheduled',
        status: 'running',
        started_at: '2025-01-06 09:00:00.000',
        finished_at: null,
        rows_done: 5,
        rows_total: 9,
        spend_usd: 0,
        message: '',
        detail: '{}',
        host: 'h',
        pid: 1,
        revision: 3,
      },
    ])
    const s = createScheduler({ store, config, log: silentLogger, jobs: [job('ghost', async () => ok())] })
    await s.runOnce('ghost')
    const runs = await runsOf('ghost')
    expect(runs.map((r) => r.status)).toEqual(['failed', 'ok'])
    expect(runs[0]!.message).toMatch(/ended before it finished/)
  })
})

describe('startJobs', () => {
  it('schedules the configured jobs and stops when its signal aborts', async () => {
    const controller = new AbortController()
    let ran = 0
    const s = await startJobs({
      store,
      config: parseConfig({
        jobs: { run_on_start: true, settle_seconds: 0 },
        scorers: { refusal: { enabled: true } },
      }),
      log: silentLogger,
      signal: controller.signal,
      jobs: [
        job('extra', async () => {
          ran++
          return ok()
        }, ['refusal']),
      ],
    })
    expect(s.registry.order().map((j) => j.name)).toEqual(['refusal', 'extra'])
    for (let i = 0; i < 50 && ran === 0; i++) await sleep(50)
    expect(ran).toBe(1)
    controller.abort()
    await s.stop()
    expect((await runsOf('refusal'))[0]).toMatchObject({ status: 'ok', trigger: 'start' })
  })

  it('leaves the scheduler unstarted when jobs are disabled', async () => {
    const s = await startJobs({ store, config: parseConfig({ jobs: { enabled: false } }), log: silentLogger })
    expect(s.registry.list().map((j) => j.name)).toEqual(['refusal'])
    await s.stop()
  })
})
