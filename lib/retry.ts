// One retrier for every place that retries (kafkajs habit): jittered exponential backoff,
// honours a server's Retry-After, never retries programming errors or non-retriable errors.

import { HttpError, isRetriable } from './errors.ts'

export interface RetryOptions {
  /** Attempts after the first one. Infinity retries until `signal` aborts. */
  retries: number
  initialMs: number
  maxMs: number
  /** 0..1: share of the delay that is random. */
  jitter?: number
  /** A server's Retry-After is honoured up to this (default 5 minutes). */
  maxRetryAfterMs?: number
  signal?: AbortSignal
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  random?: () => number
}

export function backoffDelay(
  attempt: number,
  options: Pick<RetryOptions, 'initialMs' | 'maxMs' | 'jitter'>,
  random = Math.random,
): number {
  const exp = Math.min(options.maxMs, options.initialMs * 2 ** attempt)
  const jitter = options.jitter ?? 0.2
  return Math.round(exp * (1 - jitter) + exp * jitter * random())
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? abortableSleep
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (!isRetriable(error) || attempt >= options.retries || options.signal?.aborted) throw error
      let delayMs = backoffDelay(attempt, options, options.random)
      if (error instanceof HttpError && error.retryAfterMs !== undefined) {
        delayMs = Math.max(delayMs, Math.min(error.retryAfterMs, options.maxRetryAfterMs ?? 300_000))
      }
      options.onRetry?.({ attempt: attempt + 1, delayMs, error })
      await sleep(delayMs, options.signal)
    }
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
