// fakes/: protocol-faithful local fakes (real sockets, real status codes and headers) shared by
// the tests (test/) and the benchmarks (bench/), which may not import each other. Never used by
// production code.
//
// A real local HTTP server (node:http, 127.0.0.1, port 0) that records every request and
// answers with programmable responses, standing in for PagerDuty, webhook receivers or any
// JSON endpoint. Real sockets, so timeouts, resets and headers behave as in production.

import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CapturedRequest {
  /** 0-based position among all requests this server received. */
  index: number
  method: string
  /** Path and query, e.g. `/v2/enqueue`. */
  path: string
  /** Lower-case names, as Node delivers them. */
  headers: IncomingHttpHeaders
  /** Raw body text, exactly as sent (signature checks need the raw bytes). */
  rawBody: string
  /** Parsed JSON body; undefined when empty or not JSON. */
  body: unknown
  receivedAt: Date
}

export interface CaptureResponse {
  status: number
  headers?: Record<string, string>
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown
  /** Wait before answering, to exercise client timeouts. */
  delayMs?: number
  /** Drop the connection without an answer, to exercise network-error handling. */
  destroy?: boolean
}

export type Responder = (request: CapturedRequest) => CaptureResponse | Promise<CaptureResponse>

export interface CaptureServerOptions {
  /** Answer for each request: a function, or a queue used in order (then `fallback`). */
  respond?: Responder | CaptureResponse[]
  /** Answer once a queue is used up (default 200 `{}`). */
  fallback?: Responder | CaptureResponse
}

export interface CaptureServer {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:43121`. */
  url: string
  /** Every request so far, in arrival order (live array). */
  requests: CapturedRequest[]
  /** Replace the answers for the requests still to come. */
  respondWith(respond: Responder | CaptureResponse[]): void
  /** Resolves once at least `count` requests arrived; rejects after `timeoutMs` (default 5 s). */
  waitForRequests(count: number, timeoutMs?: number): Promise<CapturedRequest[]>
  close(): Promise<void>
}

/** PagerDuty's success answer, echoing the request's dedup_key: `respondWith(pagerDutyAccepted)`. */
export const pagerDutyAccepted: Responder = (request) => ({
  status: 202,
  body: {
    status: 'success',
    message: 'Event processed',
    dedup_key: (request.body as { dedup_key?: string } | undefined)?.dedup_key,
  },
})

/** PagerDuty's rate-limit answer. Retry-After in seconds; omitted when undefined. */
export function pagerDutyRateLimited(retryAfterSec?: number): CaptureResponse {
  return {
    status: 429,
    headers: retryAfterSec === undefined ? {} : { 'retry-after': String(retryAfterSec) },
    body: { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' },
  }
}

/** PagerDuty's answer to an invalid event, e.g. `pagerDutyInvalid(["'summary' is too long ..."])`. */
export function pagerDutyInvalid(errors: string[]): CaptureResponse {
  return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } }
}

export async function startCaptureServer(options: CaptureServerOptions = {}): Promise<CaptureServer> {
  const requests: CapturedRequest[] = []
  // Copied: the queue is consumed, and the caller's array should stay as written.
  let respond: Responder | CaptureResponse[] = Array.isArray(options.respond)
    ? [...options.respond]
    : (options.respond ?? [])
  const fallback = options.fallback ?? { status: 200, body: {} }
  const waiters = new Set<() => void>()

  const next = async (request: CapturedRequest): Promise<CaptureResponse> => {
    if (typeof respond === 'function') return respond(request)
    const queued = respond.shift()
    if (queued) return queued
    return typeof fallback === 'function' ? fallback(request) : fallback
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8')
      const request: CapturedRequest = {
        index: requests.length,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        rawBody,
        body: parseJson(rawBody),
        receivedAt: new Date(),
      }
      requests.push(request)
      for (const wake of waiters) wake()
      try {
        await answer(res, await next(request))
      } catch (error) {
        // A throwing responder is a test bug; answer 500 so the client side sees something.
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error))
      }
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(value) {
      respond = Array.isArray(value) ? [...value] : value
    },
    waitForRequests(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return
          cleanup()
          resolve(requests)
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`capture server: ${requests.length} of ${count} requests after ${timeoutMs} ms`))
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    close() {
      return new Promise((resolve, reject) => {
        // Keep-alive sockets from fetch would otherwise hold close() open until they time out.
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      })
    },
  }
}

async function answer(res: ServerResponse, response: CaptureResponse): Promise<void> {
  if (response.delayMs) await new Promise((resolve) => setTimeout(resolve, response.delayMs))
  if (response.destroy) {
    res.socket?.destroy()
    return
  }
  const isText = typeof response.body === 'string'
  const payload =
    response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body)
  const headers: Record<string, string> = { ...response.headers }
  if (payload !== '' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = isText ? 'text/plain' : 'application/json'
  }
  res.writeHead(response.status, headers).end(payload)
}

function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
