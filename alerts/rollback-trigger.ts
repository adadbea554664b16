// The rollback trigger: the numeric message deploy systems consume (Kafka topic `llm.rollback`
// and the signed webhook carry the same JSON), its zod schema — the contract — and a publisher
// that writes it to Kafka. Numbers, not prose: a controller decides on fields, never on text.

import kafkajs, { type Producer, type RecordMetadata } from 'kafkajs'
import { z } from 'zod'
import { ScopeSchema } from '../contract/scope.ts'
import { errorMessage, isRetriable } from '../lib/errors.ts'
import { type Logger, silentLogger } from '../lib/log.ts'
import {
  type Alert,
  AlertActionSchema,
  AlertExposureSchema,
  AlertStateSchema,
  AlertWindowSchema,
  alertExposureDetails,
  alertNumbers,
  DEDUP_KEY_MAX,
} from './alert.ts'
import { AlertDeliveryError } from './delivery.ts'

/** Bumped on any change a consumer must know about; consumers should reject versions they do not know. */
export const ROLLBACK_TRIGGER_SCHEMA_VERSION = 1

const isoTime = z.iso.datetime({ offset: true })

/**
 * Contract for deploy systems (Argo Rollouts / Flagger hooks, custom controllers). Fields are
 * only ever added within one schema_version; consumers should ignore unknown fields.
 * - `state: firing` + `action: rollback` → roll `from_version` back to `to_version` in `scope`.
 * - `state: resolved` → the condition cleared; no action is implied.
 * - `dedup_key` + `fired_at` name one incident; the same trigger may arrive more than once.
 */
export const RollbackTriggerSchema = z.strictObject({
  schema_version: z.literal(ROLLBACK_TRIGGER_SCHEMA_VERSION),
  dedup_key: z.string().min(1).max(DEDUP_KEY_MAX),
  state: AlertStateSchema,
  action: AlertActionSchema,
  rule: z.string().min(1),
  metric: z.string().min(1),
  scope: ScopeSchema,
  comparison: z.string().min(1),
  observed: z.number(),
  baseline: z.number().nullable(),
  threshold: z.number(),
  p_value: z.number().min(0).max(1).nullable(),
  confidence: z.number().gt(0).lt(1),
  ci_low: z.number().nullable(),
  ci_high: z.number().nullable(),
  n: z.number().int().nonnegative(),
  baseline_n: z.number().int().nonnegative().nullable(),
  window: AlertWindowSchema,
  from_version: z.string().min(1),
  to_version: z.string().min(1).nullable(),
  fired_at: isoTime,
  resolved_at: isoTime.nullable(),
  /** Dollars at risk (config `exposure:`); absent when exposure does not price this scope and metric. */
  exposure: AlertExposureSchema.optional(),
})
export type RollbackTrigger = z.infer<typeof RollbackTriggerSchema>

/** Pure: alert decision → trigger. Leaves out the prose (message) and the SQL, which are for people. */
export function buildRollbackTrigger(alert: Alert): RollbackTrigger {
  return RollbackTriggerSchema.parse({
    schema_version: ROLLBACK_TRIGGER_SCHEMA_VERSION,
    dedup_key: alert.dedup_key,
    state: alert.state,
    action: alert.action,
    rule: alert.rule,
    metric: alert.metric,
    scope: alert.scope,
    ...alertNumbers(alert),
    window: alert.window,
    from_version: alert.from_version,
    to_version: alert.to_version,
    fired_at: alert.fired_at,
    resolved_at: alert.resolved_at,
    ...alertExposureDetails(alert),
  })
}

/** `trigger` for a firing alert, `resolve` once healthy; the same word in the webhook and Kafka headers. */
export type TriggerEventType = 'trigger' | 'resolve'
export function triggerEventType(trigger: Pick<RollbackTrigger, 'state'>): TriggerEventType {
  return trigger.state === 'firing' ? 'trigger' : 'resolve'
}

/** Header names on every Kafka message of the rollback topic. */
export const KAFKA_HEADERS = {
  event: 'driftwatch-event',
  schemaVersion: 'driftwatch-schema-version',
  contentType: 'content-type',
} as const

export interface KafkaTriggerPublisherOptions {
  /** A connected kafkajs producer, owned by the caller (connect/disconnect are not done here). */
  producer: Pick<Producer, 'send'>
  /** The topic to write to: config's kafka.rollback_topic (its default lives in config/schema.ts). */
  topic: string
  /** Broker-side wait for acks, ms (kafkajs default 30 s). */
  timeoutMs?: number
  log?: Logger
}

export interface KafkaPublishResult {
  topic: string
  partition: number
  /** Offset of the written message (base offset of its batch), as kafkajs reports it. */
  offset: string | undefined
  attempts: number
}

export interface KafkaTriggerPublisher {
  readonly topic: string
  /** Resolves once all in-sync replicas have the message; throws AlertDeliveryError otherwise. */
  publish(trigger: RollbackTrigger): Promise<KafkaPublishResult>
}

export function createKafkaTriggerPublisher(options: KafkaTriggerPublisherOptions): KafkaTriggerPublisher {
  const { topic } = options
  const log = (options.log ?? silentLogger).child({ sink: 'kafka', topic })
  return {
    topic,
    async publish(trigger) {
      const checked = RollbackTriggerSchema.parse(trigger)
      let metadata: RecordMetadata[]
      try {
        metadata = await options.producer.send({
          topic,
          // -1 = all in-sync replicas: a rollback trigger acknowledged by one broker that then dies is lost.
          acks: -1,
          ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
          messages: [
            {
              // Keyed by incident: trigger and resolve land in one partition, in order.
              key: checked.dedup_key,
              value: JSON.stringify(checked),
              headers: {
                [KAFKA_HEADERS.event]: triggerEventType(checked),
                [KAFKA_HEADERS.schemaVersion]: String(checked.schema_version),
                [KAFKA_HEADERS.contentType]: 'application/json',
              },
            },
          ],
        })
      } catch (error) {
        // kafkajs already retried internally (its own retrier); one logical attempt from here.
        throw new AlertDeliveryError(`kafka: trigger not published to ${topic}: ${errorMessage(error)}`, {
          sink: 'kafka',
          attempts: 1,
          retriable: isKafkaRetriable(error),
          cause: error,
          fix: `check the brokers and that topic ${topic} exists and accepts acks=-1 (min.insync.replicas)`,
        })
      }
      const record = metadata[0]
      const result: KafkaPublishResult = {
        topic,
        partition: record?.partition ?? -1,
        offset: record?.baseOffset ?? record?.offset,
        attempts: 1,
      }
      log.info('rollback trigger published', {
        dedup_key: checked.dedup_key,
        event: triggerEventType(checked),
        partition: result.partition,
        offset: result.offset,
      })
      return result
    },
  }
}

// kafkajs is CommonJS and spreads its error classes into module.exports, which Node's ESM
// named-import detection cannot see; read them off the default export instead.
const { KafkaJSError, KafkaJSNumberOfRetriesExceeded } = kafkajs

/**
 * Whether publishing the same trigger later may work. kafkajs marks "retries exhausted" as
 * non-retriable for itself, but for the caller it means the brokers were down for a while.
 */
function isKafkaRetriable(error: unknown): boolean {
  if (error instanceof KafkaJSNumberOfRetriesExceeded) return true
  if (error instanceof KafkaJSError) return error.retriable
  return isRetriable(error)
}
