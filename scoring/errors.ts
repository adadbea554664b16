// Typed errors of the scoring feature. Jobs branch on `code` and `retriable` (re-queue the
// row or store a scoring failure), never on message text; raw model output rides on the
// error object for debugging and is never part of the message, so logging a message is safe.

import { DriftwatchError, type DriftwatchErrorOptions } from '../lib/errors.ts'

/**
 * Where the scorer's settings live in the YAML, e.g. `scorers.judge`; fix texts name the keys
 * users edit (`scorers.judge.timeout_ms`), never the code's option names.
 */
export interface ConfigKeyOption {
  configKey?: string
}

const key = (options: ConfigKeyOption, name: string) => `${options.configKey ?? 'scorers.<scorer>'}.${name}`

export interface TokenUsage {
  promptTokens: number
  completionTokens: number
}

/**
 * The model answered, but not in the shape the scorer asked for (Llama Guard verdict that is
 * not `safe`/`unsafe` + known categories, judge reply that is not the JSON object). Not
 * retriable: at temperature 0 the same prompt tends to produce the same answer, so the job
 * stores a failure instead of re-queueing forever.
 */
export class ScoringOutputError extends DriftwatchError {
  readonly scorer: string
  /** The model's raw answer. Debug only: may contain user text, never log it at info level. */
  readonly output: string
  /** Tokens spent on the failed scoring (all model calls), so budgets still count them. */
  readonly usage: TokenUsage | undefined
  constructor(
    scorer: string,
    message: string,
    output: string,
    options: DriftwatchErrorOptions & { usage?: TokenUsage } = {},
  ) {
    super('SCORING_OUTPUT', message, {
      retriable: false,
      fix: 'check that the configured model is the one the scorer expects (and its prompt mode); the raw answer is on error.output',
      ...options,
    })
    this.scorer = scorer
    this.output = output
    this.usage = options.usage
  }
}

/**
 * The circuit breaker is open: the endpoint failed many times in a row, so calls are refused
 * without touching the network. Retriable so the job re-queues the row for later.
 */
export class CircuitOpenError extends DriftwatchError {
  /** How long until the breaker lets a probe through (0 when a probe is already in flight). */
  readonly retryAfterMs: number
  constructor(endpoint: string, retryAfterMs: number, options: DriftwatchErrorOptions = {}) {
    super('CIRCUIT_OPEN', `model endpoint ${endpoint} is failing; circuit open, calls paused`, {
      retriable: true,
      fix: 'the row is re-queued automatically; check the model server health and logs',
      ...options,
    })
    this.retryAfterMs = retryAfterMs
  }
}

/**
 * A 2xx answer whose body is not a chat-completions object (not JSON, or wrong shape). Not
 * retried: this nearly always means base_url points at something that is not an
 * OpenAI-compatible endpoint (a web UI, a proxy login page), which retrying cannot fix.
 */
export class ModelResponseError extends DriftwatchError {
  constructor(message: string, options: DriftwatchErrorOptions & ConfigKeyOption = {}) {
    super('MODEL_BAD_RESPONSE', message, {
      retriable: false,
      fix: `check that ${key(options, 'base_url')} is the OpenAI-compatible API root (usually ending in /v1)`,
      ...options,
    })
  }
}

/** One HTTP attempt took longer than the scorer's timeout_ms. Retriable: slow servers recover. */
export class ModelTimeoutError extends DriftwatchError {
  constructor(timeoutMs: number, options: DriftwatchErrorOptions & ConfigKeyOption = {}) {
    super('MODEL_TIMEOUT', `model call timed out after ${timeoutMs} ms`, {
      retriable: true,
      fix: `raise ${key(options, 'timeout_ms')} or lower ${key(options, 'max_concurrency')} if the model server is overloaded`,
      ...options,
    })
  }
}

/** Connection refused/reset, DNS failure: the request never got an HTTP answer. */
export class ModelUnreachableError extends DriftwatchError {
  constructor(message: string, options: DriftwatchErrorOptions & ConfigKeyOption = {}) {
    super('MODEL_UNREACHABLE', message, {
      retriable: true,
      fix: `check that the model server is running and ${key(options, 'base_url')} is right`,
      ...options,
    })
  }
}

/** The caller's AbortSignal fired (shutdown, job deadline). Retriable: the row was not scored. */
export class ModelCallAbortedError extends DriftwatchError {
  constructor(options: DriftwatchErrorOptions = {}) {
    super('ABORTED', 'model call aborted by the caller', { retriable: true, ...options })
  }
}
