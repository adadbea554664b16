// ingestBatch against an in-memory store and dead-letter sink: what is stored, skipped and
// dead-lettered, in which order, and what an outage does.
import type { KafkaMessage, Message } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { DLQ_HEADERS } from '../../consumers/dead-letter.ts'
import { ingestBatch } from '../../consumers/ingest-batch.ts'
import { createDecoder } from '../../contract/decode.ts'
import { PoisonMessageError, StoreError } from '../../lib/errors.ts'
import { interactionJsonBytes, syntheticInteraction } from '../../producers/synthetic.ts'
import type { Store } from '../../store/store.ts'

const ref = { topic: 't', partition: 0 }
const message = (offset: number, value: Buffer): KafkaMessage => ({
  key: null,
  value,
  headers: {},
  offset: String(offset),
  timestamp: '0',
  attributes: 0,
  size: undefined,
})
const good = (i: number) => message(i, interactionJsonBytes(syntheticInteraction(i, { seed: 9 })))

function fakeStore(options: { rejectRequestId?: string; down?: boolean } = {}) {
  const calls: string[] = []
  const tables: Record<string, object[]> = {}
  const store: Store = {
    async insert(table: string, rows: readonly object[]) {
      if (options.down) throw new StoreError('STORE_UNAVAILABLE', 'connect ECONNREFUSED', { retriable: true })
      if (
        options.rejectRequestId &&
        rows.some((r) => (r as { request_id?: string }).request_id === options.rejectRequestId)
      ) {
        throw new StoreError('STORE_REJECTED_DATA', 'Cannot parse input', { retriable: false })
      }
      calls.push(`insert:${table}`)
      tables[table] = [...(tables[table] ?? []), ...rows]
    },
    // The raw insert path, decoded back into row objects the way the engine would read them.
    async insertRaw(table: string, body: Buffer, raw: { columns?: readonly string[] }) {
      const rows = body
        .toString('utf8')
        .split('\n')
        .map((line) => Object.fromEntries(raw.columns!.map((c, i) => [c, JSON.parse(line)[i]])))
      await store.insert(table, rows)
    },
  } as unknown as Store
  return { store, calls, tables }
}

function fakeDlq(calls: string[]) {
  const sent: Message[] = []
  return {
    sent,
    sink: {
      async send(messages: Message[]) {
        calls.push('dlq')
        sent.push(...messages)
      },
    },
  }
}

const decoder = createDecoder({ maxMessageBytes: 1 << 20 })

describe('ingestBatch', () => {
  it('stores good rows, dead-letters poison, and sends to the DLQ before recording in ingest_errors', async () => {
    const { store, calls, tables } = fakeStore()
    const dlq = fakeDlq(calls)
    const result = await ingestBatch(ref, [good(0), message(1, Buffer.from('nope')), good(2)], new Set(), {
      store,
      decoder,
      deadLetters: dlq.sink,
    })
    expect(result).toMatchObject({ stored: 2, poisoned: 1, skipped: 0, reasons: { not_json: 1 } })
    expect(tables.interactions).toHaveLength(2)
    expect(tables.ingest_errors).toHaveLength(1)
    // A replay skips offsets found in ingest_errors: recording before sending could lose the DLQ copy.
    expect(calls).toEqual(['insert:interactions', 'dlq', 'insert:ingest_errors'])
  })

  it('skips offsets already stored by an earlier run', async () => {
    const { store, tables } = fakeStore()
    const result = await ingestBatch(ref, [good(0), good(1), good(2)], new Set([0, 1]), {
      store,
      decoder,
      deadLetters: fakeDlq([]).sink,
    })
    expect(result).toMatchObject({ stored: 1, skipped: 2 })
    expect(tables.interactions).toHaveLength(1)
  })

  it('finds the one row ClickHouse rejects by halving, stores the rest', async () => {
    const bad = syntheticInteraction(5, { seed: 9 }).request_id
    const { store, tables } = fakeStore({ rejectRequestId: bad })
    const dlq = fakeDlq([])
    const batch = Array.from({ length: 10 }, (_, i) => good(i))
    const result = await ingestBatch(ref, batch, new Set(), { store, decoder, deadLetters: dlq.sink })
    expect(result).toMatchObject({ stored: 9, poisoned: 1, reasons: { store_rejected: 1 } })
    expect(tables.interactions).toHaveLength(9)
    expect(dlq.sent).toHaveLength(1)
    expect(dlq.sent[0]!.headers![DLQ_HEADERS.offset]).toBe('5')
  })

  it('stores plain JSON (decoded at once) and framed messages (decoded later) with their own offsets, multi-byte text intact', async () => {
    const { store, tables } = fakeStore()
    const calls: string[] = []
    const dlq = fakeDlq(calls)
    // Odd offsets stand for framed messages: decodeNow leaves them to decode(); one of them is poison.
    const mixed = {
      decodeNow: (m: Pick<KafkaMessage, 'value' | 'headers'>, topic: string) =>
        m.headers?.framed ? undefined : decoder.decodeNow(m, topic),
      decode: async (m: Pick<KafkaMessage, 'value' | 'headers'>, topic: string) => {
        if (m.headers?.framed === 'bad') throw new PoisonMessageError('undecodable', 'bad frame')
        return decoder.decode({ value: m.value }, topic)
      },
    }
    // 4-byte UTF-8 characters: a line's bytes are not its string length (the Buffer is filled by bytes).
    const wide = (i: number) => ({ ...syntheticInteraction(i, { seed: 9 }), user_input: '🦀'.repeat(2000) })
    const batch = Array.from({ length: 8 }, (_, i) => {
      const m = message(i, interactionJsonBytes(wide(i)))
      if (i % 2 === 1) m.headers = { framed: i === 5 ? 'bad' : 'yes' }
      return m
    })
    const result = await ingestBatch(ref, batch, new Set(), { store, decoder: mixed, deadLetters: dlq.sink })
    expect(result).toMatchObject({ stored: 7, poisoned: 1, reasons: { undecodable: 1 } })
    const rows = tables.interactions as { kafka_offset: number; request_id: string; user_input: string }[]
    expect(rows.map((r) => r.kafka_offset).sort()).toEqual([0, 1, 2, 3, 4, 6, 7])
    for (const row of rows) {
      expect(row.request_id).toBe(wide(row.kafka_offset).request_id)
      expect(row.user_input).toBe('🦀'.repeat(2000))
    }
    expect(dlq.sent[0]!.headers![DLQ_HEADERS.offset]).toBe('5')
  })

  it('throws a retriable error during an outage and dead-letters nothing', async () => {
    const { store } = fakeStore({ down: true })
    const calls: string[] = []
    const dlq = fakeDlq(calls)
    await expect(
      ingestBatch(ref, [good(0), message(1, Buffer.from('nope'))], new Set(), {
        store,
        decoder,
        deadLetters: dlq.sink,
      }),
    ).rejects.toMatchObject({
      retriable: true,
    })
    expect(calls).toEqual([])
  })
})
