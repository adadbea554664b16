// The deployments API of a running driftwatch instance, over its local HTTP endpoint
// (routes in server/deploy-routes.ts). Used by the CLI when another process owns the
// embedded store. Errors come back as the same typed errors the store side throws.

import { ConfigError, DriftwatchError } from '../lib/errors.ts'
import type { DeploymentsApi } from './api.ts'
import { DeploymentError, isDeploymentErrorCode } from './errors.ts'
import type { Deployment, DeploymentChange, MarkResult, MarkStatus } from './status.ts'

export const MARK_PATHS: Record<MarkStatus, string> = {
  stable: '/deployments/mark-stable',
  rolled_back: '/deployments/mark-rolled-back',
  retired: '/deployments/mark-retired',
}

export function httpDeployments(
  baseUrl: string,
  fetchFn: typeof fetch = fetch,
  /** e.g. the Authorization header of the admin or local token. */
  headers: Record<string, string> = {},
): DeploymentsApi {
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    let response: Response
    try {
      response = await fetchFn(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch (error) {
      throw new DriftwatchError(
        'INSTANCE_UNREACHABLE',
        `the running driftwatch instance at ${baseUrl} did not answer`,
        {
          retriable: true,
          cause: error,
          fix: 'check that `driftwatch start` (or ingest) is still running, or stop it and run the command again',
        },
      )
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = { error: text }
    }
    if (response.ok) return parsed as T
    throw remoteError(response.status, parsed)
  }
  return {
    detect: async () => (await call<{ detected: Deployment[] }>('POST', '/deployments/detect', {})).detected,
    list: async () => (await call<{ deployments: Deployment[] }>('GET', '/deployments')).deployments,
    history: async (version) =>
      (
        await call<{ changes: DeploymentChange[] }>(
          'GET',
          `/deployments/history${version ? `?version=${encodeURIComponent(version)}` : ''}`,
        )
      ).changes,
    mark: (version, status, request = {}) =>
      call<MarkResult>('POST', MARK_PATHS[status], { version, ...request }),
    lastStable: async (excluding) =>
      (
        await call<{ deployment: Deployment | null }>(
          'GET',
          `/deployments/last-stable${excluding ? `?excluding=${encodeURIComponent(excluding)}` : ''}`,
        )
      ).deployment ?? undefined,
  }
}

/** The server's {error, code, fix} back into the class the store side threw. */
function remoteError(status: number, body: unknown): DriftwatchError {
  const { error, code, fix } = (body ?? {}) as { error?: string; code?: string; fix?: string }
  const message = error ?? `HTTP ${status}`
  if (isDeploymentErrorCode(code)) return new DeploymentError(code, message, { fix })
  if (code === 'CONFIG') return new ConfigError(message, { fix })
  return new DriftwatchError(code ?? 'HTTP', message, { fix, retriable: status >= 500 })
}
