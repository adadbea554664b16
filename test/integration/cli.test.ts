// The CLI as users meet it: clear messages and non-zero exits for bad input, read-only SQL,
// and the embedded store's one-process rule explained instead of a stack trace.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, runCli, startCli } from '../helpers/cli.ts'
import { produceJson } from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'

let env: Record<string, string>
let topic: string

beforeAll(async () => {
  const brokers = getBrokers()
  topic = uniqueTopic('cli')
  await createTopic(brokers, topic, 3)
  env = {
    KAFKA_BROKERS: brokers,
    DRIFTWATCH_DATA_DIR: mkdtempSync(join(tmpdir(), 'dw-cli-')),
    DRIFTWATCH_HTTP_PORT: '0',
  }
})

describe('cli: bad input', () => {
  it('rejects an unknown command with usage and exit 2', async () => {
    const r = await runCli(['frobnicate'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown command "frobnicate"/)
    expect(r.stderr).toMatch(/usage: driftwatch <command>/)
  })

  it('rejects an unknown flag, naming it', async () => {
    const r = await runCli(['ingest', '--bogus'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--bogus/)
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
  })

  it('names the bad key of a config file and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-badcfg-'))
    writeFileSync(join(dir, 'dw.yaml'), 'ingest:\n  batch_size: lots\nkafka:\n  topcs: [a]\n')
    const r = await runCli(['migrate', '--config', join(dir, 'dw.yaml')], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/ingest\.batch_size/)
    expect(r.stderr).toMatch(/unknown key kafka\.topcs/)
    expect(r.stderr).toMatch(/fix:/)
  })

  it('refuses to serve on 0.0.0.0 without tokens, naming the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-wild-'))
    writeFileSync(join(dir, 'dw.yaml'), 'server:\n  host: 0.0.0.0\n')
    const r = await runCli(['serve', '--config', join(dir, 'dw.yaml')], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/server.host is 0.0.0.0, a non-loopback address, and no token is configured/)
    expect(r.stderr).toMatch(/fix: set DRIFTWATCH_ADMIN_TOKEN/)
  })

  it('requires --synthetic for produce', async () => {
    const r = await runCli(['produce'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--synthetic N is required/)
  })
})

describe('cli: sql', () => {
  it("gives ClickHouse's message for a bad query and exits 1", async () => {
    const r = await runCli(['sql', 'SELEC 1'], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/Syntax error/i)
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
  })

  it('refuses writes: read-only is enforced by ClickHouse', async () => {
    await runCli(['migrate'], env)
    const r = await runCli(['sql', "INSERT INTO interactions (request_id) VALUES ('x')"], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/readonly/i)
  })

  it('prints a table, JSON or CSV', async () => {
    const table = await runCli(['sql', "SELECT 1 AS one, 'a' AS letter"], env)
    expect(table.stdout).toBe('one  letter\n---  ------\n  1  a\n(1 row)\n')
    const json = await runCli(['sql', 'SELECT 1 AS one', '--format', 'json'], env)
    expect(JSON.parse(json.stdout)).toEqual([{ one: 1 }])
    const csv = await runCli(['sql', 'SELECT 1 AS one', '--format', 'csv'], env)
    expect(csv.stdout).toBe('"one"\n1\n')
  })
})

describe('cli: one process owns the embedded store', () => {
  let ingest: Running
  afterAll(async () => {
    ingest?.child.kill('SIGTERM')
    await ingest?.done
  })

  it('answers sql through the running instance and explains the lock to a second writer', async () => {
    await produceJson(env.KAFKA_BROKERS!, topic, 500, { seed: 5 })
    ingest = startCli(['ingest', '--topic', topic, '--group', `${topic}.g`], env)
    const deadline = Date.now() + 60_000
    let rows = 0
    while (Date.now() < deadline && rows < 500) {
      const r = await runCli(['sql', 'SELECT count() AS c FROM interactions', '--format', 'json'], env)
      rows = r.code === 0 ? JSON.parse(r.stdout)[0].c : 0
      if (rows < 500) await new Promise((res) => setTimeout(res, 300))
    }
    expect(rows).toBe(500)

    const second = await runCli(['migrate'], env)
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/is in use by driftwatch ingest \(pid \d+, http:\/\/127\.0\.0\.1:\d+/)
    expect(second.stderr).toMatch(/fix:/)
    expect(second.stderr).not.toMatch(/at .*\.ts:\d+/)

    ingest.child.kill('SIGTERM')
    const stopped = await ingest.done
    expect(stopped.code).toBe(0)
    expect(stopped.stderr).toMatch(/ingest: done, 500 rows stored/)
  })
})
