import kafkajs, { type ProducerRecord, type RecordMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { AlertDeliveryError } from '../../alerts/delivery.ts'
import { exampleAlert, exampleResolvedAlert } from '../../alerts/example-alert.ts'
import {
  buildRollbackTrigger,
  createKafkaTriggerPublisher,
  RollbackTriggerSchema,
} from '../../alerts/rollback-trigger.ts'
import { parseConfig } from '../../config/load.ts'

/** The default from config/schema.ts, the one place it is written. */
const ROLLBACK_TOPIC = parseConfig({}).kafka.rollback_topic

describe('buildRollbackTrigger', () => {
  it('carries the numbers, scope, versions and key — and no prose', () => {
    const alert = exampleAlert()
    const trigger = buildRollbackTrigger(alert)
    expect(trigger).toStrictEqual({
      schema_version: 1,
      dedup_key: alert.dedup_key,
      state: 'firing',
      action: 'rollback',
      rule: 'invoice-hallucination',
      metric: 'hallucination_rate',
      scope: alert.scope,
      comparison: 'above',
      observed: 0.021,
      baseline: 0.006,
      threshold: 0.01,
      p_value: 0.0003,
      confidence: 0.99,
      ci_low: 0.0142,
      ci_high: 0.0297,
      n: 1204,
      baseline_n: 18311,
      window: alert.window,
      from_version: 'llama-3.1-8b-ft-2025-06-02',
      to_version: 'llama-3.1-8b-ft-2025-05-20',
      fired_at: alert.fired_at,
      resolved_at: null,
    })
    expect(trigger).not.toHaveProperty('message')
    expect(trigger).not.toHaveProperty('reproduce_sql')
  })

  it('round-trips through JSON and the schema (the consumer side of the contract)', () => {
    const trigger = buildRollbackTrigger(exampleResolvedAlert())
    expect(RollbackTriggerSchema.parse(JSON.parse(JSON.stringify(trigger)))).toEqual(trigger)
    expect(trigger.resolved_at).toBe('2025-06-03T13:00:09.000Z')
  })
})

function fakeProducer(fail?: Error) {
  const records: ProducerRecord[] = []
  return {
    records,
    async send(record: ProducerRecord): Promise<RecordMetadata[]> {
      records.push(record)
      if (fail) throw fail
      return [{ topicName: record.topic, partition: 3, errorCode: 0, baseOffset: '41' }]
    },
  }
}

describe('Kafka trigger publisher', () => {
  it('writes one message keyed by dedup_key, with event headers, waiting for all replicas', async () => {
    const producer = fakeProducer()
    const publisher = createKafkaTriggerPublisher({ producer, topic: ROLLBACK_TOPIC })
    const trigger = buildRollbackTrigger(exampleAlert())

    await expect(publisher.publish(trigger)).resolves.toEqual({
      topic: ROLLBACK_TOPIC,
      partition: 3,
      offset: '41',
      attempts: 1,
    })
    const [record] = producer.records
    expect(record).toMatchObject({ topic: 'llm.rollback', acks: -1 })
    expect(record?.messages).toHaveLength(1)
    const message = record!.messages[0]!
    expect(message.key).toBe(trigger.dedup_key)
    expect(JSON.parse(String(message.value))).toEqual(trigger)
    expect(message.headers).toEqual({
      'driftwatch-event': 'trigger',
      'driftwatch-schema-version': '1',
      'content-type': 'application/json',
    })
  })

  it('uses the same key for the resolve, so it follows the trigger in one partition', async () => {
    const producer = fakeProducer()
    const publisher = createKafkaTriggerPublisher({ producer, topic: 'custom.rollback' })
    await publisher.publish(buildRollbackTrigger(exampleAlert()))
    await publisher.publish(buildRollbackTrigger(exampleResolvedAlert()))
    const [first, second] = producer.records.map((r) => r.messages[0]!)
    expect(second?.key).toBe(first?.key)
    expect(second?.headers?.['driftwatch-event']).toBe('resolve')
    expect(producer.records.every((r) => r.topic === 'custom.rollback')).toBe(true)
  })

  it('turns a producer failure into a delivery error; exhausted kafkajs retries stay retriable later', async () => {
    const exhausted = new kafkajs.KafkaJSNumberOfRetriesExceeded(new Error('broker down'), {
      retryCount: 5,
      retryTime: 1000,
    })
    const publisher = createKafkaTriggerPublisher({
      producer: fakeProducer(exhausted),
      topic: ROLLBACK_TOPIC,
    })
    const error = await publisher.publish(buildRollbackTrigger(exampleAlert())).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AlertDeliveryError)
    expect(error).toMatchObject({ sink: 'kafka', attempts: 1, retriable: true })
    expect((error as Error).message).toMatch(/llm\.rollback/)
  })
})
