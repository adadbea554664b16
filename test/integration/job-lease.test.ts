// Two job runners on one store: only one holds the lease and runs scheduled jobs; when the
// holder stops renewing (a crash) the lease expires and the other takes over; a released
// lease is taken over at once.
import { afterAll, describe, expect, it } from 'vitest'
import { createJobLease } from '../../jobs/lease.ts'
import { createScheduler } from '../../jobs/scheduler.ts'
import { createLogger } from '../../lib/log.ts'
import type { Store } from '../../store/store.ts'
import { testConfig } from '../helpers/ingest.ts'
import { createTestStore } from '../helpers/store.ts'

const log = createLogger({ level: 'warn' })
let store: Store

afterAll(async () => {
  await store?.close()
})

describe('job lease', () => {
  it('one holder among racing runners; expiry hands it over; release hands it over at once', async () => {
    store = await createTestStore()
    const opts = { store, ttlMs: 2_000, settleMs: 300 }
    const a = createJobLease({ ...opts, holder: 'runner-a' })
    const b = createJobLease({ ...opts, holder: 'runner-b' })
    const c = createJobLease({ ...opts, holder: 'runner-c' })

    // All three claim the free lease at once: exactly one wins, and all agree which.
    const won = await Promise.all([a.acquire(), b.acquire(), c.acquire()])
    expect(won.filter(Boolean)).toHaveLength(1)
    const holder = [a, b, c][won.indexOf(true)]!
    const others = [a, b, c].filter((l) => l !== holder)
    expect((await a.state()).holder).toBe(holder.holder)
    expect(holder.held()).toBe(true)
    for (const o of others) expect(o.held()).toBe(false)

    // Renewing keeps it; the others cannot take it while it is renewed.
    await new Promise((r) => setTimeout(r, 1_000))
    expect(await holder.acquire()).toBe(true)
    for (const o of others) expect(await o.acquire()).toBe(false)

    // The holder stops renewing (crashed): after the ttl it is free and one other runner takes it.
    await new Promise((r) => setTimeout(r, 2_200))
    expect(holder.held()).toBe(false)
    const [first, second] = others as [typeof a, typeof a]
    expect(await first.acquire()).toBe(true)
    expect(await second.acquire()).toBe(false)

    // A release lets the next runner in without waiting for the ttl.
    await first.release()
    expect(first.held()).toBe(false)
    expect(await second.acquire()).toBe(true)
    expect((await a.state()).holder).toBe(second.holder)
  })

  it('a scheduler without the lease skips scheduled runs; the holder runs them; manual runs are not gated', async () => {
    store ??= await createTestStore()
    const config = testConfig('127.0.0.1:9')
    let runs = 0
    const job = {
      name: 'count',
      description: 'counts runs',
      defaultSchedule: '0 0 1 1 *',
      run: async () => {
        runs++
        return { status: 'ok' as const, rowsDone: 0, rowsTotal: 0, spendUsd: 0, message: '', detail: {} }
      },
    }
    const holding = createScheduler({ store, config, log, jobs: [job], lease: { held: () => true } })
    const waiting = createScheduler({ store, config, log, jobs: [job], lease: { held: () => false } })
    expect((await waiting.runOnce('count', { trigger: 'scheduled' })).status).toBe('skipped')
    expect((await waiting.runOnce('count', { trigger: 'start' })).message).toMatch(
      /another process holds the job lease/,
    )
    expect(runs).toBe(0)
    expect((await holding.runOnce('count', { trigger: 'scheduled' })).status).toBe('ok')
    expect((await waiting.runOnce('count', { trigger: 'manual' })).status).toBe('ok')
    expect(runs).toBe(2)
  })
})
