// POST /sql: ad hoc read-only SQL against the store this process owns. Read-only is
// enforced by ClickHouse's `readonly` setting on the session, not by inspecting the text;
// time, memory and result size by the server.sql settings on that same session (set
// before readonly, so a query cannot lift them). A cap on concurrent queries keeps a
// dashboard user from queueing enough of them to crowd out ingestion.

import { z } from 'zod'
import type { Config } from '../config/schema.ts'
import { ConfigError, DriftwatchError, StoreError } from '../lib/errors.ts'
import type { ReadOnlyFormat, Store } from '../store/store.ts'
import type { HttpResponse, Route } from './http.ts'

export const SqlRequestSchema = z.object({
  query: z.string().min(1, 'query is empty'),
  format: z
    .enum(['JSONEachRow', 'JSONCompactEachRowWithNames', 'CSVWithNames', 'TabSeparatedWithNames'])
    .default('JSONEachRow'),
  params: z.record(z.string(), z.unknown()).optional(),
})

/** ClickHouse error types of a limit being hit, with the status and the key that sets it. */
const LIMIT_ERRORS: Record<string, { status: number; key: string }> = {
  STORE_TIMEOUT_EXCEEDED: { status: 408, key: 'server.sql.max_execution_time' },
  STORE_MEMORY_LIMIT_EXCEEDED: { status: 413, key: 'server.sql.max_memory_usage' },
  STORE_TOO_MANY_ROWS_OR_BYTES: { status: 413, key: 'server.sql.max_result_rows / max_result_bytes' },
}

export function sqlRoute(store: Store, limits: Config['server']['sql']): Route {
  let running = 0
  return async (request) => {
    const parsed = SqlRequestSchema.safeParse(request.body)
    if (!parsed.success) {
      throw new ConfigError(
        `bad /sql request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      )
    }
    if (running >= limits.max_concurrent_queries) {
      return limitHit(
        429,
        'SQL_TOO_MANY_QUERIES',
        `${running} queries are already running (server.sql.max_concurrent_queries = ${limits.max_concurrent_queries})`,
        'wait for them to finish, or raise server.sql.max_concurrent_queries',
      )
    }
    const { query, format, params } = parsed.data
    running++
    try {
      const text = await store.queryReadOnly(query, params, format as ReadOnlyFormat)
      return { status: 200, body: text, contentType: 'text/plain; charset=utf-8' }
    } catch (error) {
      const limit = error instanceof StoreError ? LIMIT_ERRORS[error.code] : undefined
      if (limit && error instanceof DriftwatchError) {
        return limitHit(
          limit.status,
          error.code.replace(/^STORE_/, 'SQL_'),
          `query stopped by a limit: ${error.message}`,
          `narrow the time range or add LIMIT; the limit is ${limit.key}`,
        )
      }
      throw error
    } finally {
      running--
    }
  }
}

function limitHit(status: number, code: string, error: string, fix: string): HttpResponse {
  return { status, body: { error, code, fix } }
}
