// `driftwatch deploy` (and a saved query) as users run them: straight on the embedded store
// when no process owns it, and through the owner's local endpoint while `driftwatch ingest`
// holds it (a second process could not open the chDB folder at all).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, runCli, startCli } from '../helpers/cli.ts'
import { produceJson } from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'

let env: Record<string, string>
let topic: string
const statuses = async () => {
  const r = await runCli(['deploy', 'list', '--format', 'json'], env)
  expect(r.stderr).toBe('')
  return Object.fromEntries(
    (JSON.parse(r.stdout) as { model_version: string; status: string }[]).map((d) => [
      d.model_version,
      d.status,
    ]),
  )
}

beforeAll(async () => {
  const brokers = getBrokers()
  topic = uniqueTopic('deploy')
  await createTopic(brokers, topic, 1)
  env = {
    KAFKA_BROKERS: brokers,
    DRIFTWATCH_DATA_DIR: mkdtempSync(join(tmpdir(), 'dw-deploy-')),
    DRIFTWATCH_HTTP_PORT: '0',
  }
})

describe('deploy without a running instance', () => {
  it('refuses an unknown version unless forced, then records it', async () => {
    const unknown = await runCli(['deploy', 'mark-stable', 'v0'], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/model_version "v0" was never seen in traffic nor in deployments/)
    expect(unknown.stderr).toMatch(/fix: .*--force/)
    const forced = await runCli(
      ['deploy', 'mark-stable', 'v0', '--force', '--note', 'pre-registered', '--by', 'ci'],
      env,
    )
    expect(forced.stderr).toBe('')
    expect(forced.stdout).toMatch(/^v0: unrecorded -> stable at \S+ by ci\n$/)
    expect(await statuses()).toEqual({ v0: 'stable' })
  })

  it('names a misused flag', async () => {
    const r = await runCli(['deploy', 'list', '--note', 'x'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/driftwatch deploy list does not take --note/)
  })
})

describe('deploy while driftwatch ingest owns the store', () => {
  let ingest: Running
  afterAll(async () => {
    ingest?.child.kill('SIGTERM')
    await ingest?.done
  })

  it('detects, marks and answers through the running instance', async () => {
    await produceJson(env.KAFKA_BROKERS!, topic, 200, { seed: 11 })
    ingest = startCli(['ingest', '--topic', topic, '--group', `${topic}.g`], env)
    const deadline = Date.now() + 60_000
    let seen: Record<string, string> = {}
    while (Date.now() < deadline) {
      seen = await statuses().catch(() => ({}))
      if (seen.v1 && seen.v2) break
      await new Promise((r) => setTimeout(r, 300))
    }
    expect(seen, ingest.stderr()).toEqual({ v0: 'stable', v1: 'detected', v2: 'detected' })

    const marked = await runCli(
      ['deploy', 'mark-stable', 'v1', '--note', 'baseline', '--format', 'json'],
      env,
    )
    expect(marked.stderr).toBe('')
    expect(JSON.parse(marked.stdout)).toMatchObject({
      changed: true,
      previous_status: 'detected',
      deployment: { model_version: 'v1', status: 'stable', note: 'baseline' },
    })
    const target = await runCli(['deploy', 'last-stable', '--excluding', 'v2'], env)
    expect(target.stdout).toBe('v1\n')

    const unknown = await runCli(['deploy', 'mark-rolled-back', 'v9'], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/model_version "v9" was never seen in traffic nor in deployments/)

    const overview = await runCli(
      ['query', 'scope-overview', '--param', 'from=-3650d', '--param', 'to=+3650d', '--format', 'json'],
      env,
    )
    expect(overview.stderr).toBe('')
    const rows = JSON.parse(overview.stdout) as {
      model_version: string
      deployment: string
      interactions: number
    }[]
    expect(rows.reduce((n, r) => n + r.interactions, 0)).toBe(200)
    expect(new Set(rows.map((r) => `${r.model_version}:${r.deployment}`))).toEqual(
      new Set(['v1:stable', 'v2:detected']),
    )

    ingest.child.kill('SIGTERM')
    expect((await ingest.done).code).toBe(0)
  })

  it('finds the same history in the store once the instance has stopped', async () => {
    expect(await statuses()).toEqual({ v0: 'stable', v1: 'stable', v2: 'detected' })
    const history = await runCli(['deploy', 'history', 'v1'], env)
    expect(history.stdout).toMatch(/v1 +detected .*\n.*v1 +stable .*baseline/)
    expect((await runCli(['deploy', 'last-stable'], env)).stdout).toBe('v1\n')
  })
})
