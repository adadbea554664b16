// The ingest consumer: a kafkajs consumer group that cuts each partition's messages into
// chunks of `batch_size` offsets (consumers/chunk-bounds.ts), encodes each chunk and hands it
// to ClickHouse, and commits a chunk's offsets only after its rows are stored. While
// ClickHouse is down it keeps the chunk, heartbeats, backs off and tries again: nothing is
// committed that is not stored.
//
// Overlap: kafkajs fetches the next batch only when the handler has returned. So while a
// partition is behind, the handler returns as soon as a full chunk's insert has started, and
// the next call encodes the following chunk during that insert, then waits for it, commits
// it and starts its own. At most one insert per partition is in flight. A partition that is
// caught up is stored and committed before the handler returns, as is everything on stop.
// An insert still in flight when the partition moves to another consumer is safe because
// chunk bounds depend on offsets only: the new owner cuts the same chunk and ClickHouse
// drops the second insert by its deduplication token.

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
import { type OpenChunk, takeCompleteChunks, takeShortChunk } from './chunk-bounds.ts'
import {
  type DeadLetterSink,
  type EncodedChunk,
  encodeChunk,
  type IngestBatchResult,
  type MessageDecoder,
  storeChunk,
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

/** One partition's progress in this process. */
interface PartitionFlow {
  ref: { topic: string; partition: number }
  /** The chunk still filling. */
  open: OpenChunk
  /** The next offset this flow expects from kafkajs; another one means a seek, restart or rebalance. */
  next: string
  /** Where kafkajs must read from again if this flow is abandoned: just past the last commit. */
  committed: string
  /** Offsets at or past the flow's start that were already stored when it began. */
  skip: ReadonlySet<number>
  /** The chunk whose insert is in flight, if any. */
  pending?: PendingChunk
  /** Set when a call stopped half-way: the next batch starts a new flow. */
  broken: boolean
}

interface PendingChunk {
  encoded: EncodedChunk
  lastOffset: string
  highWatermark: string
  begun: number
  bytes: number
  /** Counted and emitted already (stop and a handler can both finish the same chunk). */
  recorded: boolean
  /** Settles when the first insert attempt does; never rejects. */
  outcome: Promise<{ result: IngestBatchResult } | { error: unknown }>
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
  /** What storeChunk writes to: the store and the dead-letter topic. */
  private readonly sinks: { store: Store; deadLetters: DeadLetterSink }
  /** Per partition; a gap in offsets means a seek or rebalance: re-check what is stored. */
  private readonly flows = new Map<string, PartitionFlow>()
  private readonly stopping = new AbortController()
  private running = false
  private member = false
  private fail: (error: Error) => void = () => {}
  /**
   * Settles with the error when kafkajs gives the consumer up (it crashed on an error it does
   * not restart on, e.g. a bug): the process should exit rather than live on without ingest.
   */
  readonly failed: Promise<Error> = new Promise((resolve) => {
    this.fail = resolve
  })

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
    this.sinks = { store: options.store, deadLetters: this.deadLetters }
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
    this.consumer.on(CRASH, ({ payload }) => {
      if (payload.restart) {
        // kafkajs handles a crash by disconnecting, then setting a timer that restarts the
        // consumer, without looking whether stop() disconnected meanwhile (both share one
        // disconnect promise). Such a consumer rejoins after stop(), holds partitions it never
        // reads and keeps the process alive: disconnecting again once the timer is set clears it.
        if (this.stopping.signal.aborted)
          setImmediate(() =>
            this.consumer.disconnect().catch((error) =>
              options.log.warn('Kafka consumer disconnect after a crash failed', {
                error: errorMessage(error),
              }),
            ),
          )
        return
      }
      if (!this.running) return
      const error = payload.error instanceof Error ? payload.error : new Error(String(payload.error))
      options.log.error('ingest consumer crashed and kafkajs will not restart it', {
        error: errorMessage(error),
        group: options.groupId,
      })
      this.fail(error)
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
    // Inserts still in flight finish (the store must not close under them) and are committed
    // while this member still owns their partitions; a failed one is simply re-read later.
    await this.commitSettled()
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
    const { batch, heartbeat, resolveOffset } = payload
    const key = `${batch.topic}:${batch.partition}`
    const first = batch.messages[0]?.offset
    if (first === undefined) return
    let flow = this.flows.get(key)
    try {
      if (!flow || flow.broken || flow.next !== first) {
        flow = await this.startFlow(key, first, payload)
        if (!flow) return
      }
      const size = BigInt(this.options.config.batch_size)
      const last = BigInt(batch.lastOffset())
      for (const messages of takeCompleteChunks(flow.open, batch.messages, last, size)) {
        if (!(await this.handOver(flow, messages, payload))) return this.abandon(flow)
      }
      if (last + 1n >= BigInt(batch.highWatermark)) {
        // Caught up: store the rest now rather than wait for a full chunk, and leave nothing
        // in flight between fetches.
        const rest = takeShortChunk(flow.open, last)
        if (rest.length > 0 && !(await this.handOver(flow, rest, payload))) return this.abandon(flow)
        if (!(await this.settle(flow, payload))) return this.abandon(flow)
      }
      // Fetch on from here; what is not committed yet is in `flow` (open or in flight).
      flow.next = nextOffset(batch.lastOffset())
      resolveOffset(batch.lastOffset())
      await heartbeat()
    } catch (error) {
      if (flow) this.abandon(flow)
      throw error
    }
  }

  /** A new flow for a partition first seen, or seen again after a gap: what is stored from `first` on. */
  private async startFlow(
    key: string,
    first: string,
    payload: EachBatchPayload,
  ): Promise<PartitionFlow | undefined> {
    const old = this.flows.get(key)
    // Our own insert may still be in flight: let it land before looking at what is stored.
    if (old) await this.settleQuietly(old)
    const ref = { topic: payload.batch.topic, partition: payload.batch.partition }
    const skip = await this.withStoreRetry(payload, () => storedOffsets(this.options.store, ref, first))
    if (skip === undefined) return undefined
    const flow: PartitionFlow = {
      ref,
      open: { start: BigInt(first), messages: [] },
      next: first,
      committed: first,
      skip,
      broken: false,
    }
    this.flows.set(key, flow)
    return flow
  }

  /**
   * Encodes a chunk, waits for the partition's previous insert (committing it), then starts
   * this chunk's insert without waiting for it. False if the consumer stops or loses the
   * partition meanwhile.
   */
  private async handOver(
    flow: PartitionFlow,
    messages: KafkaMessage[],
    payload: EachBatchPayload,
  ): Promise<boolean> {
    if (!this.running || !payload.isRunning() || payload.isStale()) return false
    const { decoder } = this.options
    const begun = Date.now()
    // A registry outage while decoding framed messages is retried like a store outage.
    const encoded = await this.withStoreRetry(payload, () =>
      encodeChunk(flow.ref, messages, flow.skip, decoder),
    )
    if (encoded === undefined) return false
    if (!(await this.settle(flow, payload))) return false
    // this.running: a consumer kafkajs restarts after stop() gave up on its disconnect must
    // not insert into a store that is already closed.
    if (!this.running || !payload.isRunning() || payload.isStale()) return false
    flow.pending = {
      encoded,
      lastOffset: messages[messages.length - 1]!.offset,
      highWatermark: payload.batch.highWatermark,
      begun,
      recorded: false,
      bytes: messages.reduce((sum, m) => sum + (m.value?.length ?? 0), 0),
      outcome: storeChunk(encoded, this.sinks).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      ),
    }
    return true
  }

  /**
   * Waits for the flow's insert in flight, retries it while the store is down, then commits
   * it. False if the consumer stops or loses the partition before it is stored.
   */
  private async settle(flow: PartitionFlow, payload: EachBatchPayload): Promise<boolean> {
    const pending = flow.pending
    if (!pending) return true
    const outcome = await pending.outcome
    let result: IngestBatchResult | undefined
    if ('error' in outcome) {
      if (isProgrammingError(outcome.error)) throw outcome.error
      result = await this.withStoreRetry(
        payload,
        () => storeChunk(pending.encoded, this.sinks),
        outcome.error,
      )
      if (result === undefined) return false
    } else result = outcome.result
    flow.pending = undefined
    await this.commit(flow.ref, pending.lastOffset)
    flow.committed = nextOffset(pending.lastOffset)
    this.record(flow, pending, result)
    return true
  }

  /**
   * Lets the flow's insert in flight finish, counting it if it stored; nothing is committed.
   * Returns the chunk if it was stored.
   */
  private async settleQuietly(flow: PartitionFlow): Promise<PendingChunk | undefined> {
    const pending = flow.pending
    if (!pending) return undefined
    flow.pending = undefined
    const outcome = await pending.outcome
    if (!('result' in outcome)) return undefined
    this.record(flow, pending, outcome.result)
    return pending
  }

  /** On stop: every insert in flight finishes; the stored ones are committed if the broker lets us. */
  private async commitSettled(): Promise<void> {
    await Promise.all(
      [...this.flows.values()].map(async (flow) => {
        if (!flow.pending) return
        flow.broken = true
        const stored = await this.settleQuietly(flow)
        if (!stored) return
        await this.commit(flow.ref, stored.lastOffset).catch((error) =>
          this.options.log.debug('commit on stop failed; the chunk is re-read and skipped', {
            error: errorMessage(error),
          }),
        )
      }),
    )
  }

  /**
   * Gives up the flow after a call that stopped half-way (stop, a seek, a lost partition, an
   * error). kafkajs would fetch on from the offsets resolved so far, past messages this flow
   * held open: point it back at what is committed. The next batch starts a new flow, which
   * first lets the insert still in flight land, then looks up what is stored.
   */
  private abandon(flow: PartitionFlow): void {
    flow.broken = true
    flow.open.messages = []
    if (!this.running) return
    try {
      this.consumer.seek({ ...flow.ref, offset: flow.committed })
    } catch (error) {
      this.options.log.debug('seek back to the committed offset failed', { error: errorMessage(error) })
    }
  }

  private record(flow: PartitionFlow, pending: PendingChunk, result: IngestBatchResult): void {
    if (pending.recorded) return
    pending.recorded = true
    this.count(result)
    this.emit('chunk', {
      ...result,
      ...flow.ref,
      lastOffset: pending.lastOffset,
      highWatermark: pending.highWatermark,
      durationMs: Date.now() - pending.begun,
      bytes: pending.bytes,
    })
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
  private async withStoreRetry<T>(
    payload: EachBatchPayload,
    fn: () => Promise<T>,
    failedOnce?: unknown,
  ): Promise<T | undefined> {
    const { config, log } = this.options
    let downSince: number | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt === 0 && failedOnce !== undefined) throw failedOnce
        const result = await fn()
        if (downSince !== undefined) {
          const downMs = Date.now() - downSince
          log.info('store reachable again, ingestion resumed', { downMs, attempts: attempt })
          this.emit('storeRecovered', { downMs })
        }
        return result
      } catch (error) {
        // Thrown to kafkajs, an error it deems not retriable (a StoreError with retriable
        // false, e.g. UNKNOWN_TABLE) ends the consumer for good. Waiting is always safe here
        // (nothing uncommitted is lost), so such an error is retried too, at the longest
        // delay and logged as an error: it may need an operator.
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

/** Kafka error codes that mean this member must rejoin: REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID. */
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
