// The rules of the deployments history, pure: statuses, what a valid model_version looks
// like, whether a mark writes a row, and the logical clock that orders marks. The store
// module (deployments.ts) asks these questions; tests answer them without a store.

import { DeploymentError } from './errors.ts'

export const DEPLOYMENT_STATUSES = ['detected', 'stable', 'rolled_back', 'retired'] as const
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number]

/** Statuses a person sets; `detected` is written only by detection. */
export const MARK_STATUSES = ['stable', 'rolled_back', 'retired'] as const
export type MarkStatus = (typeof MARK_STATUSES)[number]

/** A version's current status (one row of the `deployment_status` view). */
export interface Deployment {
  model_version: string
  status: DeploymentStatus
  /** First interaction of the version, ISO 8601; null when it was marked before any traffic. */
  first_seen: string | null
  /** When the current status was set, ISO 8601. */
  marked_at: string
  marked_by: string
  note: string
}

/** One row of the `deployments` history. */
export type DeploymentChange = Deployment

export interface MarkResult {
  deployment: Deployment
  /** false when the version already had that status: nothing was written. */
  changed: boolean
  previous_status: DeploymentStatus | null
}

/** model_version is a LowCardinality label in every table: keep it printable and short. */
export const MAX_VERSION_LENGTH = 200

export function validateVersion(version: unknown): string {
  if (typeof version !== 'string' || version.trim() === '') {
    throw new DeploymentError('BAD_VERSION', 'no model_version given', {
      fix: 'pass the model_version, e.g. `driftwatch deploy mark-stable v2`',
    })
  }
  if (version !== version.trim() || version.length > MAX_VERSION_LENGTH || /\p{Cc}/u.test(version)) {
    throw new DeploymentError(
      'BAD_VERSION',
      `model_version ${JSON.stringify(version)} is not a valid version label`,
      {
        fix: `use the model_version exactly as the interactions carry it (printable, no surrounding spaces, at most ${MAX_VERSION_LENGTH} characters)`,
      },
    )
  }
  return version
}

export type MarkDecision = { write: false; reason: 'unchanged' } | { write: true }

/**
 * Whether marking `version` as `target` writes a row. Every transition between statuses is
 * allowed (a rollback found to be a false alarm may be marked stable again): the history
 * keeps what happened. The same status again writes nothing, so a retried request cannot
 * move a version ahead in the "most recently marked stable" order.
 */
export function decideMark(input: {
  version: string
  target: MarkStatus
  current: DeploymentStatus | undefined
  seenInTraffic: boolean
  force: boolean
}): MarkDecision {
  if (input.current === input.target) return { write: false, reason: 'unchanged' }
  if (input.current === undefined && !input.seenInTraffic && !input.force) {
    throw new DeploymentError(
      'UNKNOWN_VERSION',
      `model_version ${JSON.stringify(input.version)} was never seen in traffic nor in deployments`,
      {
        fix: 'check the spelling against `driftwatch deploy list`, or pass --force to record a version before its first interaction',
      },
    )
  }
  return { write: true }
}

/**
 * The marked_at of a new row: now, but strictly after every marked_at stored, so the order
 * of marks is the order they were made even within one millisecond or after a clock step back.
 */
export function nextMarkedAt(nowMs: number, lastMarkedAtMs: number | undefined): number {
  return lastMarkedAtMs === undefined || nowMs > lastMarkedAtMs ? nowMs : lastMarkedAtMs + 1
}

/** A detected row's marked_at: its first interaction, but never in the future (skewed clocks). */
export function detectedMarkedAt(firstSeenMs: number, nowMs: number): number {
  return Math.min(firstSeenMs, nowMs)
}
