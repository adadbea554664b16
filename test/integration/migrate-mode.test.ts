// A database migrated for a single server is never migrated with clickhouse.cluster: the
// real schema_migrations engine, read from system.tables, says how it was migrated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.ts'
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

describe('migrate: one mode per database', () => {
  it('refuses the cluster variant on a database migrated for a single server, and changes nothing', async () => {
    const tables = async () =>
      (
        await store.query<{ name: string }>(
          'SELECT name FROM system.tables WHERE database = currentDatabase()',
        )
      ).length
    const before = await tables()
    // The same store seen as a server with clickhouse.cluster set (the embedded one refuses a cluster).
    const asCluster: Store = { ...store, kind: 'server', cluster: 'prod' }
    const error = await migrate(asCluster).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toMatch(
      /database \w+ was migrated for a single server \(schema_migrations is ReplacingMergeTree\); clickhouse\.cluster = prod would leave its tables on one node/,
    )
    expect((error as ConfigError).fix).toMatch(/point clickhouse\.database at a new database/)
    expect(await tables()).toBe(before)
    expect((await migrate(store)).applied).toEqual([])
  })
})
