// The deployments history on the embedded store: versions detected from traffic once,
// marks ordered by a strict clock, the last stable version as rollback target; and the same
// through the HTTP routes a running instance serves, errors included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  deploymentHistory,
  detectNewVersions,
  lastStable,
  listDeployments,
  markRetired,
  markRolledBack,
  markStable,
} from '../../deploy/deployments.ts'
import { DeploymentError } from '../../deploy/errors.ts'
import { httpDeployments } from '../../deploy/http-client.ts'
import { createLogger } from '../../lib/log.ts'
import { deploymentRoutes } from '../../server/deploy-routes.ts'
import { type LocalServer, startLocalServer } from '../../server/http.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'
import { createTestStore } from '../helpers/store.ts'

const T0 = Date.parse('2026-03-02T10:00:00.000Z')
let store: Store

function interaction(id: string, version: string, at: number) {
  return {
    request_id: id,
    timestamp: clickhouseTime(at),
    user_id: 'u',
    variant_id: 'control',
    model_name: 'llama',
    model_version: version,
    system_prompt_version: 'p',
    segment: 's',
    modality: 'text',
    user_input: '',
    model_output: '',
    latency_ms: 1,
    prompt_tokens: 1,
    completion_tokens: 1,
    status: 'ok',
    attributes: {},
    kafka_topic: 't',
    kafka_partition: 0,
    kafka_offset: 0,
  }
}

beforeAll(async () => {
  store = await createTestStore()
  await store.insert('interactions', [
    interaction('a', 'v1', T0 + 5000),
    interaction('b', 'v1', T0),
    interaction('c', 'v2', T0 + 60_000),
    interaction('d', 'v3', T0 + 120_000),
  ])
})
afterAll(async () => {
  await store?.close()
})

describe('deployments: detection', () => {
  it('records each version seen in traffic once, dated by its first interaction', async () => {
    const detected = await detectNewVersions(store)
    expect(detected.map((d) => [d.model_version, d.status, d.first_seen])).toEqual([
      ['v1', 'detected', '2026-03-02T10:00:00.000Z'],
      ['v2', 'detected', '2026-03-02T10:01:00.000Z'],
      ['v3', 'detected', '2026-03-02T10:02:00.000Z'],
    ])
    expect(await detectNewVersions(store)).toEqual([])
    const listed = await listDeployments(store)
    expect(listed.map((d) => d.model_version).sort()).toEqual(['v1', 'v2', 'v3'])
    expect(listed.find((d) => d.model_version === 'v1')).toMatchObject({
      status: 'detected',
      first_seen: '2026-03-02T10:00:00.000Z',
      marked_by: 'driftwatch:detect',
    })
  })
})

describe('deployments: marks and the rollback target', () => {
  it('takes the most recently marked stable version, even for marks in the same millisecond', async () => {
    const now = () => Date.parse('2026-03-03T00:00:00.000Z')
    expect(await lastStable(store)).toBeUndefined()
    const first = await markStable(store, 'v1', { note: 'baseline', by: 'alice', now })
    expect(first).toMatchObject({
      changed: true,
      previous_status: 'detected',
      deployment: { status: 'stable', note: 'baseline', marked_by: 'alice' },
    })
    await markStable(store, 'v2', { now })
    expect((await lastStable(store))!.model_version).toBe('v2')
    // The version under evaluation is never its own rollback target.
    expect((await lastStable(store, { excluding: 'v2' }))!.model_version).toBe('v1')
    expect((await lastStable(store, { excluding: 'v3' }))!.model_version).toBe('v2')
  })

  it('never targets a version rolled back or retired since', async () => {
    await markRolledBack(store, 'v2', { note: 'hallucination 2%' })
    expect((await lastStable(store))!.model_version).toBe('v1')
    await markRetired(store, 'v1')
    expect(await lastStable(store)).toBeUndefined()
    await markStable(store, 'v1', { note: 'back' })
    expect((await lastStable(store))!.model_version).toBe('v1')
  })

  it('writes nothing when the status is already set', async () => {
    const before = (await deploymentHistory(store)).length
    const again = await markStable(store, 'v1')
    expect(again).toMatchObject({ changed: false, previous_status: 'stable', deployment: { note: 'back' } })
    expect((await deploymentHistory(store)).length).toBe(before)
  })

  it('refuses a version never seen, unless forced', async () => {
    await expect(markStable(store, 'v9')).rejects.toThrowError(DeploymentError)
    await expect(markStable(store, 'v9')).rejects.toMatchObject({ code: 'UNKNOWN_VERSION' })
    const forced = await markStable(store, 'v9', { force: true, note: 'pre-registered' })
    expect(forced.deployment).toMatchObject({ model_version: 'v9', status: 'stable', first_seen: null })
  })

  it('orders concurrent marks as they were made (one at a time per store)', async () => {
    const now = () => Date.parse('2026-03-04T00:00:00.000Z')
    const [a, b] = await Promise.all([
      markStable(store, 'c1', { force: true, now }),
      markStable(store, 'c2', { force: true, now }),
    ])
    expect(Date.parse(b.deployment.marked_at)).toBeGreaterThan(Date.parse(a.deployment.marked_at))
    expect((await lastStable(store))!.model_version).toBe('c2')
    await markRetired(store, 'c2')
    await markRetired(store, 'c1')
  })

  it('keeps the whole history in order', async () => {
    const v1 = await deploymentHistory(store, 'v1')
    expect(v1.map((c) => c.status)).toEqual(['detected', 'stable', 'retired', 'stable'])
    expect(v1[1]).toMatchObject({ marked_by: 'alice', note: 'baseline' })
  })
})

describe('deployments: over the HTTP routes', () => {
  let server: LocalServer
  beforeAll(async () => {
    server = await startLocalServer({
      host: '127.0.0.1',
      port: 0,
      routes: deploymentRoutes(store),
      log: createLogger({ level: 'error' }),
      auth: { mode: 'tokens', tokens: { admin: 'admin-secret' } },
    })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('lists, marks and answers the rollback target like the store does', async () => {
    const api = httpDeployments(server.url, fetch, { authorization: 'Bearer admin-secret' })
    expect((await api.list()).map((d) => d.model_version).sort()).toEqual([
      'c1',
      'c2',
      'v1',
      'v2',
      'v3',
      'v9',
    ])
    const result = await api.mark('v3', 'stable', { note: 'canary healthy', by: 'bob' })
    expect(result).toMatchObject({
      changed: true,
      previous_status: 'detected',
      deployment: { model_version: 'v3', status: 'stable', marked_by: 'bob' },
    })
    expect((await api.lastStable())!.model_version).toBe('v3')
    expect((await api.lastStable('v3'))!.model_version).toBe('v9')
    expect((await api.history('v3')).map((c) => c.status)).toEqual(['detected', 'stable'])
    expect(await api.detect()).toEqual([])
  })

  it('returns the same typed errors', async () => {
    const api = httpDeployments(server.url, fetch, { authorization: 'Bearer admin-secret' })
    const unknown = await api.mark('nope', 'stable').catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(DeploymentError)
    expect(unknown).toMatchObject({ code: 'UNKNOWN_VERSION', fix: expect.stringMatching(/--force/) })
    const response = await fetch(`${server.url}/deployments/mark-stable`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer admin-secret' },
      body: JSON.stringify({ version: 'v1', extra: 1 }),
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      code: 'CONFIG',
      error: expect.stringMatching(/Unrecognized key/),
    })
    await expect(api.mark(' v1', 'stable')).rejects.toMatchObject({ code: 'BAD_VERSION' })
    await expect(httpDeployments('http://127.0.0.1:1').list()).rejects.toMatchObject({
      code: 'INSTANCE_UNREACHABLE',
      retriable: true,
    })
  })
})
