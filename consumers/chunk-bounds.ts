// Where a partition's chunks begin and end. Bounds are a function of offsets alone, never of
// how kafkajs happened to cut its fetches: chunk k covers offsets [k * size, (k + 1) * size),
// except that the chunk after a short one (flushed because the partition was caught up)
// starts where that one ended and runs to the next multiple of size.
//
// Why it matters: the consumer hands a full chunk to ClickHouse and goes on fetching before
// the insert returns. If the partition moves to another consumer meanwhile, the new owner
// starts at the committed offset, which is that chunk's start, and cuts the same chunk from
// the same messages; both inserts carry the same deduplication token (it is derived from the
// rows' offsets) and ClickHouse keeps one. All consumers of a group must use the same
// `ingest.batch_size` for this to hold.

import type { KafkaMessage } from 'kafkajs'

/** The end (exclusive) of the chunk that starts at `start`: the next multiple of `size` above it. */
export function chunkEnd(start: bigint, size: bigint): bigint {
  return (start / size + 1n) * size
}

/** A partition's chunk that is still filling: where it starts and the messages it has so far. */
export interface OpenChunk {
  start: bigint
  messages: KafkaMessage[]
}

/**
 * Adds one fetched batch to the open chunk. Returns the chunks that are now complete, in
 * order (a chunk is complete once the batch reached its last offset), and leaves the rest
 * open. `batchLastOffset` is the batch's last offset as the broker reported it (it can lie
 * past the last message when control records were filtered out).
 */
export function takeCompleteChunks(
  open: OpenChunk,
  messages: readonly KafkaMessage[],
  batchLastOffset: bigint,
  size: bigint,
): KafkaMessage[][] {
  const complete: KafkaMessage[][] = []
  let end = chunkEnd(open.start, size)
  const close = () => {
    if (open.messages.length > 0) complete.push(open.messages)
    open.messages = []
    open.start = end
    end = chunkEnd(end, size)
  }
  for (const message of messages) {
    const offset = BigInt(message.offset)
    while (offset >= end) close()
    open.messages.push(message)
  }
  while (batchLastOffset >= end - 1n) close()
  return complete
}

/** Closes the open chunk early (the partition is caught up): the next one starts after `lastOffset`. */
export function takeShortChunk(open: OpenChunk, lastOffset: bigint): KafkaMessage[] {
  const messages = open.messages
  open.messages = []
  open.start = lastOffset + 1n
  return messages
}
