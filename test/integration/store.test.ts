// The embedded store: migrations, deduplicated inserts, read-only ad hoc SQL, clear errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreError } from '../../lib/errors.ts'
import { migrate } from '../../store/migrate.ts'
import type { Store } from '../../store/store.ts'
import { createTestStore } from '../helpers/store.ts'

let store: Store

beforeAll(async () => {
  store = await createTestStore()
})
afterAll(async () => {
  await store.close()
})

const count = async (table: string) =>
  Number((await store.query<{ c: number }>(`SELECT count() AS c FROM ${table}`))[0]!.c)

describe('embedded store', () => {
  it('applies migrations once; a second run applies nothing', async () => {
    const again = await migrate(store)
    expect(again.applied).toEqual([])
    const versions = await store.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    )
    expect(versions.map((v) => v.version)).toEqual([...Array(again.current)].map((_, i) => i + 1))
  })

  it('stores a block once when it is inserted again with the same token', async () => {
    await store.command(
      'CREATE TABLE dedup_t (x UInt32) ENGINE = MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 100',
    )
    await store.insert('dedup_t', [{ x: 1 }, { x: 2 }], { dedupToken: 'batch-1' })
    await store.insert('dedup_t', [{ x: 1 }, { x: 2 }], { dedupToken: 'batch-1' })
    expect(await count('dedup_t')).toBe(2)
  })

  // chDB keeps SET values for the session's life: a token from one insert used to
  // silently drop the next insert without a token. Regression test.
  it('does not let one insert token swallow the next insert', async () => {
    await store.command(
      'CREATE TABLE leak_t (x UInt32) ENGINE = MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 100',
    )
    await store.insert('leak_t', [{ x: 1 }], { dedupToken: 'same' })
    await store.insert('leak_t', [{ x: 2 }])
    await store.insert('leak_t', [{ x: 3 }])
    expect(await count('leak_t')).toBe(3)
  })

  it('refuses writes from ad hoc SQL without making the writer read-only', async () => {
    await expect(store.queryReadOnly('INSERT INTO leak_t VALUES (9)')).rejects.toThrowError(/readonly/i)
    await expect(store.queryReadOnly('DROP TABLE leak_t')).rejects.toThrowError(/readonly/i)
    await store.insert('leak_t', [{ x: 4 }])
    expect(await count('leak_t')).toBe(4)
    expect(await store.queryReadOnly('SELECT count() AS c FROM leak_t', {}, 'CSVWithNames')).toBe('"c"\n4\n')
  })

  it("turns a bad query into a non-retriable StoreError with ClickHouse's message", async () => {
    const error = await store.query('SELECT * FROM no_such_table').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect((error as StoreError).retriable).toBe(false)
    expect((error as StoreError).message).toMatch(/no_such_table/)
  })

  it('binds typed query parameters', async () => {
    const rows = await store.query<{ s: string; n: number }>('SELECT {s:String} AS s, {n:UInt64} + 1 AS n', {
      s: "it's",
      n: 41,
    })
    expect(rows).toEqual([{ s: "it's", n: 42 }])
  })
})
