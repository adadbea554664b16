// Runs a saved query on a store this process holds, read-only (ClickHouse's `readonly`).
// The CLI goes through runReadOnly instead (it may have to ask the running instance);
// this is for tests and for code that already has a store.

import type { ReadOnlyFormat, Store } from '../store/store.ts'
import { bindParams } from './params.ts'
import type { SavedQuery } from './saved-query.ts'

export interface RunSavedQueryOptions {
  format?: ReadOnlyFormat
  now?: number
}

export function runSavedQuery(
  store: Store,
  query: SavedQuery,
  raw: Readonly<Record<string, string>> = {},
  options: RunSavedQueryOptions = {},
): Promise<string> {
  return store.queryReadOnly(
    query.sql,
    bindParams(query, raw, options.now ?? Date.now()),
    options.format ?? 'JSONEachRow',
  )
}

/** JSONEachRow text → rows. */
export function parseJsonEachRow<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T)
}
