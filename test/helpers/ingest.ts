// Test helpers around the ingest consumer: produce synthetic traffic, run a consumer in this
// process until its group has caught up, count what the store holds, and check the fault
// tests' end condition (expectExactlyOnce).

import type { Kafka, Message } from 'kafkajs'
import { expect } from 'vitest'
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
import { migrate } from '../../store/migrate.ts'
import { createStore, type QueryParams, type Store } from '../../store/store.ts'
import { runCli } from './cli.ts'

export const testLog: Logger = createLogger({ level: (process.env.TEST_LOG_LEVEL as 'warn') ?? 'warn' })

export function testConfig(brokers: string, overrides: Record<string, unknown> = {}): Config {
  return parseConfig({ kafka: { brokers: brokers.split(',') }, ...overrides })
}

export async function produceJson(
  brokers: string,
  topic: string,
  count: number,
  synthetic: SyntheticOptions = { seed: 7 },
  /** `from`: index of the first interaction (request ids go on from there); `rate`: per second. */
  options: { from?: number; rate?: number; batchSize?: number } = {},
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
      batchSize: options.batchSize ?? 2000,
      from: options.from,
      rate: options.rate,
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
  /** The Kafka client (default: one for `brokers`), e.g. one whose commits fail. */
  kafka?: Kafka
  /** Give up after this long (the test then fails on its counts). */
  timeoutMs?: number
  /** Called once the consumer runs, e.g. to inject an outage. */
  whileRunning?: (consumer: IngestConsumer) => Promise<void> | void
}

/** An IngestConsumer started in this process, with an admin client for its group's lag. */
export interface StartedIngest {
  consumer: IngestConsumer
  /** Resolves once the group has committed up to the end of every partition, or `timeoutMs` passed. */
  waitCaughtUp(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

export async function startIngest(
  options: Omit<RunIngestOptions, 'whileRunning' | 'timeoutMs'>,
): Promise<StartedIngest> {
  const config = options.config ?? testConfig(options.brokers)
  const kafka =
    options.kafka ?? createKafka({ config: config.kafka, brokers: options.brokers.split(','), log: testLog })
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
  let stopped: Promise<void> | undefined
  return {
    consumer,
    async waitCaughtUp(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const lag = await groupLag(admin, options.groupId, options.topics)
        if (lag.partitions.length > 0 && lag.total === 0) return
        await new Promise((r) => setTimeout(r, 300))
      }
    },
    stop() {
      stopped ??= consumer.stop().finally(() => admin.disconnect())
      return stopped
    },
  }
}

export async function runIngestUntilCaughtUp(options: RunIngestOptions): Promise<IngestConsumer> {
  const ingest = await startIngest(options)
  try {
    const side = Promise.resolve(options.whileRunning?.(ingest.consumer))
    await ingest.waitCaughtUp(options.timeoutMs)
    await side
  } finally {
    await ingest.stop()
  }
  return ingest.consumer
}

/**
 * Synthetic interactions produced batch after batch (request ids never repeat) until
 * stop(), each batch followed by `poisonPerBatch` messages that are not JSON.
 */
export interface Producing {
  /** Interactions acknowledged by the broker so far. */
  produced(): number
  /** Poison messages acknowledged so far. */
  poisoned(): number
  /** Stops after the batch in flight; resolves to the number of interactions produced (all acknowledged). */
  stop(): Promise<number>
}

export async function startProducing(
  brokers: string,
  topic: string,
  options: { seed: number; batch?: number; pauseMs?: number; from?: number; poisonPerBatch?: number },
): Promise<Producing> {
  const kafka = createKafka({ config: testConfig(brokers).kafka, brokers: brokers.split(','), log: testLog })
  const producer = kafka.producer()
  await producer.connect()
  const from = options.from ?? 0
  let produced = 0
  let poisoned = 0
  let stopping = false
  const loop = (async () => {
    try {
      while (!stopping) {
        produced += await produceSynthetic({
          producer,
          topic,
          count: options.batch ?? 500,
          from: from + produced,
          synthetic: { seed: options.seed },
          encode: (i) => ({ value: interactionJsonBytes(i) }),
          batchSize: options.batch ?? 500,
        })
        const poison = Array.from({ length: options.poisonPerBatch ?? 0 }, (_, k) => ({
          key: `poison-${poisoned + k}`,
          value: Buffer.from(`{"request_id": "poison-${poisoned + k}", not json`),
        }))
        if (poison.length > 0) {
          await producer.send({ topic, messages: poison, acks: -1 })
          poisoned += poison.length
        }
        await new Promise((r) => setTimeout(r, options.pauseMs ?? 50))
      }
    } finally {
      await producer.disconnect()
    }
  })()
  return {
    produced: () => produced,
    poisoned: () => poisoned,
    async stop() {
      stopping = true
      await loop
      return produced
    },
  }
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

// ── The fault tests' end condition ───────────────────────────────────────────────────────

/** What expectExactlyOnce reads from: a Store, or SQL through the CLI (cliSql). */
export interface SqlSource {
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>
}

/** `driftwatch sql --format json` with `env` (e.g. DRIFTWATCH_DATA_DIR): for tests whose store lives in a CLI process. */
export function cliSql(env: NodeJS.ProcessEnv): SqlSource {
  return {
    async query<T>(sql: string, params: QueryParams = {}) {
      const args = Object.entries(params).map(([name, value]) => `--param=${name}=${String(value)}`)
      const result = await runCli(['sql', sql, '--format', 'json', ...args], env)
      if (result.code !== 0) throw new Error(`driftwatch sql failed (${result.code}): ${result.stderr}`)
      return JSON.parse(result.stdout) as T[]
    },
  }
}

// Table settings that stop background merges. interactions and ingest_errors are
// ReplacingMergeTree: a merge folds a row stored twice into one (seen within a second on
// 8 one-row inserts), so a raw count() would hide the very duplicate it is there to catch.
// A table setting, unlike SYSTEM STOP MERGES, is kept in the table's metadata, so it also
// holds in the CLI processes that open the store after the test prepared it.
const NO_MERGES = 'max_bytes_to_merge_at_max_space_in_pool = 1, max_bytes_to_merge_at_min_space_in_pool = 1'
const COUNTED_TABLES = ['interactions', 'ingest_errors'] as const

/** Turns background merges off on the counted tables, so every stored copy of a row stays counted. */
export async function keepEveryCopy(store: Store): Promise<void> {
  for (const table of COUNTED_TABLES) await store.command(`ALTER TABLE ${table} MODIFY SETTING ${NO_MERGES}`)
}

/**
 * Creates the embedded store in `dataDir` (default database), migrated and with
 * keepEveryCopy, then closes it: for CLI tests, before their first `driftwatch` process.
 */
export async function prepareCountedDataDir(dataDir: string): Promise<void> {
  const store = await createStore(parseConfig({ clickhouse: { data_dir: dataDir } }).clickhouse)
  try {
    await migrate(store)
    await keepEveryCopy(store)
  } finally {
    await store.close()
  }
}

export interface ExactlyOnceFacts {
  /** count() of interactions: raw, not FINAL. */
  rows: number
  ids: number
  /** Distinct (topic, partition, offset) among rows: a message stored twice shows as rows > offsets. */
  offsets: number
  /** count() of ingest_errors: raw, not FINAL. */
  errors: number
  errorOffsets: number
  /** Messages both stored as a row and recorded as poison. */
  both: number
}

export async function exactlyOnceFacts(source: SqlSource, topic?: string): Promise<ExactlyOnceFacts> {
  const where = topic === undefined ? '' : 'WHERE kafka_topic = {topic:String}'
  const key = '(kafka_topic, kafka_partition, kafka_offset)'
  const [merges] = await source.query<{ n: number }>(
    `SELECT count() AS n FROM system.tables
      WHERE database = currentDatabase() AND name IN ('interactions', 'ingest_errors')
        AND position(engine_full, 'max_bytes_to_merge_at_max_space_in_pool = 1') > 0`,
  )
  if (Number(merges?.n) !== COUNTED_TABLES.length)
    throw new Error(
      'expectExactlyOnce: background merges are on, so a duplicate row could be merged away before it is counted; call keepEveryCopy(store) (or prepareCountedDataDir) before ingesting',
    )
  const [r] = await source.query<Record<keyof ExactlyOnceFacts, number>>(
    `SELECT
       (SELECT count() FROM interactions ${where}) AS rows,
       (SELECT uniqExact(request_id) FROM interactions ${where}) AS ids,
       (SELECT uniqExact${key} FROM interactions ${where}) AS offsets,
       (SELECT count() FROM ingest_errors ${where}) AS errors,
       (SELECT uniqExact${key} FROM ingest_errors ${where}) AS errorOffsets,
       (SELECT count() FROM interactions ${where ? `${where} AND` : 'WHERE'}
          ${key} IN (SELECT ${key.slice(1, -1)} FROM ingest_errors ${where})) AS both`,
    topic === undefined ? {} : { topic },
  )
  return {
    rows: Number(r!.rows),
    ids: Number(r!.ids),
    offsets: Number(r!.offsets),
    errors: Number(r!.errors),
    errorOffsets: Number(r!.errorOffsets),
    both: Number(r!.both),
  }
}

/**
 * The end condition of every ingest fault test (issue 11): count() = uniqExact(request_id) =
 * the valid messages produced, ingest_errors = the poison produced, and no message twice
 * (raw counts, not FINAL, with merges off so a duplicate cannot be merged away).
 */
export async function expectExactlyOnce(
  source: SqlSource,
  expected: { topic?: string; valid: number; poison: number },
): Promise<void> {
  const { valid, poison } = expected
  expect(await exactlyOnceFacts(source, expected.topic)).toEqual({
    rows: valid,
    ids: valid,
    offsets: valid,
    errors: poison,
    errorOffsets: poison,
    both: 0,
  })
}
