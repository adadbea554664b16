// A store for one test file: the embedded engine in one folder per worker process (chDB
// allows one per process) and a fresh database per call, so tests never see each other's rows.

import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../config/load.ts'
import { migrate } from '../../store/migrate.ts'
import { createStore, type Store } from '../../store/store.ts'

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
