// Delivers one JSON body over HTTP POST with the shared retrier, and turns every failure into
// one typed AlertDeliveryError that says which sink, after how many attempts, and whether a
// later retry could help. Used by the PagerDuty and webhook senders; knows neither format.

import { ConfigError, DriftwatchError, errorMessage, HttpError, isRetriable } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import { type RetryOptions, withRetry } from '../lib/retry.ts'

export type SinkName = 'pagerduty' | 'webhook' | 'kafka'

export interface AlertDeliveryErrorOptions {
  sink: SinkName
  attempts: number
  status?: number
  retriable?: boolean
  fix?: string
  cause?: unknown
  code?: string
}

/** A sink did not accept an alert. `retriable` says whether sending it again later may work. */
export class AlertDeliveryError extends DriftwatchError {
  readonly sink: SinkName
  readonly attempts: number
  /** HTTP status of the last answer; undefined for network errors and Kafka. */
  readonly status: number | undefined

  constructor(message: string, options: AlertDeliveryErrorOptions) {
    super(options.code ?? 'ALERT_DELIVERY', message, {
      retriable: options.retriable ?? false,
      fix: options.fix,
      cause: options.cause,
    })
    this.sink = options.sink
    this.attempts = options.attempts
    this.status = options.status
  }
}

/** Retry knobs shared by the HTTP senders; defaults suit PagerDuty's "retry after some time". */
export interface SenderRetryOptions {
  /** Attempts after the first one (default 5). */
  retries?: number
  /** First backoff delay (default 500 ms); a Retry-After header wins when longer. */
  initialMs?: number
  /** Backoff ceiling (default 30 s). */
  maxMs?: number
  /** Stops retrying (the current attempt is aborted too). */
  signal?: AbortSignal
  /** Injected in tests to observe delays without waiting. */
  sleep?: RetryOptions['sleep']
  random?: RetryOptions['random']
}

/** Picks the retry knobs out of a sender's options, so unrelated options never leak into a request. */
export function retryOptionsFrom(options: SenderRetryOptions): SenderRetryOptions {
  const { retries, initialMs, maxMs, signal, sleep, random } = options
  return { retries, initialMs, maxMs, signal, sleep, random }
}

export interface PostJsonOptions extends SenderRetryOptions {
  sink: SinkName
  url: string
  /** Serialised once by the caller: the webhook signs these exact bytes. */
  body: string
  /** A function is called per attempt (the webhook re-signs with a fresh timestamp). */
  headers?: Record<string, string> | (() => Record<string, string>)
  fetch: typeof fetch
  /** Per attempt (default 10 s): a hung connection must not stall the other sinks forever. */
  timeoutMs: number
  log: Logger
  /** Maps a non-2xx answer to an error; return undefined to use the default HttpError. */
  rejectionFor?: (status: number, body: unknown, attempts: number) => AlertDeliveryError | undefined
}

export interface PostJsonResult {
  status: number
  body: unknown
  attempts: number
}

export const DEFAULT_TIMEOUT_MS = 10_000

export async function postJson(options: PostJsonOptions): Promise<PostJsonResult> {
  const { sink, log } = options
  let attempts = 0
  try {
    return await withRetry(
      async (attempt) => {
        attempts = attempt + 1
        const response = await fetchOnce(options)
        const body = await readBody(response)
        if (response.ok) return { status: response.status, body, attempts }
        throw options.rejectionFor?.(response.status, body, attempts) ?? httpError(sink, response, body)
      },
      {
        retries: options.retries ?? 5,
        initialMs: options.initialMs ?? 500,
        maxMs: options.maxMs ?? 30_000,
        signal: options.signal,
        sleep: options.sleep,
        random: options.random,
        onRetry: ({ attempt, delayMs, error }) =>
          log.warn('alert delivery failed, retrying', {
            sink,
            attempt,
            delay_ms: delayMs,
            status: error instanceof HttpError ? error.status : undefined,
            error: errorMessage(error),
          }),
      },
    )
  } catch (error) {
    if (error instanceof AlertDeliveryError) throw error
    const status = error instanceof HttpError ? error.status : undefined
    const retriable = isRetriable(error)
    throw new AlertDeliveryError(
      `${sink}: not delivered after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorMessage(error)}`,
      {
        sink,
        attempts,
        status,
        retriable,
        cause: error,
        fix: error instanceof DriftwatchError ? error.fix : undefined,
      },
    )
  }
}

async function fetchOnce(options: PostJsonOptions): Promise<Response> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  try {
    return await options.fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'driftwatch',
        ...(typeof options.headers === 'function' ? options.headers() : options.headers),
      },
      body: options.body,
      signal,
      // A redirected POST may turn into a GET elsewhere; better to fail and name the real URL.
      redirect: 'manual',
    })
  } catch (error) {
    // fetch reports refused connections, resets and DNS failures as TypeError('fetch failed'),
    // which the shared retrier treats as a programming error; here they are outages, so retriable
    // — unless the caller aborted. The URL was validated up front, so no TypeError here is ours.
    const aborted = options.signal?.aborted === true
    throw new DriftwatchError(
      'NETWORK',
      `${options.sink}: POST ${redact(options.url)} failed: ${describe(error)}`,
      {
        retriable: !aborted,
        cause: error,
        fix: aborted ? undefined : 'check that the endpoint is reachable from this host',
      },
    )
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text()
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    // Proxies and load balancers answer with HTML; keep a bounded excerpt for the error message.
    return text.slice(0, 500)
  }
}

function httpError(sink: SinkName, response: Response, body: unknown): HttpError {
  const status = response.status
  const detail =
    typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body).slice(0, 500)
  if (status >= 300 && status < 400) {
    return new HttpError(
      status,
      `${sink}: answered ${status} redirect to ${response.headers.get('location') ?? '?'}`,
      {
        retriable: false,
        fix: 'configure the final URL; driftwatch does not follow redirects for POSTs',
      },
    )
  }
  return new HttpError(status, `${sink}: HTTP ${status}${detail ? ` ${detail}` : ''}`, {
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    // 408 (request timeout) is transient too, besides 429 and 5xx.
    ...(status === 408 ? { retriable: true } : {}),
  })
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Checks a sink URL once at construction, so a typo fails at start and names the option. */
export function checkHttpUrl(url: string, option: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(`${option}: not a URL: ${JSON.stringify(url)}`, {
      fix: `set ${option} to an http(s) URL`,
    })
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigError(`${option}: unsupported protocol ${parsed.protocol}`, {
      fix: `set ${option} to an http(s) URL`,
    })
  }
  return parsed.toString()
}

function describe(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out'
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${errorMessage(error)}${cause}`
}

/** Webhook URLs sometimes carry tokens in the query; logs and errors keep only origin + path. */
function redact(url: string): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}
