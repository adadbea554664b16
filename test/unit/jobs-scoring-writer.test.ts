// The results writer of a scoring run (jobs/scoring-writer.ts): batches by size and by age,
// flushes the rest at the end, spend first, one dedup token per batch and table, and a failed
// write stops further writes and is rethrown by flush(). The store side is a recorder of
// insert calls (the writer uses nothing else), so the order and content of writes are exact.
import { describe, expect, it } from 'vitest'
import { createResultsWriter } from '../../jobs/scoring-writer.ts'
import { createSpendLedger } from '../../jobs/spend.ts'

interface Insert {
  table: string
  rows: readonly object[]
  token: string | undefined
}

function recorder(fail?: (table: string) => boolean) {
  const inserts: Insert[] = []
  return {
    inserts,
    async insert(table: string, rows: readonly object[], options?: { dedupToken?: string }) {
      await new Promise((resolve) => setImmediate(resolve))
      if (fail?.(table)) throw new Error(`insert into ${table} failed`)
      inserts.push({ table, rows, token: options?.dedupToken })
    },
  }
}

function setup(options: { batchSize?: number; fail?: (table: string) => boolean } = {}) {
  let clock = 0
  const store = recorder(options.fail)
  const ledger = createSpendLedger('judge', 'judge@1', 'run-1')
  const writer = createResultsWriter({
    store,
    runId: 'run-1',
    ledger,
    batchSize: options.batchSize ?? 3,
    flushIntervalMs: 1000,
    now: () => clock,
  })
  return { store, ledger, writer, advance: (ms: number) => (clock += ms) }
}

const score = (id: string) => ({ scores: [{ request_id: id }] })

describe('results writer', () => {
  it('writes nothing before a batch is full, then one batch per table with its own token', async () => {
    const { store, writer } = setup()
    writer.add(score('a'))
    writer.add({ failures: [{ request_id: 'b' }] })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(store.inserts).toEqual([])
    writer.add({ ...score('c'), review: [{ request_id: 'c' }] })
    await writer.flush()
    expect(store.inserts.filter((i) => i.rows.length > 0)).toEqual([
      { table: 'scores', rows: [{ request_id: 'a' }, { request_id: 'c' }], token: 'scores:run-1:1' },
      { table: 'scoring_failures', rows: [{ request_id: 'b' }], token: 'scoring_failures:run-1:1' },
      { table: 'review_queue', rows: [{ request_id: 'c' }], token: 'review_queue:run-1:1' },
    ])
  })

  it('writes a batch that is old enough even when it is small, and the rest on flush()', async () => {
    const { store, writer, advance } = setup({ batchSize: 100 })
    writer.add(score('a'))
    advance(1000)
    writer.add(score('b'))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(store.inserts.find((i) => i.table === 'scores')).toMatchObject({ token: 'scores:run-1:1' })
    writer.add(score('c'))
    await writer.flush()
    const scores = store.inserts.filter((i) => i.table === 'scores')
    expect(scores.map((i) => [i.token, i.rows])).toEqual([
      ['scores:run-1:1', [{ request_id: 'a' }, { request_id: 'b' }]],
      ['scores:run-1:2', [{ request_id: 'c' }]],
    ])
  })

  it('writes the spend ledger before the scores it paid for', async () => {
    const { store, ledger, writer } = setup({ batchSize: 1 })
    ledger.add({ promptTokens: 10, completionTokens: 2 }, 0.5, Date.parse('2026-03-01T00:00:00Z'))
    writer.add(score('a'))
    await writer.flush()
    expect(store.inserts.map((i) => i.table)).toEqual([
      'scoring_spend',
      'scores',
      'scoring_failures',
      'review_queue',
    ])
    expect(store.inserts[0]!.rows).toMatchObject([{ day: '2026-03-01', requests: 1, cost_usd: 0.5 }])
  })

  it('after a failed write stops writing, says so, and flush() throws it', async () => {
    const { store, writer } = setup({ batchSize: 1, fail: (table) => table === 'scores' })
    writer.add(score('a'))
    await expect(writer.flush()).rejects.toThrow(/insert into scores failed/)
    expect(writer.failed()).toBe(true)
    writer.add(score('b'))
    await expect(writer.flush()).rejects.toThrow(/insert into scores failed/)
    expect(store.inserts.filter((i) => i.table !== 'scoring_spend')).toEqual([])
  })
})
