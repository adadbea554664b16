// Signed webhook: POSTs the rollback trigger JSON with an HMAC-SHA256 signature over
// "<timestamp>.<body>", and gives receivers the matching verifier (constant-time compare plus
// a replay window). Signing and verifying are pure; only the sender does I/O.

import { createHmac, timingSafeEqual } from 'node:crypto'
import { ConfigError } from '../lib/errors.ts'
import { type Logger, silentLogger } from '../lib/log.ts'
import {
  checkHttpUrl,
  DEFAULT_TIMEOUT_MS,
  postJson,
  retryOptionsFrom,
  type SenderRetryOptions,
} from './delivery.ts'
import { type RollbackTrigger, RollbackTriggerSchema, triggerEventType } from './rollback-trigger.ts'

export const WEBHOOK_HEADERS = {
  signature: 'X-Driftwatch-Signature',
  timestamp: 'X-Driftwatch-Timestamp',
  event: 'X-Driftwatch-Event',
  idempotencyKey: 'Idempotency-Key',
} as const

/** Receivers reject signatures older (or newer) than this by default: 5 minutes, as Stripe and Slack do. */
export const DEFAULT_TOLERANCE_SEC = 300

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. The timestamp is inside the MAC so
 * a captured request cannot be replayed later with a fresh timestamp header.
 */
export function signWebhook(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')
  return `sha256=${mac}`
}

/**
 * One key per incident and state: retries of one send share it (receivers may drop repeats),
 * while a re-fire after a resolve gets a new one because fired_at changes. With only
 * "<dedup_key>:<state>", a receiver that remembers keys would swallow the second incident.
 */
export function webhookIdempotencyKey(
  trigger: Pick<RollbackTrigger, 'dedup_key' | 'state' | 'fired_at'>,
): string {
  return `${trigger.dedup_key}:${trigger.state}:${trigger.fired_at}`
}

export interface WebhookRequest {
  body: string
  headers: Record<string, string>
}

/** Pure: trigger + secret + time → the exact bytes and headers to POST. */
export function buildWebhookRequest(
  trigger: RollbackTrigger,
  options: { secret: string /** Unix seconds. */; timestamp: number },
): WebhookRequest {
  const body = JSON.stringify(RollbackTriggerSchema.parse(trigger))
  return { body, headers: webhookHeaders(trigger, body, options.secret, options.timestamp) }
}

function webhookHeaders(trigger: RollbackTrigger, body: string, secret: string, timestamp: number) {
  return {
    [WEBHOOK_HEADERS.signature]: signWebhook(secret, timestamp, body),
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.event]: triggerEventType(trigger),
    [WEBHOOK_HEADERS.idempotencyKey]: webhookIdempotencyKey(trigger),
  }
}

export type WebhookRejectReason =
  | 'missing_signature'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'timestamp_out_of_tolerance'
  | 'malformed_signature'
  | 'signature_mismatch'

export type WebhookVerification =
  | { ok: true; timestamp: number }
  | { ok: false; reason: WebhookRejectReason; message: string }

/** Node's IncomingHttpHeaders (lower-case keys), a plain record, or a fetch Headers. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>

export interface VerifyWebhookOptions {
  /** Max |now − timestamp| in seconds (default 300). */
  toleranceSec?: number
  /** Current time in ms (default Date.now()); injected in tests. */
  now?: number
}

/**
 * For receivers. `body` must be the raw request bytes as received — re-serialising parsed JSON
 * changes them and the signature no longer matches. `secret` may be a list while rotating.
 * Never throws on bad input: a forged request is an answer (reject), not an exception.
 */
export function verifyWebhookSignature(
  secret: string | readonly string[],
  headers: HeaderSource,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): WebhookVerification {
  const signatureHeader = headerValue(headers, WEBHOOK_HEADERS.signature)
  if (!signatureHeader) return reject('missing_signature', `no ${WEBHOOK_HEADERS.signature} header`)
  const timestampHeader = headerValue(headers, WEBHOOK_HEADERS.timestamp)
  if (!timestampHeader) return reject('missing_timestamp', `no ${WEBHOOK_HEADERS.timestamp} header`)
  if (!/^\d{1,15}$/.test(timestampHeader)) {
    return reject('malformed_timestamp', `${WEBHOOK_HEADERS.timestamp} is not unix seconds`)
  }
  const timestamp = Number(timestampHeader)
  const toleranceSec = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC
  const skewSec = Math.abs((options.now ?? Date.now()) / 1000 - timestamp)
  if (skewSec > toleranceSec) {
    return reject(
      'timestamp_out_of_tolerance',
      `timestamp is ${Math.round(skewSec)} s away from now (tolerance ${toleranceSec} s): replayed or clock skew`,
    )
  }
  // Comma-separated to leave room for several signatures during a secret rotation on the sender.
  const given = signatureHeader
    .split(',')
    .map((part) => /^\s*sha256=([0-9a-f]{64})\s*$/i.exec(part)?.[1])
    .filter((hex): hex is string => hex !== undefined)
    .map((hex) => Buffer.from(hex, 'hex'))
  if (given.length === 0)
    return reject('malformed_signature', `${WEBHOOK_HEADERS.signature} is not sha256=<64 hex>`)
  const secrets = typeof secret === 'string' ? [secret] : secret
  for (const candidate of secrets) {
    const expected = Buffer.from(signWebhook(candidate, timestampHeader, body).slice('sha256='.length), 'hex')
    // Equal lengths are guaranteed (32 bytes each), which timingSafeEqual requires.
    if (given.some((mac) => timingSafeEqual(mac, expected))) return { ok: true, timestamp }
  }
  return reject(
    'signature_mismatch',
    'signature does not match the body: wrong secret or body changed in transit',
  )
}

function reject(reason: WebhookRejectReason, message: string): WebhookVerification {
  return { ok: false, reason, message }
}

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue
    return Array.isArray(value) ? value.join(',') : value
  }
  return undefined
}

export interface WebhookSenderOptions extends SenderRetryOptions {
  url: string
  /** Shared with the receiver; a secret: never logged. */
  secret: string
  fetch?: typeof fetch
  /** Per attempt (default 10 s). */
  timeoutMs?: number
  /** Clock in ms (default Date.now); injected in tests for known signatures. */
  now?: () => number
  log?: Logger
}

export interface WebhookSendResult {
  status: number
  attempts: number
}

export interface WebhookSender {
  readonly url: string
  /** Resolves on a 2xx; throws AlertDeliveryError otherwise (after retries for 408/429/5xx/network). */
  send(trigger: RollbackTrigger): Promise<WebhookSendResult>
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const url = checkHttpUrl(options.url, 'alerts.webhook.url')
  if (!options.secret) {
    throw new ConfigError('alerts.webhook.secret is empty', {
      fix: 'set a random secret (e.g. `openssl rand -hex 32`) shared with the receiver',
    })
  }
  const fetchFn = options.fetch ?? globalThis.fetch
  const now = options.now ?? Date.now
  const log = (options.log ?? silentLogger).child({ sink: 'webhook' })
  return {
    url,
    async send(trigger) {
      const checked = RollbackTriggerSchema.parse(trigger)
      const body = JSON.stringify(checked)
      const result = await postJson({
        ...retryOptionsFrom(options),
        sink: 'webhook',
        url,
        body,
        // Signed afresh for every attempt: a send that waits out a long Retry-After must not
        // arrive with a timestamp the receiver already considers stale.
        headers: () => webhookHeaders(checked, body, options.secret, Math.floor(now() / 1000)),
        fetch: fetchFn,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        log,
      })
      log.info('webhook delivered', {
        dedup_key: checked.dedup_key,
        event: triggerEventType(checked),
        status: result.status,
        attempts: result.attempts,
      })
      return { status: result.status, attempts: result.attempts }
    },
  }
}
