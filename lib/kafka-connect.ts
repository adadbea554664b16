// Connecting to Kafka when the broker may not be up yet (a deploy where driftwatch starts
// first, `kafka up` still booting, a broker restart): kafkajs gives up after its own ~8 s of
// retries; a long-running consumer should keep trying, say so once, and go on when it can.

import { errorMessage } from './errors.ts'
import type { Logger } from './log.ts'
import { abortableSleep, backoffDelay } from './retry.ts'

/** kafkajs error names that mean "no broker answered", not "the broker said no". */
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSLeaderNotAvailable',
  'KafkaJSGroupCoordinatorNotFound',
])

/**
 * true when `error` (or the error it wraps) says the broker could not be reached, or is a
 * broker answer kafkajs itself marks retriable (coordinator loading, a topic being created).
 */
export function isBrokerUnreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    // Exhausted retries: the wrapped error says whether it was a connection problem.
    if (e.name !== 'KafkaJSNumberOfRetriesExceeded') {
      if (UNREACHABLE.has(e.name)) return true
      if (e.name === 'KafkaJSProtocolError' && (e as { retriable?: unknown }).retriable === true) return true
    }
    const code = (e as { code?: unknown }).code
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH')
      return true
    e = (e as { originalError?: unknown }).originalError ?? e.cause
  }
  return false
}

export interface ConnectRetryOptions {
  /** What is connecting, for the log line, e.g. "ingest consumer". */
  what: string
  brokers: string[]
  log: Logger
  signal?: AbortSignal
  initialMs?: number
  maxMs?: number
}

/**
 * Runs `connect` until it succeeds. Unreachable-broker failures are retried with capped
 * backoff, forever, until `signal` aborts (then the last error is thrown); the first one is
 * logged at warn with the brokers and the fix, later ones every ~30 s. Other errors (wrong
 * credentials, TLS) are thrown at once.
 */
export async function connectWithRetry<T>(
  connect: () => Promise<T>,
  options: ConnectRetryOptions,
): Promise<T> {
  const { log, what, brokers, signal } = options
  let since: number | undefined
  let lastWarn = 0
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await connect()
      if (since !== undefined)
        log.info(`Kafka broker reachable, ${what} connected`, { brokers, waitedMs: Date.now() - since })
      return result
    } catch (error) {
      if (!isBrokerUnreachable(error) || signal?.aborted) throw error
      const now = Date.now()
      since ??= now
      const delayMs = backoffDelay(attempt, {
        initialMs: options.initialMs ?? 500,
        maxMs: options.maxMs ?? 5_000,
      })
      const fields = { brokers, attempt: attempt + 1, delayMs, error: errorMessage(error) }
      if (now - lastWarn >= 30_000) {
        lastWarn = now
        log.warn(`Kafka broker unreachable, ${what} waiting for it (retrying until it answers)`, {
          ...fields,
          fix: 'start the broker (driftwatch kafka up) or set kafka.brokers / KAFKA_BROKERS to a reachable one',
        })
      } else log.debug('Kafka broker still unreachable', fields)
      await abortableSleep(delayMs, signal)
      if (signal?.aborted) throw error
    }
  }
}
