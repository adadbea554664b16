// HTTP routes of the deployments history, served by the process that owns the store, so
// that `driftwatch deploy ...` can write while `driftwatch start` holds the embedded store.
// Thin: validate the request, call deploy/deployments.ts, return its result as JSON.

import { z } from 'zod'
import { storeDeployments } from '../deploy/api.ts'
import { MARK_PATHS } from '../deploy/http-client.ts'
import { MARK_STATUSES } from '../deploy/status.ts'
import { ConfigError } from '../lib/errors.ts'
import type { Store } from '../store/store.ts'
import type { HttpRequest, Route } from './http.ts'

export const MarkRequestSchema = z
  .object({
    version: z.string().min(1, 'version is empty'),
    note: z.string().max(10_000).optional(),
    by: z.string().max(200).optional(),
    force: z.boolean().optional(),
  })
  .strict()

/**
 * GET /deployments, GET /deployments/history[?version=], GET /deployments/last-stable[?excluding=],
 * POST /deployments/detect, POST /deployments/mark-stable | mark-rolled-back | mark-retired
 * with {version, note?, by?, force?}.
 */
export function deploymentRoutes(store: Store): Record<string, Route> {
  const api = storeDeployments(store)
  const routes: Record<string, Route> = {
    'GET /deployments': async () => ok({ deployments: await api.list() }),
    'GET /deployments/history': async (request) =>
      ok({ changes: await api.history(request.query.get('version') ?? undefined) }),
    'GET /deployments/last-stable': async (request) =>
      ok({ deployment: (await api.lastStable(request.query.get('excluding') ?? undefined)) ?? null }),
    'POST /deployments/detect': async () => ok({ detected: await api.detect() }),
  }
  for (const status of MARK_STATUSES) {
    routes[`POST ${MARK_PATHS[status]}`] = async (request) => {
      const { version, ...rest } = parseMark(request)
      return ok(await api.mark(version, status, rest))
    }
  }
  return routes
}

function parseMark(request: HttpRequest): z.infer<typeof MarkRequestSchema> {
  const parsed = MarkRequestSchema.safeParse(request.body)
  if (!parsed.success) {
    throw new ConfigError(
      `bad ${request.path} request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
      {
        fix: 'send JSON {"version": "v2", "note": "...", "force": false}',
      },
    )
  }
  return parsed.data
}

function ok(body: unknown) {
  return { status: 200, body }
}
