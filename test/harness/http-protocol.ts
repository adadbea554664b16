// The pure half of the ClickHouse HTTP test harness (test/harness/clickhouse-http-harness.ts):
// how a request's URL parameters split into settings, query parameters and the handler's own
// parameters; which HTTP status an exception code gets; how the summary header and the
// content type look. Modelled on ClickHouse's src/Server/HTTPHandler.cpp,
// src/Server/HTTP/exceptionCodeToHTTPStatus.cpp and authenticateUserByHTTP.cpp. No I/O.

/** Parameters the server's HTTP handler consumes itself; they never become settings. */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'query',
  'database',
  'default_format',
  'compress',
  'decompress',
  'user',
  'password',
  'quota_key',
  'query_id',
  'stacktrace',
  'buffer_size',
  'wait_end_of_query',
  'session_id',
  'session_timeout',
  'session_check',
  'client_protocol_version',
  'close_session',
  'role',
])

export interface RequestParams {
  query: string | undefined
  database: string | undefined
  defaultFormat: string | undefined
  queryId: string | undefined
  sessionId: string | undefined
  sessionTimeoutSec: number | undefined
  sessionCheck: boolean
  /** `param_<name>` values, still in the text-escaped form the client sent. */
  queryParams: Record<string, string>
  /** Every other parameter: a setting, applied to the query (unknown ones fail like on a server). */
  settings: Array<[string, string]>
}

/** A ClickHouse exception as the harness reports it: code, name and message. */
export class HttpQueryError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Splits URL parameters the way HTTPHandler::processQuery does; headers win for database and format. */
export function parseRequestParams(
  url: URLSearchParams,
  headers: Record<string, string | undefined>,
): RequestParams {
  const queryParams: Record<string, string> = {}
  const settings: Array<[string, string]> = []
  for (const [key, value] of url) {
    if (key === '' || RESERVED_PARAMS.has(key)) continue
    if (key.startsWith('param_')) {
      queryParams[key.slice('param_'.length)] = value
      continue
    }
    if (!SETTING_NAME.test(key)) throw new HttpQueryError(115, 'UNKNOWN_SETTING', `Unknown setting '${key}'`)
    settings.push([key, value])
  }
  const timeout = url.get('session_timeout')
  let sessionTimeoutSec: number | undefined
  if (timeout !== null) {
    sessionTimeoutSec = /^\d+$/.test(timeout) ? Number(timeout) : Number.NaN
    if (!Number.isFinite(sessionTimeoutSec) || sessionTimeoutSec > 3600)
      throw new HttpQueryError(
        374,
        'INVALID_SESSION_TIMEOUT',
        `Invalid session timeout: '${timeout}'${Number.isFinite(sessionTimeoutSec) ? ' (larger than max_session_timeout: 3600)' : ''}`,
      )
  }
  return {
    query: url.get('query') ?? undefined,
    database: headers['x-clickhouse-database'] || url.get('database') || undefined,
    defaultFormat: headers['x-clickhouse-format'] || url.get('default_format') || undefined,
    queryId: url.get('query_id') || headers['x-clickhouse-query-id'] || undefined,
    sessionId: url.get('session_id') || undefined,
    sessionTimeoutSec,
    sessionCheck: isTrue(url.get('session_check')),
    queryParams,
    settings,
  }
}

function isTrue(value: string | null): boolean {
  return value === '1' || value === 'true'
}

export interface Credentials {
  user: string
  password: string
}

/**
 * Who the request says it is, by the rules of authenticateUserByHTTP: X-ClickHouse-User/Key
 * headers, or HTTP Basic auth, or `user`/`password` parameters, never two of them at once;
 * nothing given means the `default` user with an empty password.
 */
export function requestCredentials(
  url: URLSearchParams,
  headers: Record<string, string | undefined>,
): Credentials {
  const headerUser = headers['x-clickhouse-user'] ?? ''
  const headerKey = headers['x-clickhouse-key'] ?? ''
  const authorization = headers.authorization
  const inParams = url.has('user') || url.has('password')
  const multiple = (a: string, b: string) =>
    new HttpQueryError(
      516,
      'AUTHENTICATION_FAILED',
      `Invalid authentication: it is not allowed to use ${a} and ${b} simultaneously`,
    )
  if (headerUser || headerKey) {
    if (!headerUser)
      throw new HttpQueryError(
        516,
        'AUTHENTICATION_FAILED',
        'Got an empty user name from X-ClickHouse HTTP headers',
      )
    if (authorization) throw multiple('X-ClickHouse HTTP headers', 'Authorization HTTP header')
    if (inParams) throw multiple('X-ClickHouse HTTP headers', 'authentication via parameters')
    return { user: headerUser, password: headerKey }
  }
  if (authorization) {
    if (inParams) throw multiple('Authorization HTTP header', 'authentication via parameters')
    const [scheme = '', info = ''] = authorization.split(/\s+/, 2)
    if (scheme.toLowerCase() !== 'basic')
      throw new HttpQueryError(
        516,
        'AUTHENTICATION_FAILED',
        `Invalid authentication: '${scheme}' HTTP Authorization scheme is not supported`,
      )
    const decoded = Buffer.from(info, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    const user = colon < 0 ? decoded : decoded.slice(0, colon)
    if (!user)
      throw new HttpQueryError(
        516,
        'AUTHENTICATION_FAILED',
        'Got an empty user name from Authorization HTTP header',
      )
    return { user, password: colon < 0 ? '' : decoded.slice(colon + 1) }
  }
  const user = url.get('user') ?? 'default'
  if (!user)
    throw new HttpQueryError(
      516,
      'AUTHENTICATION_FAILED',
      'Got an empty user name from authentication via parameters',
    )
  return { user, password: url.get('password') ?? '' }
}

/** The message a server gives a wrong password or an unknown user (the same for both, on purpose). */
export function authenticationFailed(user: string): HttpQueryError {
  return new HttpQueryError(
    516,
    'AUTHENTICATION_FAILED',
    `${user}: Authentication failed: password is incorrect, or there is no user with such name.`,
  )
}

// exceptionCodeToHTTPStatus.cpp, by exception name (the harness reads the numbers from the engine).
const STATUS_BY_NAME: ReadonlyArray<[number, readonly string[]]> = [
  [401, ['REQUIRED_PASSWORD']],
  [403, ['UNKNOWN_USER', 'WRONG_PASSWORD', 'AUTHENTICATION_FAILED', 'SET_NON_GRANTED_ROLE', 'ACCESS_DENIED']],
  [
    400,
    [
      'BAD_ARGUMENTS',
      'CANNOT_COMPILE_REGEXP',
      'CANNOT_PARSE_TEXT',
      'CANNOT_PARSE_ESCAPE_SEQUENCE',
      'CANNOT_PARSE_QUOTED_STRING',
      'CANNOT_PARSE_DATE',
      'CANNOT_PARSE_DATETIME',
      'CANNOT_PARSE_NUMBER',
      'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING',
      'CANNOT_PARSE_IPV4',
      'CANNOT_PARSE_IPV6',
      'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
      'CANNOT_PARSE_UUID',
      'DUPLICATE_COLUMN',
      'ILLEGAL_COLUMN',
      'UNKNOWN_ELEMENT_IN_AST',
      'UNKNOWN_TYPE_OF_AST_NODE',
      'THERE_IS_NO_COLUMN',
      'TOO_DEEP_AST',
      'TOO_BIG_AST',
      'UNEXPECTED_AST_STRUCTURE',
      'SYNTAX_ERROR',
      'INCORRECT_DATA',
      'TYPE_MISMATCH',
      'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
    ],
  ],
  [
    404,
    [
      'UNKNOWN_TABLE',
      'UNKNOWN_FUNCTION',
      'UNKNOWN_IDENTIFIER',
      'UNKNOWN_TYPE',
      'UNKNOWN_STORAGE',
      'UNKNOWN_DATABASE',
      'UNKNOWN_SETTING',
      'UNKNOWN_DIRECTION_OF_SORTING',
      'UNKNOWN_AGGREGATE_FUNCTION',
      'UNKNOWN_FORMAT',
      'UNKNOWN_DATABASE_ENGINE',
      'UNKNOWN_TYPE_OF_QUERY',
      'UNKNOWN_ROLE',
    ],
  ],
  [413, ['QUERY_IS_TOO_LARGE']],
  [501, ['NOT_IMPLEMENTED']],
  [503, ['SOCKET_TIMEOUT', 'CANNOT_OPEN_FILE', 'CANNOT_SCHEDULE_TASK']],
  [411, ['HTTP_LENGTH_REQUIRED']],
  [408, ['TIMEOUT_EXCEEDED']],
  [415, ['UNSUPPORTED_MEDIA_TYPE']],
]

/** The HTTP status for an exception name; everything not listed is 500, as on the server. */
export function httpStatusForException(name: string): number {
  for (const [status, names] of STATUS_BY_NAME) if (names.includes(name)) return status
  return 500
}

/** `Code: N. DB::Exception: <text>. (NAME) (version V)`, the body's one line. */
export function exceptionText(error: HttpQueryError, version: string): string {
  const text = error.message.replace(/\.$/, '')
  return `Code: ${error.code}. DB::Exception: ${text}. (${error.type}) (version ${version})`
}

/** Reads `Code: N. DB::Exception: ... (NAME)` out of an engine message. */
export function parseEngineError(message: string): HttpQueryError {
  const match =
    /^Code: (\d+)\. DB::Exception: ([\s\S]*?)\.? \(([A-Z0-9_]+)\)\s*(?:\(version [^)]*\))?\s*$/.exec(
      message.trim(),
    )
  if (!match) return new HttpQueryError(1001, 'STD_EXCEPTION', message.trim())
  return new HttpQueryError(Number(match[1]), match[3]!, match[2]!)
}

export interface Summary {
  readRows: number
  readBytes: number
  writtenRows: number
  writtenBytes: number
  resultRows: number
  resultBytes: number
  elapsedNs: number
}

/** X-ClickHouse-Summary: every number as a string, as the server writes it. */
export function summaryHeader(s: Summary): string {
  return JSON.stringify({
    read_rows: String(s.readRows),
    read_bytes: String(s.readBytes),
    written_rows: String(s.writtenRows),
    written_bytes: String(s.writtenBytes),
    total_rows_to_read: '0',
    result_rows: String(s.resultRows),
    result_bytes: String(s.resultBytes),
    elapsed_ns: String(s.elapsedNs),
  })
}

/** Content-Type by output format, as the server's formats declare it. */
export function contentTypeForFormat(format: string): string {
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8'
  if (/^CSV/i.test(format))
    return `text/csv; charset=UTF-8; header=${/WithNames/i.test(format) ? 'present' : 'absent'}`
  if (/^(JSONEachRow|JSONLines|NDJSON)$/i.test(format)) return 'application/x-ndjson; charset=UTF-8'
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8'
  if (/^(Native|RowBinary|Parquet|Arrow|ORC|Avro|Protobuf)/i.test(format)) return 'application/octet-stream'
  return 'text/plain; charset=UTF-8'
}

/**
 * The text the server executes: the `query` parameter, then a newline and the body when both are
 * given (HTTPHandler concatenates them), else the body alone.
 */
export function fullQuery(
  queryParam: string | undefined,
  body: Buffer,
): { sql: string; data: Buffer | undefined } {
  if (queryParam === undefined || queryParam.trim() === '')
    return { sql: body.toString('utf8'), data: undefined }
  if (body.length === 0) return { sql: queryParam, data: undefined }
  return { sql: queryParam, data: body }
}

export interface InsertTarget {
  table: string
  columns: string[] | undefined
  format: string
}

// `INSERT INTO [db.]table [(c1, c2)] FORMAT Name`: the shape clients send with the rows in the body.
const INSERT_FORMAT =
  /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?((?:`[^`]+`|[A-Za-z_][\w]*)(?:\.(?:`[^`]+`|[A-Za-z_][\w]*))?)\s*(?:\(([^)]*)\))?\s*FORMAT\s+([A-Za-z]\w*)\s*$/i

/** The target of an insert whose rows come in the body, or undefined for any other statement. */
export function insertTarget(sql: string): InsertTarget | undefined {
  const m = INSERT_FORMAT.exec(sql)
  if (!m) return undefined
  const columns = m[2]
    ?.split(',')
    .map((c) => c.trim().replace(/^`|`$/g, ''))
    .filter(Boolean)
  return { table: m[1]!.replace(/`/g, ''), columns: columns?.length ? columns : undefined, format: m[3]! }
}

/** The output format a query names with a trailing FORMAT clause (not an insert's input format). */
export function queryFormat(sql: string): string | undefined {
  if (/^\s*INSERT\b/i.test(sql)) return undefined
  return /\bFORMAT\s+([A-Za-z]\w*)\s*;?\s*$/i.exec(sql)?.[1]
}

/** Reverses the text escaping of a parameter value (the engine's binder escapes it again). */
export function unescapeParam(value: string): string {
  const map: Record<string, string> = {
    '\\': '\\',
    t: '\t',
    n: '\n',
    r: '\r',
    '0': '\0',
    b: '\b',
    f: '\f',
    "'": "'",
  }
  return value.replace(/\\(.)/g, (all, c: string) => map[c] ?? all)
}

/** The first of gzip, deflate, br that Accept-Encoding allows, in the client's order. */
export function responseEncoding(acceptEncoding: string | undefined): 'gzip' | 'deflate' | 'br' | undefined {
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name = '', ...rest] = part.trim().toLowerCase().split(';')
    if (rest.some((p) => /^q=0(\.0*)?$/.test(p.trim()))) continue
    if (name === 'gzip' || name === 'deflate' || name === 'br') return name
  }
  return undefined
}

/**
 * Where a second statement starts, if the text holds one: a server runs one statement per
 * request and refuses `SELECT 1; SELECT 2` ("Multi-statements are not allowed"), where chDB
 * would run both. A trailing `;` is fine; quotes and comments are skipped. The rows of an
 * `INSERT ... FORMAT X` are data, not statements.
 */
export function secondStatementAt(sql: string): number | undefined {
  const insertData = /^\s*INSERT\b[\s\S]*?\bFORMAT\s+[A-Za-z]\w*/i.exec(sql)
  const text = insertData ? insertData[0] : sql
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === "'" || c === '"' || c === '`') {
      i++
      while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1
      i++
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n') i++
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 2
    } else if (c === ';') {
      const rest = text.slice(i + 1).replace(/--[^\n]*|\/\*[\s\S]*?\*\/|\s+/g, '')
      return rest === '' ? undefined : i
    } else i++
  }
  return undefined
}
