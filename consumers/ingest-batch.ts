// Stores one chunk of one partition's messages: decode and validate each message, write
// each good row as one JSONCompactEachRow line straight into one Buffer (the engine parses
// it; no row objects, no joined string), insert that Buffer in one raw insert, and keep every
// poison message (dead-letter topic and ingest_errors). Calling it again with the same
// messages stores nothing twice: rows already in ClickHouse are skipped by offset, and a
// retried insert carries the same deduplication token. The caller commits offsets only
// after this returns. Two halves: encodeChunk (decode, validate, write lines; done before it
// returns for plain JSON) and storeChunk (the inserts), so the consumer can encode the next
// chunk while the previous one's insert runs; ingestBatch is the two in a row.
//
// Memory: a plain-JSON message is decoded, encoded and dropped before the next one is
// looked at, so its parsed object dies in the young generation; what the chunk keeps until
// the insert returns is the Buffer and two numbers per row.

import type { KafkaMessage, Message } from 'kafkajs'
import type { Interaction } from '../contract/interaction.ts'
import { errorMessage, PoisonMessageError, StoreError } from '../lib/errors.ts'
import { storeErrorKind } from '../store/errors.ts'
import type { Store } from '../store/store.ts'
import { deadLetterMessage, ingestErrorRow, type Poison } from './dead-letter.ts'
import { INTERACTION_COLUMNS, interactionLine, type KafkaSource } from './rows.ts'

export interface MessageDecoder {
  decode(message: Pick<KafkaMessage, 'value' | 'headers'>, topic: string): Promise<Interaction>
  /**
   * Optional: the same answer without a promise when it can be had at once (plain JSON),
   * undefined when decode() must be asked (schema-registry framed). Throws like decode().
   */
  decodeNow?(message: Pick<KafkaMessage, 'value' | 'headers'>, topic: string): Interaction | undefined
}

export interface DeadLetterSink {
  /** Resolves once the broker acknowledged every message. */
  send(messages: Message[]): Promise<void>
}

export interface IngestBatchDeps {
  store: Store
  decoder: MessageDecoder
  deadLetters: DeadLetterSink
}

export interface PartitionRef {
  topic: string
  partition: number
}

export interface IngestBatchResult {
  stored: number
  poisoned: number
  /** Already in ClickHouse from an earlier run: not stored again. */
  skipped: number
  reasons: Record<string, number>
}

/** The chunk's encoded rows: one Buffer of lines, and per row its message and where its line ends. */
interface EncodedRows {
  messages: KafkaMessage[]
  body: Buffer
  /** Index into `messages` of row r. */
  message: number[]
  /** Byte offset just past row r's line (its newline not included). */
  end: number[]
}

/**
 * A chunk decoded and encoded, not yet stored: its rows as one Buffer of lines and its
 * poison. Holding one costs the Buffer and a few numbers per message.
 */
export interface EncodedChunk {
  ref: PartitionRef
  rows: EncodedRows
  poisons: Poison[]
  skipped: number
}

/** One chunk decoded and stored: encodeChunk then storeChunk. */
export async function ingestBatch(
  ref: PartitionRef,
  messages: KafkaMessage[],
  alreadyStored: ReadonlySet<number>,
  deps: IngestBatchDeps,
): Promise<IngestBatchResult> {
  return storeChunk(await encodeChunk(ref, messages, alreadyStored, deps.decoder), deps)
}

/**
 * Decodes, validates and encodes a chunk. Plain-JSON messages are done before this returns
 * (the promise is already settled), so a caller can encode the next chunk while the previous
 * one's insert runs on the engine's thread. Framed messages are decoded concurrently.
 */
export async function encodeChunk(
  ref: PartitionRef,
  messages: KafkaMessage[],
  alreadyStored: ReadonlySet<number>,
  decoder: MessageDecoder,
): Promise<EncodedChunk> {
  const poisons: Poison[] = []
  const writer = new LineWriter(messages)
  const later: number[] = []
  let skipped = 0
  const source: KafkaSource = { topic: ref.topic, partition: ref.partition, offset: '' }
  const poisonOf = (error: unknown, message: KafkaMessage): void => {
    // A registry outage (RegistryUnavailableError) is not the message's fault: it is
    // thrown, so the whole chunk is retried, never dead-lettered.
    if (!(error instanceof PoisonMessageError)) throw error
    poisons.push({
      source: { topic: ref.topic, partition: ref.partition, offset: message.offset },
      message,
      reason: error.reason,
      detail: error.message,
    })
  }
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    if (alreadyStored.size > 0 && alreadyStored.has(Number(message.offset))) {
      skipped++
      continue
    }
    let event: Interaction | undefined
    try {
      event = decoder.decodeNow?.(message, ref.topic)
    } catch (error) {
      poisonOf(error, message)
      continue
    }
    if (event === undefined) later.push(i)
    else {
      source.offset = message.offset
      writer.add(interactionLine(event, source), i)
    }
  }
  if (later.length > 0) {
    // Framed messages: decoded concurrently (a registry lookup serves them all), written in order.
    const decoded = await Promise.all(
      later.map((i) =>
        decoder.decode(messages[i]!, ref.topic).then(
          (event) => ({ event }),
          (error: unknown) => ({ error }),
        ),
      ),
    )
    decoded.forEach((result, k) => {
      const message = messages[later[k]!]!
      if ('error' in result) poisonOf(result.error, message)
      else {
        source.offset = message.offset
        writer.add(interactionLine(result.event, source), later[k]!)
      }
    })
  }
  return { ref, rows: writer.finish(), poisons, skipped }
}

/**
 * Stores an encoded chunk: one raw insert of its rows, then its poison (dead-letter topic,
 * then ingest_errors). Safe to call again with the same chunk after a failure: every insert
 * carries a token derived from the chunk's offsets, so ClickHouse drops a repeat.
 */
export async function storeChunk(
  chunk: EncodedChunk,
  deps: Omit<IngestBatchDeps, 'decoder'>,
): Promise<IngestBatchResult> {
  const { ref, rows } = chunk
  const rejected = await insertRows(ref, rows, 0, rows.message.length, deps.store)
  const poisons = [...chunk.poisons, ...rejected]

  if (poisons.length > 0) {
    poisons.sort((a, b) => Number(a.source.offset) - Number(b.source.offset))
    // Dead-letter topic first, then ingest_errors: a replay skips offsets recorded in
    // ingest_errors, so recording first and crashing before the send would lose the DLQ copy.
    // This order can only send one twice (at-least-once), with its source offset in headers.
    await deps.deadLetters.send(poisons.map((p) => deadLetterMessage(p)))
    await deps.store.insert('ingest_errors', poisons.map(ingestErrorRow), {
      dedupToken: tokenFor(
        ref,
        poisons.map((p) => p.source.offset),
        'errors',
      ),
    })
  }

  const reasons: Record<string, number> = {}
  for (const p of poisons) reasons[p.reason] = (reasons[p.reason] ?? 0) + 1
  return {
    stored: rows.message.length - rejected.length,
    poisoned: poisons.length,
    skipped: chunk.skipped,
    reasons,
  }
}

/**
 * Appends lines to one growing Buffer, sized at first from the messages' own bytes (a
 * JSONCompactEachRow line is about as long as the JSON message it came from).
 */
class LineWriter {
  private body: Buffer
  private at = 0
  private readonly message: number[] = []
  private readonly end: number[] = []

  constructor(private readonly messages: KafkaMessage[]) {
    let bytes = 0
    for (const m of messages) bytes += m.value?.length ?? 0
    this.body = Buffer.allocUnsafe(Math.max(4096, Math.ceil(bytes * 1.1) + messages.length * 64))
  }

  add(line: string, messageIndex: number): void {
    if (this.end.length > 0) this.body[this.at++] = 0x0a
    // One UTF-8 byte per code unit is the common case; grow to the worst case only when short.
    if (this.body.length - this.at < line.length * 3) {
      const needed = this.at + Buffer.byteLength(line)
      if (needed > this.body.length) {
        const grown = Buffer.allocUnsafe(Math.max(needed, this.body.length * 2))
        this.body.copy(grown, 0, 0, this.at)
        this.body = grown
      }
    }
    this.at += this.body.write(line, this.at)
    this.message.push(messageIndex)
    this.end.push(this.at)
  }

  finish(): EncodedRows {
    return { messages: this.messages, body: this.body, message: this.message, end: this.end }
  }
}

/**
 * One insert for rows [from, to) of the chunk. If ClickHouse rejects the data itself (a
 * value it cannot parse), the range is split in halves until the bad rows are found; they
 * become poison with reason `store_rejected` and the rest is stored. Outages are thrown to
 * the caller.
 */
async function insertRows(
  ref: PartitionRef,
  rows: EncodedRows,
  from: number,
  to: number,
  store: Store,
): Promise<Poison[]> {
  if (to <= from) return []
  const offsetOf = (r: number) => rows.messages[rows.message[r]!]!.offset
  const start = from === 0 ? 0 : rows.end[from - 1]! + 1
  try {
    await store.insertRaw('interactions', rows.body.subarray(start, rows.end[to - 1]!), {
      format: 'JSONCompactEachRow',
      columns: INTERACTION_COLUMNS,
      dedupToken: rangeToken(ref, offsetOf(from), offsetOf(to - 1), to - from, 'rows'),
    })
    return []
  } catch (error) {
    if (!(error instanceof StoreError) || storeErrorKind(error) !== 'rejected_data') throw error
    if (to - from === 1) {
      const message = rows.messages[rows.message[from]!]!
      return [
        {
          source: { topic: ref.topic, partition: ref.partition, offset: message.offset },
          message,
          reason: 'store_rejected',
          detail: errorMessage(error),
        },
      ]
    }
    const half = from + Math.ceil((to - from) / 2)
    return [
      ...(await insertRows(ref, rows, from, half, store)),
      ...(await insertRows(ref, rows, half, to, store)),
    ]
  }
}

/** Deterministic for the same offsets, so a retried insert is deduplicated by ClickHouse. */
export function tokenFor(ref: PartitionRef, offsets: string[], kind: string): string {
  return rangeToken(ref, offsets[0]!, offsets[offsets.length - 1]!, offsets.length, kind)
}

function rangeToken(ref: PartitionRef, first: string, last: string, count: number, kind: string): string {
  return `${kind}:${ref.topic}:${ref.partition}:${first}-${last}:${count}`
}

/** Offsets from `fromOffset` on that are already stored (rows or recorded poison). */
export async function storedOffsets(
  store: Store,
  ref: PartitionRef,
  fromOffset: string,
): Promise<Set<number>> {
  const params = { topic: ref.topic, partition: ref.partition, from: fromOffset }
  const rows = await store.query<{ o: number }>(
    `SELECT kafka_offset AS o FROM interactions
       WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt32} AND kafka_offset >= {from:UInt64}
     UNION ALL
     SELECT kafka_offset AS o FROM ingest_errors
       WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt32} AND kafka_offset >= {from:UInt64}`,
    params,
  )
  return new Set(rows.map((r) => Number(r.o)))
}
