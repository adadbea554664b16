// The local HTTP endpoint of a running driftwatch process. Bound to localhost by default.
// It lets read commands (`driftwatch sql`) reach the store that this process owns, and is
// where deploy controllers poll verdicts. Routes are passed in: this file only serves.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DriftwatchError, errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import {
  type AuthSettings,
  allowedHosts,
  allowedOrigins,
  type BindConfig,
  decide,
  type Policy,
  type Role,
} from './auth.ts'

export interface HttpRequest {
  method: string
  path: string
  query: URLSearchParams
  body: unknown
  headers: IncomingMessage['headers']
  /** Who the request was authenticated as (anonymous: a public route, or a local-mode read). */
  role: Role | 'anonymous'
}

export interface HttpResponse {
  status: number
  body: unknown
  contentType?: string
  headers?: Record<string, string>
}

export type Route = (request: HttpRequest) => Promise<HttpResponse>

export interface LocalServer {
  url: string
  close(): Promise<void>
}

const MAX_BODY = 1024 * 1024

export async function startLocalServer(options: {
  host: string
  port: number
  routes: Record<string, Route>
  log: Logger
  /** Tokens (server/auth.ts resolveAuth). */
  auth: AuthSettings
  /** Host header names and write origins accepted besides the bound address's own. */
  allowedHosts?: string[]
  allowedOrigins?: string[]
}): Promise<LocalServer> {
  let policy: Policy | undefined
  const server = createServer((req, res) => {
    handle(req, res, options.routes, policy!).catch((error) => {
      options.log.error('http handler failed', { error: errorMessage(error) })
      send(res, { status: 500, body: { error: errorMessage(error) } })
    })
  })
  await listen(server, options.host, options.port)
  const address = server.address() as AddressInfo
  const bind: BindConfig = {
    host: options.host,
    allowed_hosts: options.allowedHosts ?? [],
    allowed_origins: options.allowedOrigins ?? [],
  }
  policy = {
    settings: options.auth,
    hosts: allowedHosts(bind, address.port),
    origins: allowedOrigins(bind, address.port),
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Record<string, Route>,
  policy: Policy,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const method = req.method ?? 'GET'
  const decision = decide(policy, { method, path: url.pathname, headers: req.headers })
  if (!decision.allowed) {
    // Refused before the body is read: a refused write changes nothing.
    send(res, {
      status: decision.status,
      body: {
        error: decision.error,
        code: decision.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN',
        fix: decision.fix,
      },
      headers: decision.status === 401 ? { 'www-authenticate': 'Bearer' } : undefined,
    })
    req.resume()
    return
  }
  const route = routes[`${method} ${url.pathname}`] ?? prefixRoute(routes, method, url.pathname)
  if (!route) {
    send(res, {
      status: 404,
      body: { error: `no route ${req.method} ${url.pathname}`, routes: Object.keys(routes) },
    })
    return
  }
  let body: unknown
  if (req.method === 'POST') {
    const text = await readBody(req)
    try {
      body = text ? JSON.parse(text) : {}
    } catch {
      send(res, { status: 400, body: { error: 'request body is not JSON' } })
      return
    }
  }
  try {
    send(
      res,
      await route({
        method,
        path: url.pathname,
        query: url.searchParams,
        body,
        headers: req.headers,
        role: decision.role,
      }),
    )
  } catch (error) {
    const status = error instanceof DriftwatchError && !error.retriable ? 400 : 500
    const code = error instanceof DriftwatchError ? error.code : 'INTERNAL'
    send(res, {
      status,
      body: {
        error: errorMessage(error),
        code,
        fix: error instanceof DriftwatchError ? error.fix : undefined,
      },
    })
  }
}

function send(res: ServerResponse, response: HttpResponse): void {
  if (res.headersSent) return
  const text =
    typeof response.body === 'string' || Buffer.isBuffer(response.body)
      ? response.body
      : JSON.stringify(response.body)
  res.writeHead(response.status, {
    'content-type': response.contentType ?? 'application/json; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    ...response.headers,
  })
  res.end(text)
}

/** A route registered as `GET /assets/*` serves every path under /assets/. */
function prefixRoute(routes: Record<string, Route>, method: string, path: string): Route | undefined {
  for (const [key, route] of Object.entries(routes)) {
    if (!key.endsWith('/*')) continue
    const [m, prefix] = key.slice(0, -1).split(' ')
    if (m === method && prefix && path.startsWith(prefix)) return route
  }
  return undefined
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) {
        reject(new DriftwatchError('HTTP_BODY_TOO_LARGE', `request body over ${MAX_BODY} bytes`))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new DriftwatchError('HTTP_PORT_IN_USE', `port ${host}:${port} is already in use`, {
            fix: 'set server.port in driftwatch.yaml or DRIFTWATCH_HTTP_PORT to a free port (0 picks one)',
          }),
        )
      } else reject(error)
    })
    server.listen(port, host, () => resolve())
  })
}
