// PagerDuty Events API v2: a pure builder that turns one alert decision into an event body,
// the zod schema of that body, and a small sender that POSTs it with retries. Re-sending the
// same event is safe: PagerDuty folds events with the same dedup_key into one open alert.

import { z } from 'zod'
import { type Logger, silentLogger } from '../lib/log.ts'
import { type Alert, type AlertAction, alertExposureDetails, alertNumbers, DEDUP_KEY_MAX } from './alert.ts'
import {
  AlertDeliveryError,
  checkHttpUrl,
  DEFAULT_TIMEOUT_MS,
  postJson,
  retryOptionsFrom,
  type SenderRetryOptions,
} from './delivery.ts'

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue'
/** Events API v2 rejects longer summaries with 400 "'summary' is too long". */
export const SUMMARY_MAX = 1024
const TRUNCATION_MARKER = '…'

export const PagerDutySeveritySchema = z.enum(['critical', 'error', 'warning', 'info'])
export type PagerDutySeverity = z.infer<typeof PagerDutySeveritySchema>

/** rollback wakes someone up now; a ticket is worth a look in working hours. */
export const SEVERITY_BY_ACTION: Record<AlertAction, PagerDutySeverity> = {
  rollback: 'critical',
  page: 'error',
  ticket: 'warning',
}

const httpUrl = z.url({ protocol: /^https?$/ })

export const PagerDutyLinkSchema = z.strictObject({ href: httpUrl, text: z.string().optional() })
export type PagerDutyLink = z.infer<typeof PagerDutyLinkSchema>

export const PagerDutyPayloadSchema = z.strictObject({
  summary: z.string().min(1).max(SUMMARY_MAX),
  source: z.string().min(1),
  severity: PagerDutySeveritySchema,
  timestamp: z.iso.datetime({ offset: true }).optional(),
  component: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  class: z.string().min(1).optional(),
  custom_details: z.record(z.string(), z.unknown()).optional(),
})
export type PagerDutyPayload = z.infer<typeof PagerDutyPayloadSchema>

const routingKey = z.string().min(1)
const dedupKey = z.string().min(1).max(DEDUP_KEY_MAX)

export const PagerDutyTriggerEventSchema = z.strictObject({
  routing_key: routingKey,
  event_action: z.literal('trigger'),
  dedup_key: dedupKey,
  payload: PagerDutyPayloadSchema,
  client: z.string().min(1).optional(),
  client_url: httpUrl.optional(),
  links: z.array(PagerDutyLinkSchema).optional(),
})

/** A resolve needs only the key of the alert it closes; PagerDuty ignores a payload on resolve. */
export const PagerDutyResolveEventSchema = z.strictObject({
  routing_key: routingKey,
  event_action: z.literal('resolve'),
  dedup_key: dedupKey,
})

/** The body POSTed to /v2/enqueue. driftwatch never sends `acknowledge`: people do that. */
export const PagerDutyEventSchema = z.discriminatedUnion('event_action', [
  PagerDutyTriggerEventSchema,
  PagerDutyResolveEventSchema,
])
export type PagerDutyTriggerEvent = z.infer<typeof PagerDutyTriggerEventSchema>
export type PagerDutyResolveEvent = z.infer<typeof PagerDutyResolveEventSchema>
export type PagerDutyEvent = z.infer<typeof PagerDutyEventSchema>

/** What /v2/enqueue answers: 202 {status:'success', message, dedup_key}; 400 adds `errors`. */
export const PagerDutyResponseSchema = z.looseObject({
  status: z.string(),
  message: z.string().optional(),
  dedup_key: z.string().optional(),
  errors: z.array(z.string()).optional(),
})
export type PagerDutyResponse = z.infer<typeof PagerDutyResponseSchema>

export interface BuildPagerDutyEventOptions {
  /** Events API v2 integration key of the service to page. A secret: never logged. */
  routingKey: string
  /** Where the problem is, e.g. `driftwatch/prod-eu` (PagerDuty: "unique location of the affected system"). */
  source: string
  /** Links shown on the incident, e.g. to a query console with the reproducing SQL. */
  links?: PagerDutyLink[] | ((alert: Alert) => PagerDutyLink[])
  /** Shown as the monitoring client on the incident (default `driftwatch`). */
  client?: string
  clientUrl?: string
}

/** Pure: alert decision → Events API v2 body. Throws only on options the schema rejects (a bug). */
export function buildPagerDutyEvent(alert: Alert, options: BuildPagerDutyEventOptions): PagerDutyEvent {
  if (alert.state === 'resolved') {
    return PagerDutyResolveEventSchema.parse({
      routing_key: options.routingKey,
      event_action: 'resolve',
      dedup_key: alert.dedup_key,
    })
  }
  const links = typeof options.links === 'function' ? options.links(alert) : options.links
  const event: PagerDutyTriggerEvent = {
    routing_key: options.routingKey,
    event_action: 'trigger',
    dedup_key: alert.dedup_key,
    payload: {
      summary: pagerDutySummary(alert),
      source: options.source,
      severity: SEVERITY_BY_ACTION[alert.action],
      timestamp: alert.fired_at,
      component: alert.model_name ?? 'llm',
      group: alert.scope.segment,
      class: alert.metric,
      custom_details: customDetails(alert),
    },
    client: options.client ?? 'driftwatch',
    ...(options.clientUrl ? { client_url: options.clientUrl } : {}),
    ...(links && links.length > 0 ? { links } : {}),
  }
  return PagerDutyTriggerEventSchema.parse(event)
}

/**
 * The incident title: action, rule, the crossed limit with its numbers, then the scope. The
 * message goes first because a phone notification shows only the start of the title.
 */
export function pagerDutySummary(alert: Alert): string {
  const { scope } = alert
  const where = `${alert.from_version} ${scope.variant_id}/${scope.segment}/${scope.modality}`
  return truncate(`[${alert.action}] ${alert.rule}: ${alert.message} · ${where}`, SUMMARY_MAX)
}

/**
 * Cuts to at most `max` UTF-16 units with a visible marker (an oversized field is shortened,
 * never dropped), without splitting a surrogate pair into invalid JSON text.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  let end = max - TRUNCATION_MARKER.length
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return text.slice(0, end) + TRUNCATION_MARKER
}

/** Every number behind the page, plus the SQL to reproduce them, so on-call need not dig. */
function customDetails(alert: Alert): Record<string, unknown> {
  return {
    message: alert.message,
    rule: alert.rule,
    metric: alert.metric,
    action: alert.action,
    ...alertNumbers(alert),
    model_version: alert.scope.model_version,
    variant_id: alert.scope.variant_id,
    segment: alert.scope.segment,
    modality: alert.scope.modality,
    window_start: alert.window.start,
    window_end: alert.window.end,
    from_version: alert.from_version,
    to_version: alert.to_version,
    fired_at: alert.fired_at,
    reproduce_sql: alert.reproduce_sql,
    ...alertExposureDetails(alert),
  }
}

/** PagerDuty answered 400: the event is invalid and sending it again cannot help. */
export class PagerDutyRejectedError extends AlertDeliveryError {
  /** PagerDuty's own messages, e.g. `'summary' is too long (maiximum is 1024 characters)`. */
  readonly errors: readonly string[]
  /** The field PagerDuty names in its first error, when it names one (e.g. `summary`). */
  readonly field: string | undefined

  constructor(errors: readonly string[], message: string | undefined, attempts: number) {
    const field = errors.map(fieldNamedIn).find((f) => f !== undefined)
    const detail = errors.length > 0 ? errors.join('; ') : (message ?? 'no details')
    super(`pagerduty: event rejected (HTTP 400${field ? `, field ${field}` : ''}): ${detail}`, {
      sink: 'pagerduty',
      attempts,
      status: 400,
      retriable: false,
      code: 'PAGERDUTY_INVALID_EVENT',
      fix: field
        ? `fix ${field} in the event (see PagerDutyEventSchema in alerts/pagerduty.ts)`
        : 'check routing_key (an Events API v2 integration key) and the event against PagerDutyEventSchema',
    })
    this.errors = errors
    this.field = field
  }
}

function fieldNamedIn(error: string): string | undefined {
  return /'([A-Za-z_][\w.]*)'/.exec(error)?.[1]
}

export interface PagerDutySenderOptions extends SenderRetryOptions {
  /**
   * Events endpoint. Precedence: this option (from config) > env PAGERDUTY_EVENTS_URL >
   * https://events.pagerduty.com/v2/enqueue. Tests and EU accounts point it elsewhere.
   */
  url?: string
  /** Read once, at construction (default process.env). */
  env?: Record<string, string | undefined>
  fetch?: typeof fetch
  /** Per attempt (default 10 s). */
  timeoutMs?: number
  log?: Logger
}

export interface PagerDutySendResult {
  /** HTTP status of the accepting answer (202). */
  status: number
  /** The dedup_key PagerDuty filed the event under (ours, echoed back). */
  dedupKey: string
  /** HTTP requests it took, 1 when the first one was accepted. */
  attempts: number
}

export interface PagerDutySender {
  readonly url: string
  /** Resolves once PagerDuty accepted the event; throws AlertDeliveryError (PagerDutyRejectedError on 400). */
  send(event: PagerDutyEvent): Promise<PagerDutySendResult>
}

export function createPagerDutySender(options: PagerDutySenderOptions = {}): PagerDutySender {
  const env = options.env ?? process.env
  const url = checkHttpUrl(
    options.url ?? (env.PAGERDUTY_EVENTS_URL || undefined) ?? PAGERDUTY_EVENTS_URL,
    options.url ? 'alerts.pagerduty.url' : 'PAGERDUTY_EVENTS_URL',
  )
  const fetchFn = options.fetch ?? globalThis.fetch
  const log = (options.log ?? silentLogger).child({ sink: 'pagerduty' })

  return {
    url,
    async send(event) {
      const parsed = PagerDutyEventSchema.safeParse(event)
      if (!parsed.success) {
        // Caught here rather than as a 400 from PagerDuty: same verdict, no network, clearer path.
        const paths = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
        throw new AlertDeliveryError(`pagerduty: invalid event, not sent: ${paths}`, {
          sink: 'pagerduty',
          attempts: 0,
          code: 'PAGERDUTY_INVALID_EVENT',
          fix: 'build events with buildPagerDutyEvent()',
        })
      }
      const result = await postJson({
        ...retryOptionsFrom(options),
        sink: 'pagerduty',
        url,
        body: JSON.stringify(parsed.data),
        fetch: fetchFn,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        log,
        rejectionFor: (status, body, attempts) => {
          if (status !== 400) return undefined
          const answer = PagerDutyResponseSchema.safeParse(body)
          return new PagerDutyRejectedError(
            answer.success ? (answer.data.errors ?? []) : [],
            answer.success ? answer.data.message : typeof body === 'string' ? body : undefined,
            attempts,
          )
        },
      })
      const answer = PagerDutyResponseSchema.safeParse(result.body)
      const dedupKey = (answer.success ? answer.data.dedup_key : undefined) ?? parsed.data.dedup_key
      if (answer.success && answer.data.status !== 'success') {
        log.warn('pagerduty accepted the event with an unexpected status', { status: answer.data.status })
      }
      log.info('pagerduty event accepted', {
        event_action: parsed.data.event_action,
        dedup_key: dedupKey,
        attempts: result.attempts,
      })
      return { status: result.status, dedupKey, attempts: result.attempts }
    },
  }
}
