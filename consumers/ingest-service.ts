// Runs the ingest consumer for a command: builds it from config, reports progress (rows
// stored, rate, dead-lettered, lag) and, for --until-caught-up, resolves `caughtUp` once
// the group has committed up to the end of every partition.

import type { Kafka } from 'kafkajs'
import type { Config } from '../config/schema.ts'
import { createDecoder } from '../contract/decode.ts'
import { createRegistryClient } from '../contract/registry.ts'
import { errorMessage } from '../lib/errors.ts'
import { connectWithRetry } from '../lib/kafka-connect.ts'
import type { Logger } from '../lib/log.ts'
import type { Store } from '../store/store.ts'
import { IngestConsumer } from './ingest-consumer.ts'
import { type GroupLag, groupLag } from './lag.ts'
import { createRedactor, redactingDecoder } from './redact.ts'

export interface IngestServiceOptions {
  kafka: Kafka
  store: Store
  config: Config
  log: Logger
  topics?: string[]
  groupId?: string
  /** Called every `progressIntervalMs` with the numbers to show. */
  onProgress?: (progress: IngestProgress) => void
  progressIntervalMs?: number
  /** For log lines while the broker is unreachable. */
  brokers?: string[]
  /** Stops waiting for an unreachable broker at start. */
  signal?: AbortSignal
}

export interface IngestProgress {
  stored: number
  poisoned: number
  skipped: number
  /** Rows stored per second since the previous report. */
  rate: number
  lag: number | undefined
  storeDown: boolean
}

export interface IngestService {
  consumer: IngestConsumer
  /** Lag as of now; undefined if the broker could not be asked. */
  lag(): Promise<GroupLag | undefined>
  /** Settles with the error if the consumer crashed for good (see IngestConsumer.failed). */
  failed: Promise<Error>
  /** Resolves when committed offsets reach the end of every partition. */
  waitUntilCaughtUp(signal: AbortSignal): Promise<void>
  stop(): Promise<void>
}

export async function startIngestService(options: IngestServiceOptions): Promise<IngestService> {
  const { kafka, store, config, log } = options
  const topics = options.topics ?? config.kafka.topics
  const groupId = options.groupId ?? config.kafka.group_id
  const registry = config.schema_registry.url
    ? createRegistryClient({
        url: config.schema_registry.url,
        username: config.schema_registry.username,
        password: config.schema_registry.password,
      })
    : undefined
  const decoder = redactingDecoder(
    createDecoder({ registry, maxMessageBytes: config.ingest.max_message_bytes }),
    createRedactor(config.ingest.redact),
  )
  const consumer = new IngestConsumer({
    kafka,
    store,
    decoder,
    topics,
    groupId,
    deadLetterTopic: config.kafka.dead_letter_topic,
    config: config.ingest,
    log,
    brokers: options.brokers,
    signal: options.signal,
  })
  const admin = kafka.admin()
  await connectWithRetry(() => admin.connect(), {
    what: 'ingest',
    brokers: options.brokers ?? [],
    log,
    signal: options.signal,
  })
  let storeDown = false
  consumer.on('storeUnavailable', () => {
    storeDown = true
  })
  consumer.on('storeRecovered', () => {
    storeDown = false
  })

  const lag = async () => {
    try {
      return await groupLag(admin, groupId, topics)
    } catch (error) {
      log.debug('lag unavailable', { error: errorMessage(error) })
      return undefined
    }
  }

  let timer: NodeJS.Timeout | undefined
  if (options.onProgress) {
    let lastStored = 0
    let lastAt = Date.now()
    const interval = options.progressIntervalMs ?? 2000
    timer = setInterval(async () => {
      const now = Date.now()
      const { stored, poisoned, skipped } = consumer.totals
      const rate = ((stored - lastStored) * 1000) / Math.max(1, now - lastAt)
      lastStored = stored
      lastAt = now
      options.onProgress?.({ stored, poisoned, skipped, rate, lag: (await lag())?.total, storeDown })
    }, interval)
    timer.unref()
  }

  await consumer.start()

  return {
    consumer,
    failed: consumer.failed,
    lag,
    async waitUntilCaughtUp(signal) {
      while (!signal.aborted) {
        const current = await lag()
        if (current && current.partitions.length > 0 && current.total === 0) return
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    },
    async stop() {
      if (timer) clearInterval(timer)
      await consumer.stop()
      await admin.disconnect()
    },
  }
}
