// HTTP client for an OpenAI-compatible POST {baseUrl}/chat/completions (vLLM, Ollama,
// llama.cpp server, hosted APIs). Its one job: turn a chat request into validated content +
// token usage, surviving a flaky server (per-attempt timeout, jittered retries honouring
// Retry-After, circuit breaker) without overloading it (concurrency + rate limit).
// Never logs the API key or message content; debug logs carry only ids, counts and timings.

import { z } from 'zod'
import { DriftwatchError, errorMessage, HttpError } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import { withRetry } from '../lib/retry.ts'
import { type CallOutcome, CircuitBreaker, type CircuitState } from './circuit-breaker.ts'
import {
  CircuitOpenError,
  ModelCallAbortedError,
  ModelResponseError,
  ModelTimeoutError,
  ModelUnreachableError,
} from './errors.ts'
import { createLimiter, type LimiterStats } from './limiter.ts'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } }

export interface CompletionRequest {
  messages: ChatMessage[]
  temperature: number
  maxTokens: number
  responseFormat?: ResponseFormat
  /** Aborts queueing, the HTTP attempt and retry sleeps (shutdown, job deadline). */
  signal?: AbortSignal
}

export interface CompletionResult {
  content: string
  promptTokens: number
  completionTokens: number
  /** Duration of the successful HTTP attempt (request sent → body read), in ms. */
  latencyMs: number
  /** HTTP attempts made, including the successful one. */
  attempts: number
  /** Wall time of the whole complete() call: queueing, failed attempts, backoff sleeps. */
  elapsedMs: number
  finishReason: string | null
  /** false when the server sent no `usage`; token counts are then estimated as chars / 4. */
  usageReported: boolean
}

export interface ModelClientOptions {
  /** API root, e.g. http://localhost:8000/v1 (vLLM) or http://localhost:11434/v1 (Ollama). */
  baseUrl: string
  model: string
  /** Sent as `Authorization: Bearer …`; never logged. */
  apiKey?: string
  /** Per HTTP attempt, from sending the request to reading the whole body. */
  timeoutMs: number
  /** Attempts after the first one, for 429 / 5xx / timeout / network errors. */
  maxRetries: number
  maxConcurrency: number
  /** Sustained request rate (token bucket); Infinity for none. Retries count too. */
  requestsPerSecond: number
  log: Logger
  fetch?: typeof fetch
  /** Token-bucket size; default 1. */
  burst?: number
  backoff?: { initialMs?: number; maxMs?: number; jitter?: number }
  /** A Retry-After longer than this is not waited for: the error goes to the job, which re-queues. */
  maxRetryAfterMs?: number
  circuitBreaker?: { failureThreshold?: number; coolDownMs?: number }
  now?: () => number
  /** The YAML section these settings came from (e.g. `scorers.judge`), named in fix texts. */
  configKey?: string
}

export interface ModelClientStats {
  circuit: CircuitState
  consecutiveFailures: number
  limiter: LimiterStats
}

export interface ModelClient {
  readonly model: string
  complete(request: CompletionRequest): Promise<CompletionResult>
  stats(): ModelClientStats
}

/**
 * Settings of the client that are not in the YAML. The configurable ones (timeout_ms,
 * max_retries, max_concurrency, requests_per_second) have their defaults in config/schema.ts
 * only, and are required options here.
 */
export const MODEL_CLIENT_DEFAULTS = {
  burst: 1,
  backoffInitialMs: 500,
  backoffMaxMs: 10_000,
  maxRetryAfterMs: 60_000,
  failureThreshold: 5,
  coolDownMs: 30_000,
} as const

/** The part of the chat-completions answer driftwatch relies on; extra fields are ignored. */
export const chatCompletionSchema = z.object({
  id: z.string().optional(),
  object: z.string().optional(),
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        index: z.number().int().optional(),
        message: z.object({ role: z.string(), content: z.string() }),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
      total_tokens: z.number().int().nonnegative().optional(),
    })
    .optional(),
})

/**
 * Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns ms to
 * wait, or undefined when absent or unparsable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (value == null) return undefined
  const text = value.trim()
  if (text === '') return undefined
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  // HTTP dates always carry a weekday/month name; this also stops Date.parse("-5") (a year).
  if (!/[a-z]/i.test(text)) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}

/** Wraps an error that must end the retry loop even though it is retriable for the job. */
class StopRetrying extends DriftwatchError {
  constructor(readonly inner: unknown) {
    super('STOP_RETRYING', 'internal: stop retrying', { retriable: false })
  }
}

export function createModelClient(options: ModelClientOptions): ModelClient {
  const caller = createCaller(options)
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`

  async function complete(request: CompletionRequest): Promise<CompletionResult> {
    const body = JSON.stringify({
      model: options.model,
      messages: request.messages,
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      stream: false,
      ...(request.responseFormat ? { response_format: request.responseFormat } : {}),
    })
    return caller.call(
      url,
      body,
      (text, status) => parseCompletion(text, status, options.configKey),
      request.signal,
      (result) => ({ promptTokens: result.promptTokens, completionTokens: result.completionTokens }),
    )
  }

  return { model: options.model, complete, stats: caller.stats }
}

export interface CallResult {
  latencyMs: number
  attempts: number
  elapsedMs: number
}

/**
 * One POST to an OpenAI-compatible endpoint with everything the model clients share:
 * per-attempt timeout, jittered retries honouring Retry-After, the circuit breaker and the
 * concurrency + rate limiter. `parse` turns a 2xx body into a result or throws a typed error.
 */
export function createCaller(options: ModelClientOptions) {
  const fetchImpl = options.fetch ?? globalThis.fetch
  const now = options.now ?? (() => performance.now())
  // Host only: a base URL may carry credentials or tokens in its userinfo / query.
  const endpoint = safeHost(options.baseUrl)
  const log = options.log.child({ component: 'model-client', model: options.model, endpoint })
  const maxRetryAfterMs = options.maxRetryAfterMs ?? MODEL_CLIENT_DEFAULTS.maxRetryAfterMs
  const limiter = createLimiter({
    maxConcurrency: options.maxConcurrency,
    requestsPerSecond: options.requestsPerSecond,
    burst: options.burst ?? MODEL_CLIENT_DEFAULTS.burst,
  })
  const breaker = new CircuitBreaker({
    failureThreshold: options.circuitBreaker?.failureThreshold ?? MODEL_CLIENT_DEFAULTS.failureThreshold,
    coolDownMs: options.circuitBreaker?.coolDownMs ?? MODEL_CLIENT_DEFAULTS.coolDownMs,
    name: endpoint,
    now: options.now,
    onStateChange: ({ from, to, consecutiveFailures }) => {
      if (to === 'open') log.warn('model circuit opened', { from, consecutiveFailures })
      else if (to === 'closed') log.info('model circuit closed', { from })
    },
  })
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`

  async function sendOnce<T>(
    url: string,
    body: string,
    parse: (text: string, status: number) => T,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    // One controller per attempt, aborted by our timer or the caller's signal. Done by hand
    // rather than AbortSignal.any() so a long-lived job signal never accumulates listeners.
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), options.timeoutMs)
    const onCallerAbort = () => controller.abort()
    signal?.addEventListener('abort', onCallerAbort, { once: true })
    let response: Response
    let text: string
    try {
      try {
        response = await fetchImpl(url, { method: 'POST', headers, body, signal: controller.signal })
        text = await response.text()
      } catch (error) {
        if (signal?.aborted) throw new ModelCallAbortedError({ cause: error })
        if (controller.signal.aborted)
          throw new ModelTimeoutError(options.timeoutMs, { cause: error, configKey: options.configKey })
        const cause = (error as { cause?: unknown }).cause
        throw new ModelUnreachableError(
          `cannot reach model endpoint ${endpoint}: ${errorMessage(cause ?? error)}`,
          { cause: error, configKey: options.configKey },
        )
      }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onCallerAbort)
    }
    if (!response.ok) throw toHttpError(response, text, endpoint, options.configKey)
    return parse(text, response.status)
  }

  async function call<T>(
    url: string,
    body: string,
    parse: (text: string, status: number) => T,
    signal: AbortSignal | undefined,
    usage: (result: T) => Record<string, number>,
  ): Promise<T & CallResult> {
    const started = now()
    if (signal?.aborted) throw new ModelCallAbortedError()
    let attempts = 0
    const attempt = async () => {
      try {
        // Fail fast while open, without waiting in the limiter queue for a doomed slot.
        breaker.throwIfOpen()
        return await limiter.run(async () => {
          const permit = breaker.acquire()
          attempts++
          const t0 = now()
          let outcome: CallOutcome = 'failure'
          try {
            const result = await sendOnce(url, body, parse, signal)
            outcome = 'success'
            const latencyMs = Math.round(now() - t0)
            log.debug('model call ok', { attempt: attempts, latencyMs, ...usage(result) })
            return { ...result, latencyMs }
          } catch (error) {
            outcome = breakerOutcome(error)
            throw error
          } finally {
            breaker.record(permit, outcome)
          }
        }, signal)
      } catch (error) {
        if (signal?.aborted && !(error instanceof ModelCallAbortedError))
          throw new ModelCallAbortedError({ cause: error })
        if (error instanceof CircuitOpenError) throw new StopRetrying(error)
        if (
          error instanceof HttpError &&
          error.retryAfterMs !== undefined &&
          error.retryAfterMs > maxRetryAfterMs
        ) {
          throw new StopRetrying(error)
        }
        throw error
      }
    }
    try {
      const result = await withRetry(attempt, {
        retries: options.maxRetries,
        initialMs: options.backoff?.initialMs ?? MODEL_CLIENT_DEFAULTS.backoffInitialMs,
        maxMs: options.backoff?.maxMs ?? MODEL_CLIENT_DEFAULTS.backoffMaxMs,
        jitter: options.backoff?.jitter,
        signal,
        onRetry: ({ attempt: n, delayMs, error }) =>
          log.warn('model call failed, retrying', {
            attempt: n,
            delayMs,
            code: error instanceof DriftwatchError ? error.code : 'UNKNOWN',
            status: error instanceof HttpError ? error.status : undefined,
          }),
      })
      return { ...result, attempts, elapsedMs: Math.round(now() - started) }
    } catch (error) {
      const final = error instanceof StopRetrying ? error.inner : error
      log.debug('model call gave up', {
        attempts,
        code: final instanceof DriftwatchError ? final.code : 'UNKNOWN',
      })
      throw final
    }
  }

  return {
    call,
    stats: (): ModelClientStats => ({
      circuit: breaker.state,
      consecutiveFailures: breaker.consecutiveFailures,
      limiter: limiter.stats(),
    }),
  }
}

/** What one attempt says about the endpoint's health (see CircuitBreaker.record). */
function breakerOutcome(error: unknown): CallOutcome {
  if (error instanceof ModelCallAbortedError) return 'neutral'
  // A 4xx other than 429 is our request's fault; the server itself is answering fine.
  if (error instanceof HttpError && error.status < 500 && error.status !== 429) return 'success'
  return 'failure'
}

function parseCompletion(text: string, status: number, configKey: string | undefined) {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ModelResponseError(
      `model endpoint answered ${status} with a body that is not JSON (${text.length} bytes)`,
      { cause: error, configKey },
    )
  }
  const parsed = chatCompletionSchema.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ')
    const serverError = serverErrorMessage(json)
    throw new ModelResponseError(
      `model endpoint answered ${status} with a body that is not a chat completion: ${problems}` +
        (serverError ? ` (server said: ${serverError})` : ''),
      { configKey },
    )
  }
  const choice = parsed.data.choices[0]!
  const usage = parsed.data.usage
  return {
    content: choice.message.content,
    finishReason: choice.finish_reason ?? null,
    promptTokens: usage ? usage.prompt_tokens : 0,
    completionTokens: usage ? usage.completion_tokens : Math.ceil(choice.message.content.length / 4),
    usageReported: usage !== undefined,
  }
}

function toHttpError(
  response: Response,
  text: string,
  endpoint: string,
  configKey: string | undefined,
): HttpError {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  // Server messages are short diagnostics ("model not found"); capped in case one echoes input.
  const serverMessage = (serverErrorMessage(json) ?? text).slice(0, 200)
  const retryAfterMs =
    parseRetryAfterMsHeader(response.headers.get('retry-after-ms')) ??
    parseRetryAfter(response.headers.get('retry-after'))
  return new HttpError(
    response.status,
    `model endpoint ${endpoint} answered ${response.status}: ${serverMessage}`,
    {
      retryAfterMs,
      fix: fixForStatus(response.status, configKey ?? 'scorers.<scorer>'),
    },
  )
}

/** OpenAI's own clients also honour the non-standard `retry-after-ms` header. */
function parseRetryAfterMsHeader(value: string | null): number | undefined {
  if (value == null || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined
  return Math.round(Number(value.trim()))
}

function serverErrorMessage(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined
  const error = (json as { error: unknown }).error
  if (typeof error === 'string') return error
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    return (error as { message: string }).message
  }
  return undefined
}

function fixForStatus(status: number, section: string): string | undefined {
  if (status === 401 || status === 403)
    return `check the API key in the environment variable named by ${section}.api_key_env`
  if (status === 404)
    return `check ${section}.base_url (the API root, usually ending in /v1) and ${section}.model (a model the server serves)`
  if (status === 400 || status === 422) {
    return `the server rejected the request: check ${section}.model, and whether the server supports the judge's response_format (scorers.judge.response_format: none turns it off)`
  }
  if (status === 429)
    return `lower ${section}.requests_per_second / ${section}.max_concurrency or raise the server quota`
  if (status >= 500) return 'the model server failed; check its logs and capacity'
  return undefined
}

function safeHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).host
  } catch {
    return 'invalid-base-url'
  }
}
