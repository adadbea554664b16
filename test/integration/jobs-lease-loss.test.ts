// A runner that loses the job lease stops its scheduled runs in flight (they record
// `aborted`), so they cannot overlap the new holder's; a run asked for by hand goes on.
import { afterAll, describe, expect, it } from 'vitest'
import { JobAbortedError, type JobDefinition } from '../../jobs/registry.ts'
import { createScheduler } from '../../jobs/scheduler.ts'
import { createLogger } from '../../lib/log.ts'
import type { Store } from '../../store/store.ts'
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
})
