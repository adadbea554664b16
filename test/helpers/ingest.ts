// Test helpers around the ingest consumer: produce synthetic traffic, run a consumer in this
// process until its group has caught up, count what the store holds.

import type { Message } from 'kafkajs'
import { parseConfig } from '../../config/load.ts'
import type { Config } from '../../config/schema.ts'
import type { MessageDecoder } from '../../consumers/ingest-batch.ts'
import { IngestConsumer } from '../../consumers/ingest-consumer.ts'
import { groupLag } from '../../consumers/lag.ts'
import { createDecoder } from '../../contract/decode.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import { createLogger, type Logger } from '../../lib/log.ts'
import { produceSynthetic } from '../../producers/produce.ts'
import { interactionJsonBytes, type SyntheticOptions } from '../../producers/synthetic.ts'
import type { Store } from '../../store/store.ts'

export const testLog: Logger = createLogger({ level: (process.env.TEST_LOG_LEVEL as 'warn') ?? 'warn' })

export function testConfig(brokers: string, overrides: Record<string, unknown> = {}): Config {
  return parseConfig({ kafka: { brokers: brokers.split(',') }, ...overrides })
}

export async function produceJson(
  brokers: string,
  topic: string,
  count: number,
  synthetic: SyntheticOptions = { seed: 7 },
): Promise<void> {
  const kafka = createKafka({ config: testConfig(brokers).kafka, brokers: brokers.split(','), log: testLog })
  const producer = kafka.producer()
  await producer.connect()
  try {
    await produceSynthetic({
      producer,
      topic,
      count,
      synthetic,
      encode: (i) => ({ value: interactionJsonBytes(i) }),
      batchSize: 2000,
    })
  } finally {
    await producer.disconnect()
  }
}

export async function produceRaw(brokers: string, topic: string, messages: Message[]): Promise<void> {
  const kafka = createKafka({ config: testConfig(brokers).kafka, brokers: brokers.split(','), log: testLog })
  const producer = kafka.producer()
  await producer.connect()
  try {
    await producer.send({ topic, messages, acks: -1 })
  } finally {
    await producer.disconnect()
  }
}

export interface RunIngestOptions {
  brokers: string
  store: Store
  topics: string[]
  groupId: string
  config?: Config
  decoder?: MessageDecoder
  deadLetterTopic?: string
  /** Give up after this long (the test then fails on its counts). */
  timeoutMs?: number
  /** Called once the consumer runs, e.g. to inject an outage. */
  whileRunning?: (consumer: IngestConsumer) => Promise<void> | void
}

export async function runIngestUntilCaughtUp(options: RunIngestOptions): Promise<IngestConsumer> {
  const config = options.config ?? testConfig(options.brokers)
  const kafka = createKafka({ config: config.kafka, brokers: options.brokers.split(','), log: testLog })
  const consumer = new IngestConsumer({
    kafka,
    store: options.store,
    decoder: options.decoder ?? createDecoder({ maxMessageBytes: config.ingest.max_message_bytes }),
    topics: options.topics,
    groupId: options.groupId,
    deadLetterTopic: options.deadLetterTopic ?? `${options.topics[0]}.dlq`,
    config: config.ingest,
    log: testLog,
  })
  const admin = kafka.admin()
  await admin.connect()
  await consumer.start()
  try {
    const side = Promise.resolve(options.whileRunning?.(consumer))
    const deadline = Date.now() + (options.timeoutMs ?? 120_000)
    while (Date.now() < deadline) {
      const lag = await groupLag(admin, options.groupId, options.topics)
      if (lag.partitions.length > 0 && lag.total === 0) break
      await new Promise((r) => setTimeout(r, 300))
    }
    await side
  } finally {
    await consumer.stop()
    await admin.disconnect()
  }
  return consumer
}

export async function countRows(
  store: Store,
  table = 'interactions',
): Promise<{ rows: number; unique: number }> {
  const [r] = await store.query<{ rows: number; unique: number }>(
    `SELECT count() AS rows, uniqExact(request_id) AS unique FROM ${table}`,
  )
  return { rows: Number(r!.rows), unique: Number(r!.unique) }
}
