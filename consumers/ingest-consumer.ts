// The ingest consumer: a kafkajs consumer group that hands each partition's batch, in
// chunks of at most `batch_size`, to ingestBatch and commits a chunk's offsets only after
// its rows are in ClickHouse. While ClickHouse is down it keeps the batch, heartbeats,
// backs off and tries again: nothing is committed that is not stored.

import { EventEmitter } from 'node:events'
import kafkajs, {
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
  type Producer,
} from 'kafkajs'
import type { IngestConfig } from '../config/schema.ts'
import { errorMessage, isProgrammingError, isRetriable } from '../lib/errors.ts'
import { connectWithRetry } from '../lib/kafka-connect.ts'
import type { Logger } from '../lib/log.ts'
import { abortableSleep, backoffDelay } from '../lib/retry.ts'
import type { Store } from '../store/store.ts'
import {
  type DeadLetterSink,
  type IngestBatchResult,
  ingestBatch,
  type MessageDecoder,
  storedOffsets,
} from './ingest-batch.ts'

export interface IngestConsumerOptions {
  kafka: Kafka
  store: Store
  decoder: MessageDecoder
  topics: string[]
  groupId: string
  deadLetterTopic: string
  config: IngestConfig
  log: Logger
  /** Read topics from the beginning when the group has no committed offset (default true). */
  fromBeginning?: boolean
  /** For log lines while the broker is unreachable. */
  brokers?: string[]
  /** Aborts waiting for an unreachable broker in start(). */
  signal?: AbortSignal
}

/** Emitted after each committed chunk. */
export interface ChunkEvent extends IngestBatchResult {
  topic: string
  partition: number
  lastOffset: string
  highWatermark: string
  durationMs: number
  /** Bytes of the chunk's message values, as read from Kafka. */
  bytes: number
}

export interface IngestTotals {
  stored: number
  poisoned: number
  skipped: number
  chunks: number
  retries: number
}

export class IngestConsumer extends EventEmitter<{
  chunk: [ChunkEvent]
  storeUnavailable: [{ error: string; attempt: number; delayMs: number }]
  storeRecovered: [{ downMs: number }]
}> {
  readonly totals: IngestTotals = { stored: 0, poisoned: 0, skipped: 0, chunks: 0, retries: 0 }
  private readonly consumer: Consumer
  private readonly producer: Producer
  private readonly deadLetters: DeadLetterSink
  /** Next offset we expect per partition; a gap means a seek or rebalance: re-check stored offsets. */
  private readonly expected = new Map<string, string>()
  private readonly stopping = new AbortController()
  private running = false
  private member = false

  constructor(private readonly options: IngestConsumerOptions) {
    super()
    const { kafka, config, groupId } = options
    this.consumer = kafka.consumer({
      groupId,
      // The broker answers a fetch when it has this much data or the flush interval passed:
      // that is the batch-by-size-and-time knob, with no second buffer to lose on a crash.
      minBytes: 1024 * 1024,
      maxWaitTimeInMs: config.flush_interval_ms,
      ...fetchSizes(config),
      sessionTimeout: config.session_timeout_ms,
      heartbeatInterval: Math.min(3000, Math.floor(config.session_timeout_ms / 3)),
      rebalanceTimeout: 60_000,
    })
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    this.deadLetters = {
      send: async (messages) => {
        await this.producer.send({ topic: options.deadLetterTopic, messages, acks: -1 })
      },
    }
  }

  /** True between joining the consumer group and a rebalance, stop or crash (readiness). */
  get inGroup(): boolean {
    return this.member
  }

  async start(): Promise<void> {
    const { options } = this
    const { GROUP_JOIN, REBALANCING, STOP, CRASH, DISCONNECT } = this.consumer.events
    this.consumer.on(GROUP_JOIN, () => {
      this.member = true
    })
    for (const event of [REBALANCING, STOP, CRASH, DISCONNECT]) {
      this.consumer.on(event, () => {
        this.member = false
      })
    }
    // kafkajs handles a crash by disconnecting, then setting a timer that restarts the
    // consumer, without looking whether stop() disconnected meanwhile (both share one
    // disconnect promise). Such a consumer rejoins after stop(), holds partitions it never
    // reads and keeps the process alive: disconnecting again once the timer is set clears it.
    this.consumer.on(CRASH, ({ payload }) => {
      if (payload.restart && this.stopping.signal.aborted)
        setImmediate(() =>
          this.consumer.disconnect().catch((error) =>
            options.log.warn('Kafka consumer disconnect after a crash failed', {
              error: errorMessage(error),
            }),
          ),
        )
    })
    const retry = {
      what: 'ingest consumer',
      brokers: options.brokers ?? [],
      log: options.log,
      signal: options.signal,
    }
    // A broker that is not up yet is waited for (kafkajs alone gives up after ~8 s).
    await connectWithRetry(() => this.producer.connect(), retry)
    await connectWithRetry(() => this.consumer.connect(), retry)
    await connectWithRetry(
      () => this.consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true }),
      retry,
    )
    this.running = true
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.config.partitions_concurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    })
    options.log.info('ingest consumer started', { topics: options.topics, group: options.groupId })
  }

  /** Finishes the chunk in flight (stored and committed), then leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopping.abort()
    // After a broker restart kafkajs' disconnect can wait forever on a group rejoin that no
    // longer happens (seen as `driftwatch ingest` ignoring SIGTERM). Leaving without it is
    // safe: offsets are committed only after rows are stored, so nothing is lost, and the
    // group drops this member after its session timeout.
    const limitMs = this.options.config.session_timeout_ms
    for (const [what, leave] of [
      ['consumer', () => this.consumer.disconnect()],
      ['producer', () => this.producer.disconnect()],
    ] as const) {
      const left = leave().catch((error) =>
        this.options.log.warn(`Kafka ${what} disconnect failed`, { error: errorMessage(error) }),
      )
      if (!(await settlesWithin(left, limitMs)))
        this.options.log.warn(`Kafka ${what} did not disconnect in time; stopping without it`, {
          waitedMs: limitMs,
          group: this.options.groupId,
        })
    }
    this.options.log.info('ingest consumer stopped', { ...this.totals })
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload
    const ref = { topic: batch.topic, partition: batch.partition }
    const key = `${ref.topic}:${ref.partition}`
    const size = this.options.config.batch_size
    for (let start = 0; start < batch.messages.length; start += size) {
      // this.running: a consumer kafkajs restarts after stop() gave up on its disconnect must
      // not insert into a store that is already closed.
      if (!this.running || !isRunning() || isStale()) return
      const chunk = batch.messages.slice(start, start + size)
      const begun = Date.now()
      const result = await this.withStoreRetry(payload, async () => {
        const first = chunk[0]!.offset
        // After a restart, rebalance or seek, rows past the committed offset may already be
        // stored by the run that crashed: look them up once, then trust our own progress.
        const skip =
          this.expected.get(key) === first
            ? new Set<number>()
            : await storedOffsets(this.options.store, ref, first)
        return ingestBatch(ref, chunk, skip, {
          store: this.options.store,
          decoder: this.options.decoder,
          deadLetters: this.deadLetters,
        })
      })
      if (result === undefined) {
        // Given up before its commit, perhaps after its rows were stored: whoever reads this
        // partition next (this member after a rejoin included) must look up what is stored.
        this.expected.delete(key)
        return
      }
      const last = chunk[chunk.length - 1]!.offset
      // Stored but not yet committed: if the commit fails (broker gone), the replay starts at
      // `first` again, with other chunk bounds and so another dedup token. Forget our
      // progress until the commit lands, so the replay looks up what is stored.
      this.expected.delete(key)
      await this.commit(ref, last)
      resolveOffset(last)
      this.expected.set(key, nextOffset(last))
      this.count(result)
      this.emit('chunk', {
        ...result,
        ...ref,
        lastOffset: last,
        highWatermark: batch.highWatermark,
        durationMs: Date.now() - begun,
        bytes: chunk.reduce((sum, m) => sum + (m.value?.length ?? 0), 0),
      })
      await heartbeat()
    }
  }

  private async commit(ref: { topic: string; partition: number }, lastOffset: string): Promise<void> {
    try {
      await this.consumer.commitOffsets([{ ...ref, offset: nextOffset(lastOffset) }])
    } catch (error) {
      // kafkajs wraps a commit the group refused (this member dropped, e.g. after an insert
      // longer than the session timeout) in a KafkaJSNonRetriableError, which, thrown on,
      // ends the consumer for good. The protocol error inside is what kafkajs' own loop
      // answers by rejoining the group: throw that (the chunk stays uncommitted).
      throw rejoinError(error) ?? error
    }
  }

  /**
   * Runs `fn` until it succeeds. Store failures (ClickHouse or the registry down, ClickHouse
   * answering errors) are retried forever with capped backoff while heartbeating; returns
   * undefined if the consumer stops or loses the partition meanwhile (nothing committed,
   * nothing lost). Only programming errors are thrown.
   */
  private async withStoreRetry<T>(payload: EachBatchPayload, fn: () => Promise<T>): Promise<T | undefined> {
    const { config, log } = this.options
    let downSince: number | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await fn()
        if (downSince !== undefined) {
          const downMs = Date.now() - downSince
          log.info('store reachable again, ingestion resumed', { downMs, attempts: attempt })
          this.emit('storeRecovered', { downMs })
        }
        return result
      } catch (error) {
        // Thrown to kafkajs, an error it deems not retriable (a StoreError with retriable
        // false, e.g. UNKNOWN_TABLE) ends the consumer for good while the process lives on.
        // Waiting is always safe here (nothing uncommitted is lost), so such an error is
        // retried too, at the longest delay and logged as an error: it may need an operator.
        if (isProgrammingError(error)) throw error
        const retriable = isRetriable(error)
        downSince ??= Date.now()
        this.totals.retries++
        const delayMs = retriable
          ? backoffDelay(attempt, { initialMs: config.retry_initial_ms, maxMs: config.retry_max_ms })
          : config.retry_max_ms
        const fields = { error: errorMessage(error), attempt: attempt + 1, delayMs }
        if (!retriable) log.error('store error retrying may not fix, ingestion paused; retrying', fields)
        else if (attempt === 0) log.warn('store unavailable, ingestion paused; retrying', fields)
        else log.debug('store still unavailable', fields)
        this.emit('storeUnavailable', fields)
        await abortableSleep(delayMs, this.stopping.signal)
        if (this.stopping.signal.aborted || !payload.isRunning() || payload.isStale()) return undefined
        // The group cannot rebalance while this batch runs: a member that went on retrying
        // would hold up the others and, once dropped after the rebalance timeout, insert
        // rows its partition's new owner may already have stored. So a heartbeat that says
        // the group is rebalancing gives the chunk up (nothing of it is committed).
        const rebalancing = await payload.heartbeat().then(
          () => false,
          (error: unknown) => {
            log.debug('heartbeat failed while retrying', { error: errorMessage(error) })
            return rejoinError(error) !== undefined
          },
        )
        if (rebalancing) return undefined
      }
    }
  }

  private count(result: IngestBatchResult): void {
    this.totals.stored += result.stored
    this.totals.poisoned += result.poisoned
    this.totals.skipped += result.skipped
    this.totals.chunks++
  }
}

/**
 * Fetch sizes from the batch size: about one chunk per partition per fetch (at ~1.4 KB per
 * message), so a fetch never holds many chunks' worth of messages in memory at once (at 16 MB
 * per partition the pipeline peaked at 780 MB RSS), capped at 16 MB, at least 1 MB.
 */
export function fetchSizes(config: Pick<IngestConfig, 'batch_size' | 'partitions_concurrently'>): {
  maxBytesPerPartition: number
  maxBytes: number
} {
  const perPartition = Math.min(16 << 20, Math.max(1 << 20, config.batch_size * 1400))
  return { maxBytesPerPartition: perPartition, maxBytes: perPartition * config.partitions_concurrently }
}

/** true if `promise` settles (either way) within `ms`; a rejection is not an error here. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timedOut,
    ])
  } finally {
    clearTimeout(timer)
  }
}

// kafkajs is CommonJS and builds its error exports by spreading: Node's ESM loader sees no
// named export for them, so they are read off the default export.
const { KafkaJSProtocolError } = kafkajs

/** Kafka error codes of a heartbeat that means this member must rejoin: REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID. */
const REBALANCE_CODES = new Set([27, 22, 25])

/** The Kafka protocol error in `error`'s cause chain that means this member must rejoin, if any. */
function rejoinError(error: unknown): Error | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof KafkaJSProtocolError && REBALANCE_CODES.has(e.code)) return e
  return undefined
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString()
}

export type { KafkaMessage }
