// The ClickHouse HTTP test harness (test/harness/clickhouse-http-harness.ts) answers as a
// ClickHouse server's HTTP interface does: status codes and exception headers per code,
// summary and format headers, gzip both ways, the three ways to authenticate, sessions, and a
// round trip with @clickhouse/client (UInt64 as a JSON string, as a server sends it).
import { gunzipSync, gzipSync } from 'node:zlib'
import { ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningHarness, startHttpHarness } from '../helpers/harness.ts'

let harness: RunningHarness
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const AUTH = { authorization: basic('default', '') }

beforeAll(async () => {
  harness = await startHttpHarness({ users: { default: '', alice: 's3cret' } })
})
afterAll(async () => {
  await harness?.stop()
})

function get(query: string, params: Record<string, string> = {}, headers: Record<string, string> = AUTH) {
  const q = new URLSearchParams({ query, ...params })
  return fetch(`${harness.url}/?${q}`, { headers })
}

function post(
  body: string | Buffer,
  params: Record<string, string> = {},
  headers: Record<string, string> = AUTH,
) {
  return fetch(`${harness.url}/?${new URLSearchParams(params)}`, { method: 'POST', body, headers })
}

describe('ClickHouse HTTP harness', () => {
  it('answers /ping and GET / with Ok., and an unknown path with 404', async () => {
    for (const path of ['/ping', '/']) {
      const res = await fetch(`${harness.url}${path}`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('Ok.\n')
    }
    const missing = await fetch(`${harness.url}/play`)
    expect(missing.status).toBe(404)
    expect(await missing.text()).toMatch(/^There is no handle \/play/)
  })

  it('sends the result headers a server sends, summary numbers as strings', async () => {
    const res = await get('SELECT number FROM numbers(3)', { query_id: 'q-headers-1' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('0\n1\n2\n')
    expect(res.headers.get('x-clickhouse-query-id')).toBe('q-headers-1')
    expect(res.headers.get('x-clickhouse-format')).toBe('TabSeparated')
    expect(res.headers.get('content-type')).toBe('text/tab-separated-values; charset=UTF-8')
    expect(res.headers.get('x-clickhouse-timezone')).toBeTruthy()
    expect(res.headers.get('x-clickhouse-server-display-name')).toBeTruthy()
    const summary = JSON.parse(res.headers.get('x-clickhouse-summary')!)
    expect(summary).toMatchObject({ read_rows: '3', written_rows: '0', result_rows: '3' })
    for (const v of Object.values(summary)) expect(typeof v).toBe('string')

    const json = await get('SELECT 1 AS x', { default_format: 'JSONEachRow' })
    expect(json.headers.get('x-clickhouse-format')).toBe('JSONEachRow')
    expect(await json.text()).toBe('{"x":1}\n')
    const byHeader = await get('SELECT 2 AS x', {}, { ...AUTH, 'X-ClickHouse-Format': 'CSV' })
    expect(await byHeader.text()).toBe('2\n')
    const clause = await get('SELECT 3 AS x FORMAT JSONCompactEachRow')
    expect(clause.headers.get('x-clickhouse-format')).toBe('JSONCompactEachRow')
  })

  it('maps exception codes to the server statuses, with the code header and body line', async () => {
    const cases: Array<[string, Record<string, string>, number, number, string]> = [
      ['SELECT * FROM no_such_table', {}, 404, 60, 'UNKNOWN_TABLE'],
      ['SELEC 1', {}, 400, 62, 'SYNTAX_ERROR'],
      ['SELECT 1', { no_such_setting: '1' }, 404, 115, 'UNKNOWN_SETTING'],
      ['SELECT 1', { database: 'no_such_db' }, 404, 81, 'UNKNOWN_DATABASE'],
      ['SELECT throwIf(1)', {}, 500, 395, 'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO'],
      ['SELECT 1; SELECT 2', {}, 400, 62, 'SYNTAX_ERROR'],
    ]
    for (const [query, params, status, code, name] of cases) {
      const res = await get(query, params)
      expect(res.status, query).toBe(status)
      expect(res.headers.get('x-clickhouse-exception-code')).toBe(String(code))
      expect(await res.text()).toMatch(
        new RegExp(`^Code: ${code}\\. DB::Exception: .+\\. \\(${name}\\) \\(version [\\d.]+\\)\\n$`),
      )
    }
  })

  it('runs GET read-only and POST read-write; POST takes the query in the body or in the URL with the rows in the body', async () => {
    const ddl = 'CREATE TABLE hx_rows (id UInt64, s String) ENGINE = MergeTree ORDER BY id'
    const refused = await get(ddl)
    expect(refused.status).toBe(500)
    expect(refused.headers.get('x-clickhouse-exception-code')).toBe('164')
    expect((await post(ddl)).status).toBe(200)

    const rows = '{"id":1,"s":"a"}\n{"id":2,"s":"b"}\n'
    const insert = await post(rows, { query: 'INSERT INTO hx_rows FORMAT JSONEachRow' })
    expect(insert.status).toBe(200)
    expect(JSON.parse(insert.headers.get('x-clickhouse-summary')!)).toMatchObject({ written_rows: '2' })
    const inline = await post('INSERT INTO hx_rows FORMAT JSONEachRow\n{"id":3,"s":"c"}\n')
    expect(inline.status).toBe(200)
    const bad = await post('{"id":"x"}\n', { query: 'INSERT INTO hx_rows FORMAT JSONEachRow' })
    expect(bad.status).toBe(400)
    expect(await (await get('SELECT count() FROM hx_rows')).text()).toBe('3\n')
  })

  it('takes URLs up to 1 MiB (query parameters travel there) and answers 400 past that, as the server does', async () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `'${'x'.repeat(40)}${i}'`).join(',')
    const long = await post('SELECT length({ids:Array(String)})', { param_ids: `[${ids}]` })
    expect(long.status).toBe(200)
    expect(await long.text()).toBe('4000\n')
    const tooLong = await post('SELECT 1', { param_x: 'y'.repeat(1024 * 1024) })
    expect(tooLong.status).toBe(400)
  })

  it('reads a gzip request body and compresses the answer only with enable_http_compression=1', async () => {
    const body = gzipSync(Buffer.from('{"id":10,"s":"gz"}\n'))
    const res = await post(
      body,
      { query: 'INSERT INTO hx_rows FORMAT JSONEachRow' },
      { ...AUTH, 'content-encoding': 'gzip' },
    )
    expect(res.status).toBe(200)

    const q = new URLSearchParams({
      query: 'SELECT s FROM hx_rows WHERE id = 10',
      enable_http_compression: '1',
    })
    // fetch would decompress on its own: read the raw bytes through node's http.
    const { request } = await import('node:http')
    const raw = await new Promise<{ encoding: string | undefined; bytes: Buffer }>((resolve, reject) => {
      request(`${harness.url}/?${q}`, { headers: { ...AUTH, 'accept-encoding': 'gzip' } }, (r) => {
        const chunks: Buffer[] = []
        r.on('data', (c) => chunks.push(c))
        r.on('end', () => resolve({ encoding: r.headers['content-encoding'], bytes: Buffer.concat(chunks) }))
      })
        .on('error', reject)
        .end()
    })
    expect(raw.encoding).toBe('gzip')
    expect(gunzipSync(raw.bytes).toString()).toBe('gz\n')
    const plain = await get('SELECT 1', {}, { ...AUTH, 'accept-encoding': 'gzip' })
    expect(plain.headers.get('content-encoding')).toBeNull()
  })

  it('authenticates by Basic auth, X-ClickHouse-User/Key or parameters; a wrong password is 516 with HTTP 403', async () => {
    expect(await (await get('SELECT 1', {}, { authorization: basic('alice', 's3cret') })).text()).toBe('1\n')
    const headers = { 'x-clickhouse-user': 'alice', 'x-clickhouse-key': 's3cret' }
    expect(await (await get('SELECT 1', {}, headers)).text()).toBe('1\n')
    expect(await (await get('SELECT 1', { user: 'alice', password: 's3cret' }, {})).text()).toBe('1\n')
    for (const res of [
      await get('SELECT 1', {}, { authorization: basic('alice', 'wrong') }),
      await get('SELECT 1', {}, { 'x-clickhouse-user': 'bob', 'x-clickhouse-key': '' }),
      await get('SELECT 1', {}, { ...headers, authorization: basic('alice', 's3cret') }),
    ]) {
      expect(res.status).toBe(403)
      expect(res.headers.get('x-clickhouse-exception-code')).toBe('516')
      expect(await res.text()).toMatch(/^Code: 516\. DB::Exception: .*\(AUTHENTICATION_FAILED\)/)
    }
  })

  it('applies URL settings and database to their own request only, also when requests overlap', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post("SELECT getSetting('max_threads'), currentDatabase()", {
          max_threads: String(i + 1),
          ...(i % 2 ? { database: 'system' } : {}),
        }).then((r) => r.text()),
      ),
    )
    expect(answers).toEqual(
      Array.from({ length: 12 }, (_, i) => `${i + 1}\t${i % 2 ? 'system' : 'default'}\n`),
    )
    const byHeader = await post(
      'SELECT currentDatabase()',
      {},
      { ...AUTH, 'X-ClickHouse-Database': 'system' },
    )
    expect(await byHeader.text()).toBe('system\n')
  })

  it('keeps SET and USE within a session_id; session_check on an unknown session is 372', async () => {
    const session = { session_id: 'hx-session-1' }
    expect((await post('SET max_threads = 3', session)).status).toBe(200)
    expect(await (await post("SELECT getSetting('max_threads')", session)).text()).toBe('3\n')
    expect(await (await post("SELECT getSetting('max_threads') = 3")).text()).toBe('0\n')
    const missing = await post('SELECT 1', { session_id: 'hx-never-created', session_check: '1' })
    expect(missing.status).toBe(500)
    expect(missing.headers.get('x-clickhouse-exception-code')).toBe('372')
  })

  it('serves @clickhouse/client: DDL, compressed inserts, query_params, UInt64 as a string, typed errors', async () => {
    const client = createClient({
      url: harness.url,
      username: 'alice',
      password: 's3cret',
      database: 'hx_client',
      compression: { request: true, response: true },
      // The expected UNKNOWN_TABLE below would be logged as an error otherwise.
      log: { level: ClickHouseLogLevel.OFF },
    })
    const bootstrap = createClient({ url: harness.url, username: 'alice', password: 's3cret' })
    try {
      expect((await client.ping()).success).toBe(true)
      await bootstrap.command({ query: 'CREATE DATABASE IF NOT EXISTS hx_client' })
      await client.command({
        query: 'CREATE TABLE big (id UInt64, label String) ENGINE = MergeTree ORDER BY id',
      })
      await client.insert({
        table: 'big',
        values: [
          { id: '18446744073709551615', label: "it's" },
          { id: 1, label: 'tab\there' },
        ],
        format: 'JSONEachRow',
      })
      await client.insert({
        table: 'big',
        values: [[2, 'compact']],
        columns: ['id', 'label'],
        format: 'JSONCompactEachRow',
      })
      const result = await client.query({
        query: 'SELECT id, label FROM big WHERE label != {skip:String} ORDER BY id',
        query_params: { skip: 'compact' },
        format: 'JSONEachRow',
      })
      expect(await result.json()).toEqual([
        { id: '1', label: 'tab\there' },
        { id: '18446744073709551615', label: "it's" },
      ])
      expect(result.query_id).toBeTruthy()
      const asNumbers = await client.query({
        query: 'SELECT count() AS c FROM big',
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      })
      expect(await asNumbers.json()).toEqual([{ c: 3 }])
      const error = await client.query({ query: 'SELECT * FROM missing_table' }).catch((e) => e)
      expect(error).toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' })
    } finally {
      await client.close()
      await bootstrap.close()
    }
  })
})
