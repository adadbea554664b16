// Applies the numbered migrations in sql/migrations in order, once each, and records them
// in schema_migrations. Every statement is idempotent (IF NOT EXISTS), so a migration cut
// short by a crash is simply applied again. With clickhouse.cluster set (store.cluster), the
// cluster variant of every statement is applied instead (store/cluster-ddl.ts).

import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, StoreError } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import {
  type ClusterTarget,
  clusterDatabaseStatement,
  clusterStatements,
  embeddedClusterError,
} from './cluster-ddl.ts'
import { splitStatementTexts } from './sql-tokens.ts'
import type { Store } from './store.ts'

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'sql', 'migrations')

export interface Migration {
  version: number
  name: string
  statements: string[]
  checksum: string
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = /^(\d+)_([\w-]+)\.sql$/.exec(file)
      if (!match) throw new StoreError('MIGRATION_NAME', `migration file ${file} must be named NNN_name.sql`)
      const text = readFileSync(join(dir, file), 'utf8')
      return {
        version: Number(match[1]),
        name: match[2]!,
        statements: splitStatements(text),
        checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
      }
    })
  const versions = new Set<number>()
  for (const m of migrations) {
    if (versions.has(m.version))
      throw new StoreError('MIGRATION_VERSION', `two migrations share version ${m.version}`)
    versions.add(m.version)
  }
  return migrations
}

/** Splits at `;` outside strings, quoted names and comments; comments are dropped. */
export function splitStatements(sql: string): string[] {
  return splitStatementTexts(sql)
}

/** The bookkeeping table, created before the first migration (migrations cannot record themselves). */
export const SCHEMA_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree ORDER BY version`

/**
 * What runs before the migrations: the bookkeeping table and, on a cluster, the database on
 * every node (the store creates it on the node it talks to only).
 */
export function preludeStatements(target?: ClusterTarget): string[] {
  if (!target) return [SCHEMA_MIGRATIONS_TABLE]
  return [clusterDatabaseStatement(target), ...clusterStatements(SCHEMA_MIGRATIONS_TABLE, target)]
}

/**
 * The migrations as they are applied: as written, or their cluster variant (same versions,
 * names and checksums, so the bookkeeping is the same). Pure, and done for every migration
 * before any is applied: a statement without a cluster form fails before anything changed.
 */
export function planMigrations(migrations: Migration[], target?: ClusterTarget): Migration[] {
  if (!target) return migrations
  return migrations.map((m) => {
    try {
      return { ...m, statements: m.statements.flatMap((s) => clusterStatements(s, target)) }
    } catch (error) {
      if (!(error instanceof StoreError)) throw error
      throw new StoreError(error.code, `migration ${migrationLabel(m)}: ${error.message}`, {
        fix: error.fix,
        cause: error,
      })
    }
  })
}

/**
 * Every statement `migrate` would run on an empty database, with the bookkeeping inserts, as a
 * script for clickhouse-client --multiquery: `driftwatch migrate --print`.
 */
export function migrationScript(migrations: Migration[], target?: ClusterTarget): string {
  const lines = [
    target
      ? `-- driftwatch migrations, cluster variant for cluster ${target.cluster}, database ${target.database}`
      : '-- driftwatch migrations, single server',
    ...preludeStatements(target).map((s) => `${s};`),
  ]
  for (const m of planMigrations(migrations, target)) {
    lines.push('', `-- ${migrationLabel(m)} (checksum ${m.checksum})`, ...m.statements.map((s) => `${s};`))
    lines.push(
      `INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, '${m.name}', '${m.checksum}');`,
    )
  }
  return `${lines.join('\n')}\n`
}

function migrationLabel(m: Migration): string {
  return `${String(m.version).padStart(3, '0')}_${m.name}`
}

export interface MigrateResult {
  applied: string[]
  current: number
}

export async function migrate(
  store: Store,
  log?: Logger,
  migrations = loadMigrations(),
): Promise<MigrateResult> {
  const target = clusterTarget(store)
  const plan = planMigrations(migrations, target)
  await checkSameMode(store, target)
  for (const statement of preludeStatements(target)) await store.command(statement)
  const rows = await store.query<{ version: number }>('SELECT DISTINCT version FROM schema_migrations')
  const done = new Set(rows.map((r) => Number(r.version)))
  const applied: string[] = []
  for (const m of plan) {
    if (done.has(m.version)) continue
    for (const statement of m.statements) await store.command(statement)
    await store.insert('schema_migrations', [{ version: m.version, name: m.name, checksum: m.checksum }])
    applied.push(migrationLabel(m))
    log?.info('migration applied', { version: m.version, name: m.name, cluster: target?.cluster })
  }
  return { applied, current: Math.max(0, ...migrations.map((m) => m.version)) }
}

function clusterTarget(store: Store): ClusterTarget | undefined {
  if (!store.cluster) return undefined
  if (store.kind === 'embedded') throw embeddedClusterError(store.cluster)
  return { cluster: store.cluster, database: store.database }
}

/**
 * A database migrated one way is never migrated the other: single-server tables on one node of
 * a cluster, or a new migration created on one node only, would each silently lose rows.
 * schema_migrations' engine says how the database was migrated.
 */
async function checkSameMode(store: Store, target: ClusterTarget | undefined): Promise<void> {
  const rows = await store.query<{ engine: string }>(
    "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'",
  )
  const engine = rows[0]?.engine
  if (engine === undefined) return
  const replicated = engine.startsWith('Replicated')
  if (target && !replicated) {
    throw new ConfigError(
      `database ${store.database} was migrated for a single server (schema_migrations is ${engine}); clickhouse.cluster = ${target.cluster} would leave its tables on one node`,
      {
        fix: 'point clickhouse.database at a new database for the cluster (and copy the data over), or remove clickhouse.cluster',
      },
    )
  }
  if (!target && replicated) {
    throw new ConfigError(
      `database ${store.database} was migrated for a cluster (schema_migrations is ${engine}), but clickhouse.cluster is not set`,
      { fix: "set clickhouse.cluster to the cluster's name, so new migrations reach every node" },
    )
  }
}
