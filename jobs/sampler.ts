// Deterministic sampling of interactions for the model scorers, as a pure function. The jobs
// run the same selection in ClickHouse (jobs/sample-query.ts); this mirror defines it, and the
// tests prove on it that reruns choose the same rows and that rare scopes get their minimum.
//
// The rule, per window (by interaction time) and scope (model_version x variant_id x segment
// x modality):
//   u = first 48 bits of sha256(request_id) / 2^48, uniform in [0, 1), the same on every
//       machine, run and replica (and in SQL: reinterpretAsUInt64(reverse(substring(SHA256(...)))))
//   selected = u < rate                       (the rate, per scope through overrides)
//           or rank of u in the scope <= min  (the lowest-u rows top a small scope up)
//           or status != ok                   (always_errors)
//           or safety_flag                    (always_flagged)
// Rate-sampled rows are the lowest-u rows of their scope, so "rate or minimum" is simply the
// max(rate-sampled, min) lowest-u rows. Priorities order the work so a budget cut keeps the
// per-scope minimum first: 0 = within the minimum, 1 = forced (error / flagged), 2 = rate.

import { createHash } from 'node:crypto'
import type { SamplingConfig } from '../config/schema.ts'
import { SCOPE_COLUMNS, type Scope, type ScopeWhere, scopeKey } from '../contract/scope.ts'

export const HASH_BITS = 48
export const HASH_SPACE = 2 ** HASH_BITS

/** Integer in [0, 2^48): the first 6 bytes of sha256(salt + requestId), big-endian. */
export function requestHash(requestId: string, salt = ''): number {
  return createHash('sha256')
    .update(salt + requestId, 'utf8')
    .digest()
    .readUIntBE(0, 6)
}

/** Uniform in [0, 1), exact in a double (48 bits < 53). */
export function hashUnit(requestId: string, salt = ''): number {
  return requestHash(requestId, salt) / HASH_SPACE
}

export interface SamplingPolicy {
  rate: number
  minPerScope: number
  windowMinutes: number
  alwaysErrors: boolean
  alwaysFlagged: boolean
  overrides: Array<{ where: ScopeWhere; rate?: number; minPerScope?: number }>
}

export type SamplingPatch = Partial<SamplingConfig>

/** The global `sampling` section with a scorer's own keys on top. */
export function resolveSamplingPolicy(global: SamplingConfig, patch: SamplingPatch = {}): SamplingPolicy {
  const merged = { ...global, ...stripUndefined(patch) }
  return {
    rate: merged.rate,
    minPerScope: merged.min_per_scope,
    windowMinutes: merged.window_minutes,
    alwaysErrors: merged.always_errors,
    alwaysFlagged: merged.always_flagged,
    overrides: merged.overrides.map((o) => ({ where: o.where, rate: o.rate, minPerScope: o.min_per_scope })),
  }
}

/** Rate and minimum for one scope: the first override whose every key matches, else the defaults. */
export function ruleForScope(policy: SamplingPolicy, scope: Scope): { rate: number; minPerScope: number } {
  for (const o of policy.overrides) {
    if (SCOPE_COLUMNS.every((k) => o.where[k] === undefined || o.where[k] === scope[k])) {
      return { rate: o.rate ?? policy.rate, minPerScope: o.minPerScope ?? policy.minPerScope }
    }
  }
  return { rate: policy.rate, minPerScope: policy.minPerScope }
}

export function windowIndex(timestampMs: number, windowMinutes: number): number {
  return Math.floor(timestampMs / (windowMinutes * 60_000))
}

export const PRIORITY = { minimum: 0, forced: 1, rate: 2 } as const
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY]

export interface SampleCandidate extends Scope {
  request_id: string
  /** Epoch ms. */
  timestamp: number
  status: string
  safety_flag: boolean | null
}

export interface SampledRow<T extends SampleCandidate = SampleCandidate> {
  row: T
  priority: Priority
  /** requestHash(request_id). */
  hash: number
  window: number
  /** 1-based rank by (hash, request_id) within window and scope. */
  scopeRank: number
}

/**
 * The rows to score, in the order to score them: priority, then hash, then request_id. A
 * request_id seen twice (a producer retry) counts once, as its first occurrence.
 */
export function selectSample<T extends SampleCandidate>(
  rows: Iterable<T>,
  policy: SamplingPolicy,
): SampledRow<T>[] {
  const groups = new Map<string, Array<{ row: T; hash: number; window: number }>>()
  const seen = new Set<string>()
  for (const row of rows) {
    if (seen.has(row.request_id)) continue
    seen.add(row.request_id)
    const window = windowIndex(row.timestamp, policy.windowMinutes)
    const key = `${window}\u0000${scopeKey(row)}`
    const group = groups.get(key) ?? []
    if (group.length === 0) groups.set(key, group)
    group.push({ row, hash: requestHash(row.request_id), window })
  }
  const selected: SampledRow<T>[] = []
  for (const group of groups.values()) {
    group.sort(byHashThenId)
    const { rate, minPerScope } = ruleForScope(policy, group[0]!.row)
    const threshold = rate * HASH_SPACE
    group.forEach((item, i) => {
      const scopeRank = i + 1
      const priority = priorityOf(item.row, item.hash, scopeRank, threshold, minPerScope, policy)
      if (priority !== undefined) selected.push({ ...item, priority, scopeRank })
    })
  }
  return selected.sort((a, b) => a.priority - b.priority || byHashThenId(a, b))
}

function priorityOf(
  row: SampleCandidate,
  hash: number,
  scopeRank: number,
  threshold: number,
  minPerScope: number,
  policy: SamplingPolicy,
): Priority | undefined {
  if (scopeRank <= minPerScope) return PRIORITY.minimum
  if ((policy.alwaysErrors && row.status !== 'ok') || (policy.alwaysFlagged && row.safety_flag === true)) {
    return PRIORITY.forced
  }
  if (hash < threshold) return PRIORITY.rate
  return undefined
}

function byHashThenId(
  a: { hash: number; row: { request_id: string } },
  b: { hash: number; row: { request_id: string } },
) {
  if (a.hash !== b.hash) return a.hash - b.hash
  return a.row.request_id < b.row.request_id ? -1 : a.row.request_id > b.row.request_id ? 1 : 0
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
