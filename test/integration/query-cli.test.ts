// `driftwatch query` as users run it: the list, a run in each output format, a user's own
// query folder, and refusals that name the query, the param and the fix (exit 2) before
// any SQL runs. The running-instance path is covered in deploy-cli.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'

let env: Record<string, string>
let dir: string

beforeAll(async () => {
  env = { DRIFTWATCH_DATA_DIR: mkdtempSync(join(tmpdir(), 'dw-query-')), DRIFTWATCH_HTTP_PORT: '0' }
  dir = mkdtempSync(join(tmpdir(), 'dw-queries-'))
  writeFileSync(
    join(dir, 'versions.sql'),
    `-- name: versions
-- description: model versions with their interaction count
-- param: min UInt64 [0] only versions with at least this many
-- param: names Array(String) [] only these versions; empty: all
SELECT model_version, count() AS n FROM interactions
GROUP BY model_version HAVING n >= {min:UInt64} AND (empty({names:Array(String)}) OR has({names:Array(String)}, model_version))
UNION ALL SELECT 'none', 0 WHERE {min:UInt64} = 0
`,
  )
  const migrated = await runCli(['migrate'], env)
  expect(migrated.code).toBe(0)
})

describe('driftwatch query', () => {
  it('lists the saved queries with their params, as text and JSON', async () => {
    const [text, json] = await Promise.all([
      runCli(['query'], env),
      runCli(['query', '--format', 'json'], env),
    ])
    expect(text.stdout).toMatch(/^ingest-errors: Recent dead-lettered messages/)
    expect(text.stdout).toMatch(/\n {4}metric +String +\(required\) +the metric to rank by/)
    const names = (JSON.parse(json.stdout) as { name: string }[]).map((q) => q.name)
    expect(names).toEqual([
      'ingest-errors',
      'rule-window',
      'scope-overview',
      'trigger-interactions',
      'worst-scopes',
    ])
  })

  it('refuses bad params with exit 2, naming the query, the param and the fix', async () => {
    const [missing, unknown, bad, noQuery] = await Promise.all([
      runCli(['query', 'worst-scopes'], env),
      runCli(['query', 'rule-window', '--param', 'segmnt=x'], env),
      runCli(['query', 'rule-window', '--param', 'from=yesterday'], env),
      runCli(['query', 'worst-scope'], env),
    ])
    expect([missing.code, unknown.code, bad.code, noQuery.code]).toEqual([2, 2, 2, 2])
    expect(missing.stderr).toMatch(/query worst-scopes needs --param metric=<String>/)
    expect(unknown.stderr).toMatch(
      /query rule-window has no param "segmnt"\n {2}fix: its params are from, to, metric, model_version, variant_id, segment/,
    )
    expect(bad.stderr).toMatch(
      /query rule-window: --param from="yesterday" is not an ISO time .*\n {2}fix: pass e.g. --param from=-1h/,
    )
    expect(noQuery.stderr).toMatch(/no saved query named "worst-scope"/)
  })

  it('runs a shipped query on the store as a table', async () => {
    const r = await runCli(['query', 'ingest-errors', '--param', 'from=2026-01-01T00:00:00Z'], env)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^reason +reason_total +first_seen .*\n.*\n\(0 rows\)\n$/)
  })

  it("runs a user's own query from --dir, in JSON and CSV, with typed params", async () => {
    const json = await runCli(
      ['query', 'versions', '--dir', dir, '--param', 'names=v1,v2', '--format', 'json'],
      env,
    )
    expect(json.stderr).toBe('')
    expect(JSON.parse(json.stdout)).toEqual([{ model_version: 'none', n: 0 }])
    const csv = await runCli(['query', 'versions', '--dir', dir, '--param', 'min=1', '--format', 'csv'], env)
    expect(csv.stdout).toBe('"model_version","n"\n')
  })

  it('refuses a saved query file whose params do not match its SQL, naming the file', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'dw-queries-bad-'))
    writeFileSync(join(broken, 'oops.sql'), '-- name: oops\n-- description: d\nSELECT {x:String}\n')
    const r = await runCli(['query', '--dir', broken], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /saved query oops \(.*oops\.sql\): the SQL uses \{x:String\} but no param x is declared/,
    )
    expect(r.stderr).toMatch(/fix: add `-- param: x String <description>`/)
  })
})
