// A store for one test file: the embedded engine in one folder per worker process (chDB
// allows one per process) and a fresh database per call, so tests never see each other's rows.
// faultyStore wraps one to answer errors on demand (the store-fault tests).

import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClickHouseError } from '@clickhouse/client'
import { parseConfig } from '../../config/load.ts'
import { toStoreError } from '../../store/errors.ts'
import { migrate } from '../../store/migrate.ts'
import { createStore, type QueryParams, type Store } from '../../store/store.ts'

export function testDataDir(): string {
  return process.env.DRIFTWATCH_TEST_DATA_DIR ?? join(tmpdir(), `driftwatch-test-${process.pid}`)
}

export function testDatabase(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}

export async function createTestStore(
  options: { database?: string; migrate?: boolean } = {},
): Promise<Store> {
  const config = parseConfig({
    clickhouse: { data_dir: testDataDir(), database: options.database ?? testDatabase() },
  })
  const store = await createStore(config.clickhouse)
  if (options.migrate ?? true) await migrate(store)
  return store
}

/**
 * How one call of a faultyStore fails: `before`, nothing is done; `after`, it is done, then
 * answers the error (a timeout after the server stored the rows); `slowMs`, it is done
 * after that long (an engine too busy to answer in time).
 */
export type StoreFault =
  | {
      when: 'before' | 'after'
      /** What the engine or the network threw; mapped by toStoreError as the real store maps it. */
      error: () => unknown
    }
  | { slowMs: number }

export type StoreCall = 'query' | 'insert' | 'insertRaw'

export interface FaultyStore extends Store {
  /** Calls that failed, of those the ones that had been done first, and calls slowed down. */
  readonly faults: { failed: number; doneThenFailed: number; slowed: number }
}

/**
 * `real`, except that each query, insert and insertRaw first asks `fault(call, table)`:
 * undefined lets the call through, a StoreFault makes it fail. The store answering errors
 * for a while is a `fault` that answers one while a flag is set.
 */
export function faultyStore(
  real: Store,
  fault: (call: StoreCall, table: string | undefined) => StoreFault | undefined,
): FaultyStore {
  const faults = { failed: 0, doneThenFailed: 0, slowed: 0 }
  const guarded =
    <A extends unknown[], R>(
      call: StoreCall,
      fn: (...args: A) => Promise<R>,
      table: (...args: A) => string | undefined,
    ) =>
    async (...args: A): Promise<R> => {
      const f = fault(call, table(...args))
      if (f === undefined) return fn(...args)
      if ('slowMs' in f) {
        faults.slowed++
        await new Promise((resolve) => setTimeout(resolve, f.slowMs))
        return fn(...args)
      }
      faults.failed++
      if (f.when === 'after') {
        await fn(...args)
        faults.doneThenFailed++
      }
      throw toStoreError(f.error())
    }
  return {
    ...real,
    faults,
    query: guarded(
      'query',
      (sql: string, params?: QueryParams) => real.query(sql, params),
      () => undefined,
    ) as Store['query'],
    insert: guarded('insert', real.insert.bind(real), (table) => table),
    insertRaw: guarded('insertRaw', real.insertRaw.bind(real), (table) => table),
  }
}

/** A ClickHouse exception as @clickhouse/client parses it from the server's or chDB's answer. */
export function clickHouseException(code: number, type: string, message: string): ClickHouseError {
  return new ClickHouseError({
    code: String(code),
    type,
    message: `Code: ${code}. DB::Exception: ${message}. (${type})`,
  })
}

/** What @clickhouse/client throws when a request outlives request_timeout. */
export function clientTimeout(): Error {
  return new Error('Timeout error.')
}
