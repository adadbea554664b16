// Finds the saved investigation queries: the ones shipped in sql/queries, plus any folders
// a user adds (`driftwatch query --dir DIR`). One file per query, named after it.

import { readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '../lib/errors.ts'
import { metricQueries } from './metric-queries.ts'
import { parseSavedQuery, QUERY_NAME, type SavedQuery, SavedQueryError } from './saved-query.ts'

export const QUERIES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'sql', 'queries')

/**
 * The queries rendered from the metric registry (metric-queries.ts) and every `*.sql` of the
 * folders, sorted by name; a name defined twice is an error.
 */
export function loadSavedQueries(dirs: readonly string[] = [QUERIES_DIR]): SavedQuery[] {
  const byName = new Map<string, SavedQuery>(metricQueries().map((q) => [q.name, q]))
  for (const dir of dirs) {
    let files: string[]
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.sql'))
    } catch (error) {
      throw new ConfigError(`cannot read the saved query folder ${dir}: ${(error as Error).message}`, {
        fix: 'pass an existing folder of .sql files',
      })
    }
    for (const file of files.sort()) {
      const path = join(dir, file)
      const stem = basename(file, '.sql')
      if (!QUERY_NAME.test(stem)) {
        throw new SavedQueryError(
          `${path}: file name must be lowercase letters, digits and dashes`,
          'rename it, e.g. worst-scopes.sql',
        )
      }
      const query = parseSavedQuery(readFileSync(path, 'utf8'), path)
      if (query.name !== stem) {
        throw new SavedQueryError(
          `${path}: its header names it ${query.name}, its file ${stem}`,
          `make them equal: \`-- name: ${stem}\``,
        )
      }
      const other = byName.get(query.name)
      if (other)
        throw new SavedQueryError(
          `saved query ${query.name} is defined twice: ${other.file} and ${path}`,
          'rename one of them',
        )
      byName.set(query.name, query)
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))
}

export function findSavedQuery(queries: readonly SavedQuery[], name: string): SavedQuery {
  const query = queries.find((q) => q.name === name)
  if (!query) {
    throw new ConfigError(`no saved query named ${JSON.stringify(name)}`, {
      fix: `run \`driftwatch query\` to list them; known: ${queries.map((q) => q.name).join(', ')}`,
    })
  }
  return query
}
