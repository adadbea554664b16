// POST /sql: ad hoc read-only SQL against the store this process owns. Read-only is
// enforced by ClickHouse's `readonly` setting on the session, not by inspecting the text.

import { z } from 'zod'
import { ConfigError } from '../lib/errors.ts'
import type { ReadOnlyFormat, Store } from '../store/store.ts'
import type { Route } from './http.ts'

export const SqlRequestSchema = z.object({
  query: z.string().min(1, 'query is empty'),
  format: z
    .enum(['JSONEachRow', 'JSONCompactEachRowWithNames', 'CSVWithNames', 'TabSeparatedWithNames'])
    .default('JSONEachRow'),
  params: z.record(z.string(), z.unknown()).optional(),
})

export function sqlRoute(store: Store): Route {
  return async (request) => {
    const parsed = SqlRequestSchema.safeParse(request.body)
    if (!parsed.success) {
      throw new ConfigError(
        `bad /sql request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      )
    }
    const { query, format, params } = parsed.data
    const text = await store.queryReadOnly(query, params, format as ReadOnlyFormat)
    return { status: 200, body: text, contentType: 'text/plain; charset=utf-8' }
  }
}
