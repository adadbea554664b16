// Kafka helpers for tests: the run's broker address, topic creation, unique topic names.

import { randomBytes } from 'node:crypto'
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs'
import { inject } from 'vitest'

/** Brokers provided by test/helpers/kafka-global-setup.ts (undefined when it is not configured). */
export function getBrokers(): string {
  const brokers = inject('kafkaBrokers')
  if (!brokers)
    throw new Error(
      'No Kafka broker: add test/helpers/kafka-global-setup.ts to globalSetup in vitest.config.ts, or set KAFKA_BROKERS',
    )
  return brokers
}

/** A kafkajs client that only logs errors. */
export function testKafka(brokers: string, clientId = 'driftwatch-test'): Kafka {
  return new Kafka({ clientId, brokers: brokers.split(','), logLevel: logLevel.ERROR })
}

/** Creates a topic and waits for its partitions' leaders; no-op when it exists. */
export async function createTopic(brokers: string, name: string, partitions = 3): Promise<void> {
  const admin = testKafka(brokers).admin()
  await admin.connect()
  try {
    await admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    })
  } finally {
    await admin.disconnect()
  }
}

/** `prefix.<random>`: unique per call, valid as a topic or group name. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`
}

/**
 * Reads `topic` from the beginning with a fresh group until `done(count)` says so or `waitMs`
 * passes, and returns what arrived: callers assert the count, so a short read fails there.
 */
export async function readMessages(
  brokers: string,
  topic: string,
  options: { done: (count: number) => boolean; waitMs: number },
): Promise<KafkaMessage[]> {
  const consumer = testKafka(brokers).consumer({
    groupId: `${topic}.reader.${randomBytes(4).toString('hex')}`,
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  const out: KafkaMessage[] = []
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.waitMs)
    consumer.run({
      eachMessage: async ({ message }) => {
        out.push(message)
        if (options.done(out.length)) {
          clearTimeout(timer)
          resolve()
        }
      },
    })
  })
  await consumer.disconnect()
  return out
}
