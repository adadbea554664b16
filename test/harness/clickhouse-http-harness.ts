// A TEST HARNESS for driftwatch's ClickHouse server path: the embedded engine (chDB) in its own
// process behind ClickHouse's HTTP interface, so server-mode code (CLICKHOUSE_URL, several
// processes on one store) can be tested where no ClickHouse server can be installed. It is
// not a product and not a ClickHouse server: one data folder, users from the command line,
// results buffered whole (as with wait_end_of_query=1), no progress headers, no HTTPS.
//
// What it does as the server does (HTTPHandler.cpp): GET ?query= (read-only, readonly=2) and
// POST (query in the body, or in the URL with the rows of `INSERT ... FORMAT X` in the body);
// settings, `database`, `default_format`, `query_id`, `session_id`, `param_*` as URL parameters
// (unknown settings fail with UNKNOWN_SETTING); X-ClickHouse-Query-Id/-Format/-Timezone/
// -Summary/-Server-Display-Name headers; errors as `Code: N. DB::Exception: ... (NAME)
// (version V)` with X-ClickHouse-Exception-Code and the server's status per code; gzip /
// deflate / br request bodies; compressed responses with enable_http_compression=1; Basic auth,
// X-ClickHouse-User/Key or user/password parameters (wrong password: 516, HTTP 403); /ping.
//
//   node --import tsx test/harness/clickhouse-http-harness.ts --port 0 --path DIR [--user NAME:PASSWORD ...]
//        [--exit-on-stdin-close]
// prints one JSON line {"url": "http://127.0.0.1:PORT", "pid": N, "version": "..."} once it listens.

import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { hostname } from 'node:os'
import { parseArgs } from 'node:util'
import {
  brotliCompressSync,
  brotliDecompressSync,
  deflateSync,
  gunzipSync,
  gzipSync,
  inflateSync,
} from 'node:zlib'
import { Session } from 'chdb'
import {
  authenticationFailed,
  contentTypeForFormat,
  exceptionText,
  fullQuery,
  HttpQueryError,
  httpStatusForException,
  insertTarget,
  parseEngineError,
  parseRequestParams,
  queryFormat,
  type RequestParams,
  requestCredentials,
  responseEncoding,
  type Summary,
  secondStatementAt,
  summaryHeader,
  unescapeParam,
} from './http-protocol.ts'

export interface HarnessOptions {
  /** The engine's data folder (one per process, as chDB allows). */
  path: string
  port?: number
  host?: string
  /** user → password; default { default: '' }. */
  users?: Record<string, string>
}

export interface Harness {
  readonly url: string
  readonly version: string
  close(): Promise<void>
}

interface HttpSession {
  session: Session
  busy: boolean
  timer: NodeJS.Timeout | undefined
  /** Server defaults not yet applied (a new session). */
  fresh: boolean
}

// Settings whose default in chDB differs from clickhouse-server's: set back to the server's
// for every new session, so clients see what a server sends (UInt64 in JSON as strings).
const SERVER_DEFAULTS = 'SET output_format_json_quote_64bit_integers = 1, implicit_select = 0'

const DEFAULT_SESSION_TIMEOUT_SEC = 60
const MAX_URI_SIZE = 1024 * 1024

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  mkdirSync(options.path, { recursive: true })
  const users = options.users ?? { default: '' }
  // A long-lived session holds the folder open; every request without session_id gets a new
  // session of its own (cheap on an open folder), so its settings and USE die with it.
  const root = new Session(options.path)
  const info = (await root.queryAsync('SELECT version(), timezone()', { format: 'TSV' }))
    .text()
    .trim()
    .split('\t')
  const version = info[0] ?? 'unknown'
  const timezone = info[1] ?? 'UTC'
  const displayName = hostname()
  const sessions = new Map<string, HttpSession>()

  // The server takes URLs up to http_max_uri_size (1 MiB): query parameters travel there.
  const server = createServer({ maxHeaderSize: MAX_URI_SIZE + 64 * 1024 }, (req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=UTF-8' })
        res.end(`${String(error)}\n`)
      } else res.destroy()
    })
  })

  // Past its URI limit (or a header block too large for node) the server answers a bare 400.
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    else socket.destroy()
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.url?.length ?? 0) > MAX_URI_SIZE) {
      req.resume()
      res.writeHead(400, { connection: 'close', 'content-length': '0' })
      res.end()
      return
    }
    const url = new URL(req.url ?? '/', 'http://harness')
    const headers = lowerHeaders(req)
    const body = await readBody(req)
    const common: Record<string, string> = {
      'x-clickhouse-server-display-name': displayName,
      'keep-alive': 'timeout=10',
    }
    if (
      url.pathname === '/ping' ||
      (url.pathname === '/' && req.method === 'GET' && !url.searchParams.has('query'))
    ) {
      res.writeHead(200, { ...common, 'content-type': 'text/html; charset=UTF-8' })
      res.end('Ok.\n')
      return
    }
    if (url.pathname !== '/') {
      // The server's not-found handler: a 404 with hints, no exception code.
      res.writeHead(404, { ...common, 'content-type': 'text/plain; charset=UTF-8' })
      res.end(
        `There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\n(This is driftwatch's test harness for the HTTP path, not a ClickHouse server.)\n`,
      )
      return
    }
    let queryId: string = randomUUID()
    try {
      if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD')
        throw new HttpQueryError(1001, 'BAD_REQUEST', `Unsupported HTTP method ${req.method}`)
      const credentials = requestCredentials(url.searchParams, headers)
      if (users[credentials.user] !== credentials.password) throw authenticationFailed(credentials.user)
      const params = parseRequestParams(url.searchParams, headers)
      queryId = params.queryId ?? queryId
      const data = decodeBody(body, headers['content-encoding'])
      const result = await execute(params, data, req.method !== 'POST')
      const compressed = compressFor(url.searchParams, headers['accept-encoding'], result.bytes)
      res.writeHead(200, {
        ...common,
        'content-type': contentTypeForFormat(result.format),
        'x-clickhouse-query-id': queryId,
        'x-clickhouse-format': result.format,
        'x-clickhouse-timezone': timezone,
        'x-clickhouse-summary': summaryHeader(result.summary),
        ...(compressed.encoding ? { 'content-encoding': compressed.encoding } : {}),
        'content-length': String(compressed.bytes.length),
      })
      res.end(req.method === 'HEAD' ? undefined : compressed.bytes)
    } catch (error) {
      const e = error instanceof HttpQueryError ? error : parseEngineError(errorText(error))
      const text = `${exceptionText(e, version)}\n`
      res.writeHead(httpStatusForException(e.type), {
        ...common,
        'content-type': 'text/plain; charset=UTF-8',
        'x-clickhouse-query-id': queryId,
        'x-clickhouse-exception-code': String(e.code),
        'x-clickhouse-summary': summaryHeader(emptySummary()),
      })
      res.end(text)
    }
  }

  async function execute(
    params: RequestParams,
    body: Buffer,
    readOnlyMethod: boolean,
  ): Promise<{ bytes: Buffer; format: string; summary: Summary }> {
    const { sql, data } = fullQuery(params.query, body)
    if (sql.trim() === '') throw new HttpQueryError(62, 'SYNTAX_ERROR', 'Empty query')
    // Rows for the raw insert stay bytes; anything else is one SQL text, as the server reads it.
    const target = data ? insertTarget(sql) : undefined
    const text = data && !target ? `${sql}\n${data.toString('utf8')}` : sql
    const second = target ? undefined : secondStatementAt(text)
    if (second !== undefined)
      throw new HttpQueryError(
        62,
        'SYNTAX_ERROR',
        `Syntax error (Multi-statements are not allowed): failed at position ${second + 1} (end of query): ${text.slice(second, second + 60)}`,
      )
    const held = acquireSession(params)
    const session = held.session
    try {
      if (held.fresh) {
        await session.queryAsync(SERVER_DEFAULTS)
        held.fresh = false
      }
      // GET is read-only unless a setting already says otherwise, as HTTPHandler does.
      if (readOnlyMethod && !params.sessionId) await session.queryAsync('SET readonly = 2')
      if (params.database) await session.queryAsync(`USE ${quoteIdentifier(params.database)}`)
      for (const [key, value] of params.settings)
        await session.queryAsync(`SET ${key} = '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
      const format = queryFormat(sql) ?? params.defaultFormat ?? 'TabSeparated'
      if (target && data && RAW_FORMATS.has(target.format)) {
        const summary = await session.insert({
          table: target.table,
          values: data,
          format: target.format as 'JSONEachRow',
          columns: target.columns,
        })
        return {
          bytes: Buffer.alloc(0),
          format,
          summary: {
            ...emptySummary(),
            readRows: summary.rowsWritten,
            readBytes: summary.bytesWritten,
            writtenRows: summary.rowsWritten,
            writtenBytes: summary.bytesWritten,
            elapsedNs: Math.round(summary.elapsed * 1e9),
          },
        }
      }
      const bound = Object.fromEntries(
        Object.entries(params.queryParams).map(([k, v]) => [k, unescapeParam(v)]),
      )
      const result =
        Object.keys(bound).length > 0
          ? await session.queryBindAsync(text, bound, { format })
          : await session.queryAsync(text, { format })
      const bytes = Buffer.from(result.bytes())
      return {
        bytes,
        format,
        summary: {
          ...emptySummary(),
          readRows: result.rowsRead,
          readBytes: result.bytesRead,
          resultRows: result.rowsRead,
          resultBytes: bytes.length,
          elapsedNs: Math.round(result.elapsed * 1e9),
        },
      }
    } finally {
      releaseSession(params, held)
    }
  }

  function acquireSession(params: RequestParams): HttpSession {
    if (!params.sessionId)
      return { session: new Session(options.path), busy: true, timer: undefined, fresh: true }
    let held = sessions.get(params.sessionId)
    if (!held) {
      if (params.sessionCheck)
        throw new HttpQueryError(372, 'SESSION_NOT_FOUND', `Session ${params.sessionId} not found`)
      held = { session: new Session(options.path), busy: false, timer: undefined, fresh: true }
      sessions.set(params.sessionId, held)
    }
    if (held.busy)
      throw new HttpQueryError(
        373,
        'SESSION_IS_LOCKED',
        `Session ${params.sessionId} is locked by a concurrent client`,
      )
    held.busy = true
    if (held.timer) clearTimeout(held.timer)
    return held
  }

  function releaseSession(params: RequestParams, held: HttpSession): void {
    held.busy = false
    if (!params.sessionId) {
      held.session.close()
      return
    }
    const id = params.sessionId
    held.timer = setTimeout(
      () => {
        sessions.delete(id)
        held.session.close()
      },
      (params.sessionTimeoutSec ?? DEFAULT_SESSION_TIMEOUT_SEC) * 1000,
    )
    held.timer.unref()
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    version,
    close: () => closeAll(server, sessions, root),
  }
}

// The formats chDB's raw insert hands to the engine's parser as bytes.
const RAW_FORMATS = new Set([
  'JSONEachRow',
  'JSONCompactEachRow',
  'CSV',
  'CSVWithNames',
  'TSV',
  'TabSeparated',
  'TSVWithNames',
  'TabSeparatedWithNames',
])

function emptySummary(): Summary {
  return {
    readRows: 0,
    readBytes: 0,
    writtenRows: 0,
    writtenBytes: 0,
    resultRows: 0,
    resultBytes: 0,
    elapsedNs: 0,
  }
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function lowerHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(req.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
  return out
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  const method = (encoding ?? '').trim().toLowerCase()
  if (body.length === 0 || method === '' || method === 'identity' || method === 'none') return body
  try {
    if (method === 'gzip' || method === 'x-gzip') return gunzipSync(body)
    if (method === 'deflate') return inflateSync(body)
    if (method === 'br') return brotliDecompressSync(body)
  } catch (error) {
    throw new HttpQueryError(
      354,
      'ZLIB_INFLATE_FAILED',
      `inflate failed: ${errorText(error)} while reading a ${method} request body`,
    )
  }
  throw new HttpQueryError(
    55,
    'UNKNOWN_COMPRESSION_METHOD',
    `Unknown compression method '${encoding}' (the harness decodes gzip, deflate and br)`,
  )
}

function compressFor(
  url: URLSearchParams,
  acceptEncoding: string | undefined,
  bytes: Buffer,
): { bytes: Buffer; encoding?: string } {
  const enabled = url.get('enable_http_compression')
  if (enabled !== '1' && enabled !== 'true') return { bytes }
  const encoding = responseEncoding(acceptEncoding)
  if (encoding === 'gzip') return { bytes: gzipSync(bytes), encoding }
  if (encoding === 'deflate') return { bytes: deflateSync(bytes), encoding }
  if (encoding === 'br') return { bytes: brotliCompressSync(bytes), encoding }
  return { bytes }
}

async function closeAll(server: Server, sessions: Map<string, HttpSession>, root: Session): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
  for (const held of sessions.values()) {
    if (held.timer) clearTimeout(held.timer)
    held.session.close()
  }
  sessions.clear()
  root.close()
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      path: { type: 'string' },
      user: { type: 'string', multiple: true },
      'exit-on-stdin-close': { type: 'boolean', default: false },
    },
  })
  if (!values.path) {
    process.stderr.write(
      'usage: node --import tsx test/harness/clickhouse-http-harness.ts --port 0 --path DIR [--user NAME:PASSWORD ...]\n',
    )
    process.exit(2)
  }
  const users = values.user?.length
    ? Object.fromEntries(
        values.user.map((u) => {
          const colon = u.indexOf(':')
          return colon < 0 ? [u, ''] : [u.slice(0, colon), u.slice(colon + 1)]
        }),
      )
    : undefined
  const harness = await startHarness({
    path: values.path,
    port: Number(values.port),
    host: values.host,
    users,
  })
  process.stdout.write(
    `${JSON.stringify({ url: harness.url, pid: process.pid, version: harness.version })}\n`,
  )
  const stop = () => {
    harness.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // Exits with its parent (which holds our stdin open): a test runner that dies cannot leave
  // a harness behind holding the folder.
  if (values['exit-on-stdin-close']) {
    process.stdin.on('end', stop)
    process.stdin.resume()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
