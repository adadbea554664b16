// Sends one alert decision to every configured sink that its action calls for, each sink on
// its own (one failing never blocks or hides another), and reports per sink what happened.
// It remembers nothing: the caller persists the alerts table and its sent_to, and passes
// `sinks` to re-send only where delivery failed — that is how "never page twice" holds.

import { z } from 'zod'
import { DriftwatchError, errorMessage, isRetriable } from '../lib/errors.ts'
import { type Logger, silentLogger } from '../lib/log.ts'
import { type Alert, type AlertAction, parseAlert } from './alert.ts'
import { AlertDeliveryError, type SinkName } from './delivery.ts'
import { type BuildPagerDutyEventOptions, buildPagerDutyEvent, type PagerDutySender } from './pagerduty.ts'
import { buildRollbackTrigger, type KafkaTriggerPublisher } from './rollback-trigger.ts'
import type { WebhookSender } from './webhook.ts'

export type { SinkName } from './delivery.ts'

/**
 * Which sinks hear about which action (resolves follow the same routing as their trigger):
 * - rollback → PagerDuty (critical) + webhook + Kafka `llm.rollback`: people and deploy systems.
 * - page     → PagerDuty (error) + webhook: people; nothing automatic rolls back.
 * - ticket   → webhook only: a receiver files the ticket; nobody is woken up.
 */
export const SINKS_BY_ACTION: Record<AlertAction, readonly SinkName[]> = {
  rollback: ['pagerduty', 'webhook', 'kafka'],
  page: ['pagerduty', 'webhook'],
  ticket: ['webhook'],
}

export interface AlertEmitterOptions {
  /** PagerDuty sender plus what every event needs (routing key, source, links). */
  pagerduty?: BuildPagerDutyEventOptions & { sender: Pick<PagerDutySender, 'send'> }
  webhook?: Pick<WebhookSender, 'send'>
  kafka?: Pick<KafkaTriggerPublisher, 'publish'>
  log?: Logger
}

export interface SinkResult {
  sink: SinkName
  ok: boolean
  /** Requests made (HTTP) or 1 (Kafka, which retries inside kafkajs); 0 if nothing was sent. */
  attempts: number
  /** Why it failed, with the numbers the sink gave (status, PagerDuty's own error text). */
  error?: string
  /** DriftwatchError code, e.g. PAGERDUTY_INVALID_EVENT, ALERT_DELIVERY. */
  code?: string
  /** true when sending the same alert to this sink later may succeed. */
  retriable?: boolean
  /** HTTP status of the last answer, when there was one. */
  status?: number
}

export interface EmitOptions {
  /** Only these sinks (intersected with the routing), e.g. those missing from the alert's sent_to. */
  sinks?: readonly SinkName[]
}

export interface AlertEmitter {
  /** Sinks `emit` would use for this alert: routed by action and configured. */
  sinksFor(alert: Pick<Alert, 'action'>, options?: EmitOptions): SinkName[]
  /**
   * Sends to each sink concurrently; resolves with one result per sink used, never rejects
   * for a sink failure. Throws (before sending anything) only if `alert` is not a valid decision.
   */
  emit(alert: Alert, options?: EmitOptions): Promise<SinkResult[]>
}

export function createAlertEmitter(options: AlertEmitterOptions): AlertEmitter {
  const log = options.log ?? silentLogger
  const configured: Record<SinkName, boolean> = {
    pagerduty: options.pagerduty !== undefined,
    webhook: options.webhook !== undefined,
    kafka: options.kafka !== undefined,
  }

  const sendTo: Record<SinkName, (alert: Alert) => Promise<{ attempts: number; status?: number }>> = {
    pagerduty: async (alert) => {
      const { sender, ...eventOptions } = options.pagerduty!
      return sender.send(buildPagerDutyEvent(alert, eventOptions))
    },
    webhook: async (alert) => options.webhook!.send(buildRollbackTrigger(alert)),
    kafka: async (alert) => options.kafka!.publish(buildRollbackTrigger(alert)),
  }

  function sinksFor(alert: Pick<Alert, 'action'>, emitOptions: EmitOptions = {}): SinkName[] {
    return SINKS_BY_ACTION[alert.action].filter(
      (sink) => configured[sink] && (emitOptions.sinks === undefined || emitOptions.sinks.includes(sink)),
    )
  }

  async function deliver(sink: SinkName, alert: Alert): Promise<SinkResult> {
    const sinkLog = log.child({ sink, dedup_key: alert.dedup_key, state: alert.state })
    try {
      const { attempts, status } = await sendTo[sink](alert)
      return { sink, ok: true, attempts, ...(status === undefined ? {} : { status }) }
    } catch (error) {
      // Any error, typed or not (even a bug in one sink's builder), stays inside this sink's result.
      const result: SinkResult = {
        sink,
        ok: false,
        attempts: error instanceof AlertDeliveryError ? error.attempts : 0,
        error: errorMessage(error),
        // A schema error means a builder got bad options: the same alert would fail the same way.
        retriable: error instanceof z.ZodError ? false : isRetriable(error),
      }
      if (error instanceof DriftwatchError) result.code = error.code
      if (error instanceof AlertDeliveryError && error.status !== undefined) result.status = error.status
      sinkLog.error('alert not delivered', {
        error: result.error,
        code: result.code,
        retriable: result.retriable,
      })
      return result
    }
  }

  return {
    sinksFor,
    async emit(input, emitOptions) {
      const alert = parseAlert(input)
      const sinks = sinksFor(alert, emitOptions)
      const skipped = SINKS_BY_ACTION[alert.action].filter((sink) => !configured[sink])
      if (skipped.length > 0) log.debug('sinks routed but not configured', { skipped, action: alert.action })
      return Promise.all(sinks.map((sink) => deliver(sink, alert)))
    },
  }
}
