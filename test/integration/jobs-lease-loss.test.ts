// A runner that loses the job lease stops its scheduled runs in flight (they record
// `aborted`), so they cannot overlap the new holder's; a run asked for by hand goes on. A runner
// that takes the lease over from a holder that let it expire closes the runs that holder left
// `running` (its own runs and manual ones elsewhere stay as they are).
import { afterAll, describe, expect, it } from 'vitest'
import { createJobLease } from '../../jobs/lease.ts'
import { JobAbortedError, type JobDefinition } from '../../jobs/registry.ts'
import { createScheduler } from '../../jobs/scheduler.ts'
import { holderProcess, startJobs } from '../../jobs/start-jobs.ts'
import { createLogger } from '../../lib/log.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'
import { testConfig } from '../helpers/ingest.ts'
import { createTestStore } from '../helpers/store.ts'

let store: Store
afterAll(async () => {
  await store?.close()
})

/** A job that runs until aborted or released. */
function waitingJob(name: string): { job: JobDefinition; started: Promise<void>; release: () => void } {
  let release = () => {}
  let started = () => {}
  const startedP = new Promise<void>((r) => {
    started = r
  })
  const released = new Promise<void>((r) => {
    release = r
  })
  const partial = { rowsDone: 0, rowsTotal: 0, spendUsd: 0, message: '', detail: {} }
  const job: JobDefinition = {
    name,
    description: 'waits',
    defaultSchedule: '0 0 1 1 *',
    run: async ({ signal }) => {
      started()
      await Promise.race([released, new Promise((r) => signal.addEventListener('abort', r, { once: true }))])
      if (signal.aborted) throw new JobAbortedError(partial)
      return { status: 'ok', ...partial }
    },
  }
  return { job, started: startedP, release }
}

describe('scheduler: lease lost', () => {
  it('aborts scheduled runs in flight and lets manual runs finish', async () => {
    store = await createTestStore()
    const scheduled = waitingJob('scheduled_one')
    const manual = waitingJob('manual_one')
    const scheduler = createScheduler({
      store,
      config: testConfig('127.0.0.1:9'),
      log: createLogger({ level: 'warn' }),
      jobs: [scheduled.job, manual.job],
      lease: { held: () => true },
    })
    const a = scheduler.runOnce('scheduled_one', { trigger: 'scheduled' })
    const b = scheduler.runOnce('manual_one', { trigger: 'manual' })
    await Promise.all([scheduled.started, manual.started])
    scheduler.abortAutomatic()
    expect((await a).status).toBe('aborted')
    expect(scheduler.running()).toEqual(['manual_one'])
    manual.release()
    expect((await b).status).toBe('ok')
    const [row] = await store.query<{ status: string }>(
      "SELECT status FROM job_runs FINAL WHERE job = 'scheduled_one'",
    )
    expect(row?.status).toBe('aborted')
    await scheduler.stop()
  })

  it('closes the runs a holder left running when its lease is taken over after expiry', async () => {
    store ??= await createTestStore()
    const config = testConfig('127.0.0.1:9', { jobs: { schedule: { refusal: '0 0 1 1 *' } } })
    const log = createLogger({ level: 'warn' })
    expect(holderProcess('web-1:4242:ab12cd34')).toEqual({ host: 'web-1', pid: 4242 })
    expect(holderProcess('runner-a')).toBeUndefined()
    // The dead holder: it claimed the lease, started runs and stopped renewing.
    const dead = createJobLease({ store, holder: 'deadhost:4242:ab12cd34', ttlMs: 3_000, settleMs: 200 })
    expect(await dead.acquire()).toBe(true)
    const next = createJobLease({ store, holder: 'livehost:77:ef56ab78', ttlMs: 3_000, settleMs: 200 })
    const scheduler = await startJobs({ store, config, log, lease: next, leaseIntervalMs: 200 })
    try {
      // Rows as the dead holder's recorder wrote them (its host and pid).
      const plant = (runId: string, trigger: 'scheduled' | 'manual', host: string) =>
        store.insert('job_runs', [
          {
            job: 'refusal',
            run_id: runId,
            trigger,
            status: 'running',
            started_at: clickhouseTime(Date.now()),
            finished_at: null,
            rows_done: 0,
            rows_total: 0,
            spend_usd: 0,
            message: '',
            detail: '{}',
            host,
            pid: 4242,
            revision: 1,
          },
        ])
      await plant('dead-scheduled', 'scheduled', 'deadhost')
      await plant('dead-manual', 'manual', 'deadhost')
      await plant('other-host', 'scheduled', 'otherhost')
      const deadline = Date.now() + 30_000
      while (!next.held() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(next.held()).toBe(true)
      expect(next.takenFrom).toBe('deadhost:4242:ab12cd34')
      const statuses = async () =>
        Object.fromEntries(
          (
            await store.query<{ run_id: string; status: string }>(
              "SELECT run_id, status FROM job_runs FINAL WHERE run_id IN ('dead-scheduled', 'dead-manual', 'other-host')",
            )
          ).map((r) => [r.run_id, r.status]),
        )
      let seen = await statuses()
      while (seen['dead-scheduled'] === 'running' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100))
        seen = await statuses()
      }
      expect(seen).toEqual({ 'dead-scheduled': 'failed', 'dead-manual': 'running', 'other-host': 'running' })
    } finally {
      await scheduler.stop()
    }
  })
})
