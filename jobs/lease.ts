// One job runner at a time: a lease in ClickHouse (table job_lease, sql/migrations/007),
// so two `driftwatch start` / `driftwatch jobs` processes against one server never score or
// evaluate twice. How it is decided without compare-and-set is in the migration's header;
// leaseState() is that rule, pure. createJobLease() claims, renews and gives the lease up;
// keepLease() runs it in the background for a long-lived process.

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import { abortableSleep } from '../lib/retry.ts'
import type { Store } from '../store/store.ts'

export interface LeaseRow {
  term: number
  holder: string
  kind: 'claim' | 'renew'
  claimed_ms: number
  expires_ms: number
}

export interface LeaseState {
  /** The latest term (0 when nobody ever claimed). */
  term: number
  /** The holder of that term: its earliest claim, ties broken by holder. */
  holder: string | undefined
  /** Until when the holder renewed (epoch ms, server clock). */
  expiresMs: number
  /** True when the lease can be claimed (term + 1) at `nowMs`. */
  free: boolean
}

/** The rule every process applies to the rows of the latest term. Pure. */
export function leaseState(rows: readonly LeaseRow[], nowMs: number): LeaseState {
  const term = rows.reduce((max, r) => Math.max(max, r.term), 0)
  let winner: LeaseRow | undefined
  for (const r of rows) {
    if (r.term !== term || r.kind !== 'claim') continue
    if (
      !winner ||
      r.claimed_ms < winner.claimed_ms ||
      (r.claimed_ms === winner.claimed_ms && r.holder < winner.holder)
    )
      winner = r
  }
  if (!winner) return { term, holder: undefined, expiresMs: 0, free: true }
  // The holder's latest row decides: a release is a renewal with ttl 0, expiring at once.
  let latest = winner
  for (const r of rows)
    if (r.term === term && r.holder === winner.holder && r.claimed_ms >= latest.claimed_ms) latest = r
  const expiresMs = latest.expires_ms
  return { term, holder: winner.holder, expiresMs, free: expiresMs <= nowMs }
}

export interface JobLeaseOptions {
  store: Store
  /** One lease per name; default "jobs". */
  name?: string
  /** Default `<host>:<pid>:<random>`. */
  holder?: string
  /** How long a claim or renewal holds without another renewal (default 30 s). */
  ttlMs?: number
  /** Wait after a claim before reading who won: longer than an insert takes (default 1 s). */
  settleMs?: number
  now?: () => number
}

export interface JobLease {
  readonly holder: string
  /** Whom the last won claim took the lease over from (undefined: nobody, or ourselves). */
  readonly takenFrom: string | undefined
  /** True while this process holds the lease, by its own clock (renewed less than ttl ago, with a margin). */
  held(): boolean
  /** Claims a free lease or renews the one it holds; true when it holds it afterwards. */
  acquire(signal?: AbortSignal): Promise<boolean>
  /** Who holds it now, as the store says. */
  state(): Promise<LeaseState>
  /** Lets the lease expire now, so another runner can take over at once. */
  release(): Promise<void>
}

export function createJobLease(options: JobLeaseOptions): JobLease {
  const { store } = options
  const name = options.name ?? 'jobs'
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const ttlMs = options.ttlMs ?? 30_000
  const settleMs = options.settleMs ?? 1_000
  const now = options.now ?? Date.now
  // Local clock: held until `heldUntil`, a margin before the renewal's server-side expiry.
  let heldUntil = 0
  let heldTerm = 0
  let takenFrom: string | undefined

  async function read(): Promise<{ rows: LeaseRow[]; nowMs: number }> {
    const rows = await store.query<LeaseRow & { now_ms: number }>(
      `SELECT term, holder, toString(kind) AS kind, toUnixTimestamp64Milli(claimed_at) AS claimed_ms,
              toUnixTimestamp64Milli(expires_at) AS expires_ms, toUnixTimestamp64Milli(now64(3)) AS now_ms
         FROM job_lease
        WHERE name = {name:String} AND term = (SELECT max(term) FROM job_lease WHERE name = {name:String})`,
      { name },
    )
    const nowMs = rows[0] ? Number(rows[0].now_ms) : await serverNow()
    return {
      rows: rows.map((r) => ({
        term: Number(r.term),
        holder: r.holder,
        kind: r.kind,
        claimed_ms: Number(r.claimed_ms),
        expires_ms: Number(r.expires_ms),
      })),
      nowMs,
    }
  }

  async function serverNow(): Promise<number> {
    const [row] = await store.query<{ now_ms: number }>('SELECT toUnixTimestamp64Milli(now64(3)) AS now_ms')
    return Number(row!.now_ms)
  }

  async function write(term: number, kind: 'claim' | 'renew', ttl: number): Promise<void> {
    // A random token: two claims (or renewals) must never be deduplicated into one.
    await store.insert('job_lease', [{ name, term, holder, kind, ttl_ms: ttl }], { dedupToken: randomUUID() })
  }

  async function state(): Promise<LeaseState> {
    const { rows, nowMs } = await read()
    return leaseState(rows, nowMs)
  }

  return {
    holder,
    get takenFrom() {
      return takenFrom
    },
    held: () => now() < heldUntil,
    state,
    async acquire(signal) {
      const started = now()
      const current = await state()
      if (current.holder === holder && !current.free) {
        await write(current.term, 'renew', ttlMs)
        heldTerm = current.term
        heldUntil = started + ttlMs - settleMs
        return true
      }
      heldUntil = 0
      if (!current.free) return false
      const term = current.term + 1
      await write(term, 'claim', ttlMs)
      await abortableSleep(settleMs, signal)
      const after = await state()
      if (after.term !== term || after.holder !== holder || after.free) return false
      takenFrom = current.holder !== holder ? current.holder : undefined
      heldTerm = term
      heldUntil = started + ttlMs - settleMs
      return true
    },
    async release() {
      if (heldUntil === 0) return
      heldUntil = 0
      await write(heldTerm, 'renew', 0)
    },
  }
}

export interface LeaseKeeperOptions {
  lease: JobLease
  log: Logger
  signal: AbortSignal
  /** How often to renew or try to claim (default ttl / 3 = 10 s). */
  intervalMs?: number
  /** Called when a held lease is lost (another holder, or the store unreachable). */
  onLost?: () => void
  /** Called when the lease is acquired, with the holder it was taken over from (if any). */
  onAcquired?: (takenFrom: string | undefined) => void | Promise<void>
}

/** Renews (or tries to claim) every interval until `signal` aborts, then releases. */
export async function keepLease({
  lease,
  log,
  signal,
  intervalMs = 10_000,
  onLost,
  onAcquired,
}: LeaseKeeperOptions): Promise<void> {
  // Unknown at first, so the first answer is logged either way: a runner that starts while
  // another holds the lease says so once (docs/scaling.md), not only when it changes.
  let holding: boolean | undefined
  while (!signal.aborted) {
    try {
      const now = await lease.acquire(signal)
      if (now !== holding) {
        const lost = holding === true
        holding = now
        if (lost) onLost?.()
        if (now) {
          log.info('job lease acquired: this process runs the scheduled jobs', {
            holder: lease.holder,
            taken_from: lease.takenFrom,
          })
          await Promise.resolve(onAcquired?.(lease.takenFrom)).catch((error) =>
            log.warn('job lease: the step after acquiring it failed', { error: errorMessage(error) }),
          )
        } else {
          const s = await lease.state()
          log.info('job lease held by another process: jobs wait here', { holder: s.holder, term: s.term })
        }
      }
    } catch (error) {
      log.warn('job lease: cannot reach the store; jobs pause until it answers', {
        error: errorMessage(error),
      })
      if (holding === true) onLost?.()
      holding = false
    }
    await abortableSleep(intervalMs, signal)
  }
  await lease
    .release()
    .catch((error) => log.warn('job lease: release failed', { error: errorMessage(error) }))
}
