// Applies the numbered migrations in sql/migrations in order, once each, and records them
// in schema_migrations. Every statement is idempotent (IF NOT EXISTS), so a migration cut
// short by a crash is simply applied again.

import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { StoreError } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
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

/** Splits on `;` at the end of a line; comments (`--`) are dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean)
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
  await store.command(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree ORDER BY version`)
  const rows = await store.query<{ version: number }>('SELECT DISTINCT version FROM schema_migrations')
  const done = new Set(rows.map((r) => Number(r.version)))
  const applied: string[] = []
  for (const m of migrations) {
    if (done.has(m.version)) continue
    for (const statement of m.statements) await store.command(statement)
    await store.insert('schema_migrations', [{ version: m.version, name: m.name, checksum: m.checksum }])
    applied.push(`${String(m.version).padStart(3, '0')}_${m.name}`)
    log?.info('migration applied', { version: m.version, name: m.name })
  }
  return { applied, current: Math.max(0, ...migrations.map((m) => m.version)) }
}
