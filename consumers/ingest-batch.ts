// Stores one chunk of one partition's messages: decode and validate each message, encode
// each good row as one JSONCompactEachRow line, insert the lines in one raw insert (the
// engine parses them; no row objects), and keep every poison message (dead-letter topic and
// ingest_errors). Calling it again with the same messages stores nothing twice: rows
// already in ClickHouse are skipped by offset, and a retried insert carries the same
// deduplication token. The caller commits offsets only after this returns.

import type { KafkaMessage, Message } from 'kafkajs'
import type { Interaction } from '../contract/interaction.ts'
import { errorMessage, PoisonMessageError, StoreError } from '../lib/errors.ts'
import { storeErrorKind } from '../store/errors.ts'
import type { Store } from '../store/store.ts'
import { deadLetterMessage, ingestErrorRow, type Poison } from './dead-letter.ts'
import { INTERACTION_COLUMNS, interactionLine, type KafkaSource } from './rows.ts'

export interface MessageDecoder {
  decode(message: Pick<KafkaMessage, 'value' | 'headers'>, topic: string): Promise<Interaction>
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

interface PendingRow {
  source: KafkaSource
  message: KafkaMessage
  line: string
}

export async function ingestBatch(
  ref: PartitionRef,
  messages: KafkaMessage[],
  alreadyStored: ReadonlySet<number>,
  deps: IngestBatchDeps,
): Promise<IngestBatchResult> {
  const rows: PendingRow[] = []
  const poisons: Poison[] = []
  let skipped = 0
  const decoded = await Promise.all(
    messages.map(async (message) => {
      if (alreadyStored.has(Number(message.offset))) return 'skip' as const
      try {
        return await deps.decoder.decode(message, ref.topic)
      } catch (error) {
        // A registry outage (RegistryUnavailableError) is not the message's fault: it is
        // thrown, so the whole chunk is retried, never dead-lettered.
        if (error instanceof PoisonMessageError) return error
        throw error
      }
    }),
  )
  messages.forEach((message, i) => {
    const result = decoded[i]!
    const source: KafkaSource = { topic: ref.topic, partition: ref.partition, offset: message.offset }
    if (result === 'skip') skipped++
    else if (result instanceof PoisonMessageError)
      poisons.push({ source, message, reason: result.reason, detail: result.message })
    else rows.push({ source, message, line: interactionLine(result, source) })
  })

  poisons.push(...(await insertRows(ref, rows, deps.store)))

  if (poisons.length > 0) {
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
    stored: rows.length - poisons.filter((p) => p.reason === 'store_rejected').length,
    poisoned: poisons.length,
    skipped,
    reasons,
  }
}

/**
 * One insert for the chunk. If ClickHouse rejects the data itself (a value it cannot
 * parse), the chunk is split in halves until the bad rows are found; they become poison
 * with reason `store_rejected` and the rest is stored. Outages are thrown to the caller.
 */
async function insertRows(ref: PartitionRef, rows: PendingRow[], store: Store): Promise<Poison[]> {
  if (rows.length === 0) return []
  try {
    await store.insertRaw('interactions', Buffer.from(rows.map((r) => r.line).join('\n')), {
      format: 'JSONCompactEachRow',
      columns: INTERACTION_COLUMNS,
      dedupToken: tokenFor(
        ref,
        rows.map((r) => r.source.offset),
        'rows',
      ),
    })
    return []
  } catch (error) {
    if (!(error instanceof StoreError) || storeErrorKind(error) !== 'rejected_data') throw error
    if (rows.length === 1) {
      const [only] = rows
      return [
        {
          source: only!.source,
          message: only!.message,
          reason: 'store_rejected',
          detail: errorMessage(error),
        },
      ]
    }
    const half = Math.ceil(rows.length / 2)
    return [
      ...(await insertRows(ref, rows.slice(0, half), store)),
      ...(await insertRows(ref, rows.slice(half), store)),
    ]
  }
}

/** Deterministic for the same offsets, so a retried insert is deduplicated by ClickHouse. */
export function tokenFor(ref: PartitionRef, offsets: string[], kind: string): string {
  return `${kind}:${ref.topic}:${ref.partition}:${offsets[0]}-${offsets[offsets.length - 1]}:${offsets.length}`
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
