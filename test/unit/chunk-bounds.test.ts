// Chunk bounds depend on offsets only, never on how fetches were cut: the property that lets
// two consumers that both read a partition's chunk produce the same insert (same token).
import type { KafkaMessage } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { chunkEnd, type OpenChunk, takeCompleteChunks, takeShortChunk } from '../../consumers/chunk-bounds.ts'

const message = (offset: number): KafkaMessage =>
  ({
    offset: String(offset),
    value: Buffer.from('{}'),
    key: null,
    timestamp: '0',
    attributes: 0,
    headers: {},
  }) as KafkaMessage
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => message(from + i))
const offsets = (chunks: KafkaMessage[][]) =>
  chunks.map((c) => [Number(c[0]!.offset), Number(c[c.length - 1]!.offset)])

/** Feeds the messages in fetches of the given sizes; returns the chunks in order. */
function cut(start: number, total: number, fetchSizes: number[], size = 10): number[][] {
  const open: OpenChunk = { start: BigInt(start), messages: [] }
  const chunks: KafkaMessage[][] = []
  let at = start
  for (let k = 0; at < start + total; k++) {
    const n = Math.min(fetchSizes[k % fetchSizes.length]!, start + total - at)
    chunks.push(...takeCompleteChunks(open, range(at, at + n), BigInt(at + n - 1), BigInt(size)))
    at += n
  }
  return offsets(chunks)
}

describe('chunk bounds', () => {
  it('ends a chunk at the next multiple of the size', () => {
    expect(chunkEnd(0n, 10n)).toBe(10n)
    expect(chunkEnd(9n, 10n)).toBe(10n)
    expect(chunkEnd(10n, 10n)).toBe(20n)
    expect(chunkEnd(123n, 10n)).toBe(130n)
  })

  it('cuts the same chunks whatever the fetch sizes', () => {
    const expected = cut(0, 95, [95])
    expect(expected).toEqual([
      [0, 9],
      [10, 19],
      [20, 29],
      [30, 39],
      [40, 49],
      [50, 59],
      [60, 69],
      [70, 79],
      [80, 89],
    ])
    for (const sizes of [[1], [3], [7, 2], [10], [11], [25, 1, 4]])
      expect(cut(0, 95, sizes)).toEqual(expected)
  })

  it('a consumer starting mid-chunk (the committed offset) finishes that chunk where the first one would', () => {
    // The first owner had stored [0, 9] and committed 10; a new owner starts at 10.
    expect(cut(10, 30, [4])).toEqual([
      [10, 19],
      [20, 29],
      [30, 39],
    ])
    // After a short chunk ended at 13 (caught up), the next one runs to the next multiple.
    expect(cut(14, 26, [3])).toEqual([
      [14, 19],
      [20, 29],
      [30, 39],
    ])
  })

  it('leaves the incomplete rest open, and a short chunk takes it', () => {
    const open: OpenChunk = { start: 0n, messages: [] }
    expect(offsets(takeCompleteChunks(open, range(0, 14), 13n, 10n))).toEqual([[0, 9]])
    expect(open.messages.map((m) => Number(m.offset))).toEqual([10, 11, 12, 13])
    expect(takeShortChunk(open, 13n).map((m) => Number(m.offset))).toEqual([10, 11, 12, 13])
    expect(open).toEqual({ start: 14n, messages: [] })
  })

  it('closes a chunk whose last offsets are not messages (filtered control records, compaction)', () => {
    const open: OpenChunk = { start: 0n, messages: [] }
    // Messages 0..7, the batch reached offset 9: the chunk [0, 10) is complete.
    expect(offsets(takeCompleteChunks(open, range(0, 8), 9n, 10n))).toEqual([[0, 7]])
    expect(open.start).toBe(10n)
    // A gap over a whole chunk: [10, 20) holds nothing and is skipped, not returned empty.
    expect(offsets(takeCompleteChunks(open, [message(25), message(31)], 31n, 10n))).toEqual([[25, 25]])
    expect(open.messages.map((m) => Number(m.offset))).toEqual([31])
  })
})
