// Typed errors shared by every part of driftwatch. A caller decides what to do with
// `retriable` and `code`, never by matching message text. Messages name the fix.

export interface DriftwatchErrorOptions {
  /** true when the same call may succeed later (outage, overload, rate limit). */
  retriable?: boolean
  /** What the user can do about it; printed by the CLI after the message. */
  fix?: string
  cause?: unknown
}

export class DriftwatchError extends Error {
  readonly code: string
  readonly retriable: boolean
  readonly fix: string | undefined

  constructor(code: string, message: string, options: DriftwatchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options.retriable ?? false
    this.fix = options.fix
  }
}

/** Bad driftwatch.yaml, bad environment variable or bad command-line flag. */
export class ConfigError extends DriftwatchError {
  constructor(message: string, options: DriftwatchErrorOptions = {}) {
    super('CONFIG', message, options)
  }
}

/** The ClickHouse store refused or failed a call. */
export class StoreError extends DriftwatchError {}

/** Another driftwatch process owns the embedded store's data folder. */
export class StoreLockedError extends DriftwatchError {
  /** The recorded long-running owner, when there is one; undefined for an unrecorded process. */
  readonly owner: { pid: number; command: string; url?: string } | undefined
  constructor(
    message: string,
    options: DriftwatchErrorOptions & { owner?: { pid: number; command: string; url?: string } } = {},
  ) {
    super('STORE_LOCKED', message, options)
    this.owner = options.owner
  }
}

/** A Kafka message that cannot become an interaction row; it goes to the dead-letter topic. */
export class PoisonMessageError extends DriftwatchError {
  /** Short machine-readable reason (contract/decode.ts POISON_REASONS, or `store_rejected`). */
  readonly reason: string
  constructor(reason: string, message: string, options: DriftwatchErrorOptions = {}) {
    super('POISON_MESSAGE', message, options)
    this.reason = reason
  }
}

/**
 * The schema registry did not answer (5xx, timeout, refused connection) while a framed message
 * was decoded. Not the message's fault: always retriable, never dead-lettered; the consumer
 * retries the chunk until the registry is back.
 */
export class RegistryUnavailableError extends DriftwatchError {
  constructor(message: string, options: Omit<DriftwatchErrorOptions, 'retriable'> = {}) {
    super('REGISTRY_UNAVAILABLE', message, { ...options, retriable: true })
  }
}

/** A remote HTTP endpoint (model server, PagerDuty, webhook) answered with an error. */
export class HttpError extends DriftwatchError {
  readonly status: number
  readonly retryAfterMs: number | undefined
  constructor(
    status: number,
    message: string,
    options: DriftwatchErrorOptions & { retryAfterMs?: number } = {},
  ) {
    super('HTTP', message, { retriable: status === 429 || status >= 500, ...options })
    this.status = status
    this.retryAfterMs = options.retryAfterMs
  }
}

/**
 * Programming errors are never retried (kafkajs habit). Node's fetch reports a refused or
 * reset connection as `TypeError('fetch failed')` with the socket error as its cause: that
 * one is an outage, not a bug.
 */
export function isProgrammingError(error: unknown): boolean {
  if (error instanceof TypeError && isNetworkCause(error.cause)) return false
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError
}

function isNetworkCause(cause: unknown): boolean {
  if (cause === null || typeof cause !== 'object') return false
  const code = (cause as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('E') || code.startsWith('UND_ERR'))
}

export function isRetriable(error: unknown): boolean {
  if (error instanceof DriftwatchError) return error.retriable
  return !isProgrammingError(error)
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
