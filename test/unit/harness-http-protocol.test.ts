// The pure rules of the ClickHouse HTTP test harness: which URL parameters are settings,
// how credentials are read (and refused when mixed), status per exception, engine messages
// parsed back into code and name, the insert shape whose rows come in the body.
import { describe, expect, it } from 'vitest'
import {
  exceptionText,
  HttpQueryError,
  httpStatusForException,
  insertTarget,
  parseEngineError,
  parseRequestParams,
  queryFormat,
  requestCredentials,
  responseEncoding,
  secondStatementAt,
  unescapeParam,
} from '../harness/http-protocol.ts'

describe('harness HTTP protocol', () => {
  it('splits URL parameters into the handler own, query parameters and settings', () => {
    const url = new URLSearchParams(
      'query=SELECT+1&database=db&default_format=JSON&query_id=q1&session_id=s&wait_end_of_query=1&param_x=a%5Ctb&max_threads=2&user=u',
    )
    const p = parseRequestParams(url, {})
    expect(p).toMatchObject({
      query: 'SELECT 1',
      database: 'db',
      defaultFormat: 'JSON',
      queryId: 'q1',
      sessionId: 's',
    })
    expect(p.queryParams).toEqual({ x: 'a\\tb' })
    expect(p.settings).toEqual([['max_threads', '2']])
    const byHeader = parseRequestParams(new URLSearchParams('database=a'), {
      'x-clickhouse-database': 'b',
      'x-clickhouse-query-id': 'h1',
    })
    expect(byHeader).toMatchObject({ database: 'b', queryId: 'h1' })
    expect(() => parseRequestParams(new URLSearchParams('session_timeout=abc'), {})).toThrow(
      /Invalid session timeout/,
    )
  })

  it('reads credentials from one place only', () => {
    const basic = `Basic ${Buffer.from('alice:pw:with:colons').toString('base64')}`
    expect(requestCredentials(new URLSearchParams(), { authorization: basic })).toEqual({
      user: 'alice',
      password: 'pw:with:colons',
    })
    expect(
      requestCredentials(new URLSearchParams(), { 'x-clickhouse-user': 'bob', 'x-clickhouse-key': 'k' }),
    ).toEqual({ user: 'bob', password: 'k' })
    expect(requestCredentials(new URLSearchParams(), {})).toEqual({ user: 'default', password: '' })
    expect(() => requestCredentials(new URLSearchParams('user=a'), { authorization: basic })).toThrow(
      /not allowed to use Authorization HTTP header and authentication via parameters/,
    )
    expect(() => requestCredentials(new URLSearchParams(), { authorization: 'Bearer x' })).toThrow(
      HttpQueryError,
    )
  })

  it('maps exception names to the server HTTP statuses', () => {
    expect(httpStatusForException('AUTHENTICATION_FAILED')).toBe(403)
    expect(httpStatusForException('REQUIRED_PASSWORD')).toBe(401)
    expect(httpStatusForException('SYNTAX_ERROR')).toBe(400)
    expect(httpStatusForException('UNKNOWN_TABLE')).toBe(404)
    expect(httpStatusForException('TIMEOUT_EXCEEDED')).toBe(408)
    expect(httpStatusForException('READONLY')).toBe(500)
  })

  it('parses an engine message and writes it back with the version', () => {
    const e = parseEngineError(
      "Code: 60. DB::Exception: Unknown table 'x'. Maybe you meant y?. (UNKNOWN_TABLE)",
    )
    expect([e.code, e.type]).toEqual([60, 'UNKNOWN_TABLE'])
    expect(exceptionText(e, '26.7.2.1')).toBe(
      "Code: 60. DB::Exception: Unknown table 'x'. Maybe you meant y?. (UNKNOWN_TABLE) (version 26.7.2.1)",
    )
  })

  it('finds the insert whose rows come in the body, and a query own FORMAT', () => {
    expect(insertTarget('INSERT INTO db.t (a, `b`) FORMAT JSONCompactEachRow')).toEqual({
      table: 'db.t',
      columns: ['a', 'b'],
      format: 'JSONCompactEachRow',
    })
    expect(insertTarget('INSERT INTO t FORMAT JSONEachRow')).toEqual({
      table: 't',
      columns: undefined,
      format: 'JSONEachRow',
    })
    expect(insertTarget('INSERT INTO t SELECT 1')).toBeUndefined()
    expect(queryFormat('SELECT 1 FORMAT JSON')).toBe('JSON')
    expect(queryFormat('INSERT INTO t FORMAT CSV')).toBeUndefined()
  })

  it('unescapes parameter values and picks the response encoding', () => {
    expect(unescapeParam('a\\tb\\\\c\\nd')).toBe('a\tb\\c\nd')
    expect(responseEncoding('br;q=0, gzip')).toBe('gzip')
    expect(responseEncoding('identity')).toBeUndefined()
  })

  it("finds a second statement outside quotes and comments, never in an insert's rows", () => {
    expect(secondStatementAt('SELECT 1; SELECT 2')).toBe(8)
    expect(secondStatementAt('SELECT 1;')).toBeUndefined()
    expect(secondStatementAt('SELECT 1; -- done\n')).toBeUndefined()
    expect(secondStatementAt("SELECT 'a;b', `c;d` /* ; */")).toBeUndefined()
    expect(secondStatementAt("SELECT 'it\\'s; fine'")).toBeUndefined()
    expect(secondStatementAt('INSERT INTO t FORMAT CSV\n1;2\n')).toBeUndefined()
    expect(secondStatementAt("INSERT INTO t VALUES ('x'); DROP TABLE t")).toBe(26)
  })
})
