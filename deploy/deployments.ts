// The deployments history in the store: detect new model versions from traffic, record a
// person's marks (stable, rolled back, retired), and answer "which version do we roll back
// to?" (the last stable one). Table and view: sql/migrations/005_deployments.sql. The rules
// (what writes a row, the clock) are in status.ts; this module only does the I/O.

import type { Store } from '../store/store.ts'
import { clickhouseTime, isoTime, parseClickhouseTime } from '../store/time.ts'
import {
  type Deployment,
  type DeploymentChange,
  decideMark,
  detectedMarkedAt,
  type MarkResult,
  type MarkStatus,
  nextMarkedAt,
  validateVersion,
} from './status.ts'

export interface MarkOptions {
  /** Why; shown by `deploy list` and kept in the history. */
  note?: string
  /** Who; the CLI fills in user@host. */
  by?: string
  /** Record a version never seen in traffic (e.g. before its first interaction). */
  force?: boolean
  /** Clock, for tests. */
  now?: () => number
}

export interface DetectOptions {
  now?: () => number
}

export const DETECTED_BY = 'driftwatch:detect'

const STATUS_COLUMNS = 'model_version, status, first_seen, marked_at, marked_by, note'

/**
 * Writes a `detected` row for every model_version seen in interactions and absent from
 * deployments; returns them. Idempotent: a version already recorded is skipped, and a
 * repeated run writes the identical rows under the same insert token.
 */
export async function detectNewVersions(store: Store, options: DetectOptions = {}): Promise<Deployment[]> {
  const now = (options.now ?? Date.now)()
  // Runs every minute under `driftwatch start`: the usual answer, "nothing new", reads only
  // the model_version column (~30 ms over 10M rows); timestamps are read only for new versions.
  const fresh = await store.query<{ model_version: string }>(
    'SELECT DISTINCT model_version FROM interactions WHERE model_version NOT IN (SELECT model_version FROM deployments)',
  )
  if (fresh.length === 0) return []
  const seen = await store.query<{ model_version: string; first_seen_ms: number }>(
    `SELECT model_version, toUnixTimestamp64Milli(min(timestamp)) AS first_seen_ms
FROM interactions
WHERE model_version IN {versions:Array(String)}
GROUP BY model_version
ORDER BY model_version`,
    { versions: fresh.map((f) => f.model_version) },
  )
  if (seen.length === 0) return []
  const detected = seen.map((s) => {
    const firstSeenMs = Number(s.first_seen_ms)
    return { version: s.model_version, firstSeenMs, markedAtMs: detectedMarkedAt(firstSeenMs, now) }
  })
  const rows = detected.map((d) => ({
    model_version: d.version,
    status: 'detected' as const,
    first_seen: clickhouseTime(d.firstSeenMs),
    marked_at: clickhouseTime(d.markedAtMs),
    marked_by: DETECTED_BY,
    note: '',
  }))
  await store.insert('deployments', rows, {
    dedupToken: `detect:${rows.map((r) => `${r.model_version}@${r.marked_at}`).join(',')}`,
  })
  return detected.map((d, i) => ({
    ...rows[i]!,
    first_seen: isoTime(d.firstSeenMs),
    marked_at: isoTime(d.markedAtMs),
  }))
}

export function markStable(store: Store, version: string, options: MarkOptions = {}): Promise<MarkResult> {
  return markDeployment(store, version, 'stable', options)
}

export function markRolledBack(
  store: Store,
  version: string,
  options: MarkOptions = {},
): Promise<MarkResult> {
  return markDeployment(store, version, 'rolled_back', options)
}

export function markRetired(store: Store, version: string, options: MarkOptions = {}): Promise<MarkResult> {
  return markDeployment(store, version, 'retired', options)
}

/**
 * Sets a version's status. A version with no deployments row yet is accepted when it has
 * traffic (detection may not have run), else only with `force`. The same status again is a
 * no-op (`changed: false`).
 */
export function markDeployment(
  store: Store,
  version: string,
  status: MarkStatus,
  options: MarkOptions = {},
): Promise<MarkResult> {
  // Read-then-write: two marks at once in this process (two HTTP requests to the owner)
  // would read the same latest marked_at and tie. One at a time per store.
  const previous = markQueues.get(store) ?? Promise.resolve()
  const result = previous.then(() => writeMark(store, version, status, options))
  markQueues.set(
    store,
    result.then(
      () => undefined,
      () => undefined,
    ),
  )
  return result
}

const markQueues = new WeakMap<Store, Promise<void>>()

async function writeMark(
  store: Store,
  version: string,
  status: MarkStatus,
  options: MarkOptions,
): Promise<MarkResult> {
  validateVersion(version)
  const current = await getDeployment(store, version)
  let firstSeenMs: number | undefined
  if (!current) {
    const traffic = await store.query<{ n: number; first_seen_ms: number }>(
      'SELECT count() AS n, toUnixTimestamp64Milli(min(timestamp)) AS first_seen_ms FROM interactions WHERE model_version = {v:String}',
      { v: version },
    )
    if (Number(traffic[0]?.n ?? 0) > 0) firstSeenMs = Number(traffic[0]!.first_seen_ms)
  }
  const decision = decideMark({
    version,
    target: status,
    current: current?.status,
    seenInTraffic: firstSeenMs !== undefined,
    force: options.force ?? false,
  })
  if (!decision.write) return { deployment: current!, changed: false, previous_status: current!.status }
  const last = await store.query<{ n: number; last_ms: number }>(
    'SELECT count() AS n, toUnixTimestamp64Milli(max(marked_at)) AS last_ms FROM deployments',
  )
  const lastMs = Number(last[0]?.n ?? 0) > 0 ? Number(last[0]!.last_ms) : undefined
  const markedAtMs = nextMarkedAt((options.now ?? Date.now)(), lastMs)
  const markedAt = clickhouseTime(markedAtMs)
  // The store returns times as ISO text; a version new to the table takes its first interaction.
  if (current) firstSeenMs = current.first_seen === null ? undefined : parseClickhouseTime(current.first_seen)
  const firstSeen = current ? current.first_seen : firstSeenMs === undefined ? null : isoTime(firstSeenMs)
  const row = {
    model_version: version,
    status,
    first_seen: firstSeenMs === undefined ? null : clickhouseTime(firstSeenMs),
    marked_at: markedAt,
    marked_by: options.by ?? '',
    note: options.note ?? '',
  }
  await store.insert('deployments', [row], { dedupToken: `mark:${version}:${status}:${markedAt}` })
  return {
    deployment: { ...row, first_seen: firstSeen, marked_at: isoTime(markedAtMs) },
    changed: true,
    previous_status: current?.status ?? null,
  }
}

/**
 * The rollback target: the version most recently marked stable that is still stable (a
 * version rolled back or retired since is not a target), other than `excluding`, the
 * version under evaluation. undefined when there is none.
 */
export async function lastStable(
  store: Store,
  options: { excluding?: string } = {},
): Promise<Deployment | undefined> {
  const rows = await store.query<Deployment>(
    `SELECT ${STATUS_COLUMNS} FROM deployment_status
WHERE status = 'stable' AND model_version != {excluding:String}
ORDER BY marked_at DESC, model_version
LIMIT 1`,
    { excluding: options.excluding ?? '' },
  )
  return rows[0]
}

/** Every known version with its current status, most recently changed first. */
export function listDeployments(store: Store): Promise<Deployment[]> {
  return store.query<Deployment>(
    `SELECT ${STATUS_COLUMNS} FROM deployment_status ORDER BY marked_at DESC, model_version`,
  )
}

export async function getDeployment(store: Store, version: string): Promise<Deployment | undefined> {
  const rows = await store.query<Deployment>(
    `SELECT ${STATUS_COLUMNS} FROM deployment_status WHERE model_version = {v:String}`,
    {
      v: version,
    },
  )
  return rows[0]
}

/** The status changes, oldest first; of one version when given. */
export function deploymentHistory(store: Store, version?: string): Promise<DeploymentChange[]> {
  // DISTINCT: a retried write is visible twice until a merge; the history shows it once.
  return store.query<DeploymentChange>(
    `SELECT DISTINCT ${STATUS_COLUMNS} FROM deployments
WHERE {v:String} = '' OR model_version = {v:String}
ORDER BY marked_at, model_version`,
    { v: version ?? '' },
  )
}
