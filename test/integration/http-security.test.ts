// The HTTP endpoint under attack and under load: the cross-site probe, missing and
// wrong tokens, a verdict token trying to write, a rebinding Host, and /sql limits hit
// while ingestion in the same process goes on.
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqlLimits } from '../../cli/context.ts'
import { parseConfig } from '../../config/load.ts'
import { storeDeployments } from '../../deploy/api.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import { produceSynthetic } from '../../producers/produce.ts'
import { interactionJsonBytes } from '../../producers/synthetic.ts'
import { deploymentRoutes } from '../../server/deploy-routes.ts'
import { type LocalServer, startLocalServer } from '../../server/http.ts'
import { sessionRoutes } from '../../server/session-routes.ts'
import { sqlRoute } from '../../server/sql-route.ts'
import { verdictRoute } from '../../server/verdict-route.ts'
import { migrate } from '../../store/migrate.ts'
import { createStore, type Store } from '../../store/store.ts'
import { produceJson, runIngestUntilCaughtUp, testConfig, testLog } from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'
import { testDatabase, testDataDir } from '../helpers/store.ts'

const config = parseConfig({
  clickhouse: { data_dir: testDataDir(), database: testDatabase('sec') },
  server: {
    sql: {
      max_execution_time: 5,
      max_memory_usage: 200_000_000,
      max_result_rows: 50,
      max_concurrent_queries: 1,
    },
  },
})
let store: Store
let local: LocalServer
let tokens: LocalServer

function probe(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      let text = ''
      res.on('data', (d) => {
        text += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

beforeAll(async () => {
  store = await createStore(config.clickhouse, { readOnlyLimits: sqlLimits(config) })
  await migrate(store)
  const routes = {
    'POST /sql': sqlRoute(store, config.server.sql),
    'GET /verdict': verdictRoute(store, () => []),
    ...deploymentRoutes(store),
  }
  local = await startLocalServer({
    host: '127.0.0.1',
    port: 0,
    routes,
    log: testLog,
    auth: { mode: 'local', tokens: { admin: 'local-secret' } },
  })
  const auth = { mode: 'tokens', tokens: { admin: 'adm', reader: 'rdr', verdict: 'vrd' } } as const
  tokens = await startLocalServer({
    host: '127.0.0.1',
    port: 0,
    routes: { ...routes, ...sessionRoutes(auth) },
    log: testLog,
    auth,
  })
})
afterAll(async () => {
  await local?.close()
  await tokens?.close()
  await store?.close()
})

describe('http endpoint: security', () => {
  it('refuses the cross-site probe with 403 and changes nothing', async () => {
    const evil = JSON.stringify({ version: 'evil-v9', force: true })
    for (const server of [local, tokens]) {
      const answer = await probe(
        server.url,
        'POST',
        '/deployments/mark-stable',
        { 'content-type': 'text/plain', origin: 'http://evil.example' },
        evil,
      )
      expect(answer.status).toBe(403)
      // Even with the right content type and the token, a foreign Origin is refused.
      const withToken = await probe(
        server.url,
        'POST',
        '/deployments/mark-stable',
        {
          'content-type': 'application/json',
          origin: 'http://evil.example',
          authorization: `Bearer ${server === local ? 'local-secret' : 'adm'}`,
        },
        evil,
      )
      expect(withToken.status).toBe(403)
    }
    const answer = await probe(
      local.url,
      'POST',
      '/sql',
      { 'content-type': 'text/plain' },
      '{"query":"SELECT 1"}',
    )
    expect(answer.status).toBe(403)
    expect(await storeDeployments(store).history('evil-v9')).toEqual([])
  })

  it('answers 401 without or with a wrong token, 403 to a verdict token that tries to write', async () => {
    expect((await probe(tokens.url, 'GET', '/deployments')).status).toBe(401)
    expect((await probe(tokens.url, 'GET', '/deployments', { authorization: 'Bearer guess' })).status).toBe(
      401,
    )
    expect((await probe(local.url, 'GET', '/deployments')).status).toBe(200)
    const write = (base: string, token?: string) =>
      probe(
        base,
        'POST',
        '/deployments/mark-stable',
        { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        JSON.stringify({ version: 'v-sec', force: true }),
      )
    expect((await write(local.url)).status).toBe(401)
    expect((await write(local.url, 'wrong')).status).toBe(401)
    expect((await write(tokens.url, 'vrd')).status).toBe(403)
    expect((await write(tokens.url, 'rdr')).status).toBe(403)
    expect(await storeDeployments(store).history('v-sec')).toEqual([])
    expect(
      (await probe(tokens.url, 'GET', '/verdict?version=v1', { authorization: 'Bearer vrd' })).status,
    ).toBe(200)
    expect((await write(tokens.url, 'adm')).status).toBe(200)
    expect((await write(local.url, 'local-secret')).status).toBe(200)
    expect((await storeDeployments(store).history('v-sec')).map((c) => c.status)).toEqual(['stable'])
  })

  it('signs the dashboard in with an HttpOnly SameSite=Strict cookie, never a URL token', async () => {
    const login = (token: string) =>
      probe(
        tokens.url,
        'POST',
        '/auth/login',
        { 'content-type': 'application/json' },
        JSON.stringify({ token }),
      )
    expect((await login('guess')).status).toBe(401)
    const ok = await new Promise<{ cookie: string }>((resolve, reject) => {
      const req = httpRequest(
        `${tokens.url}/auth/login`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume()
          resolve({ cookie: String(res.headers['set-cookie']) })
        },
      )
      req.on('error', reject)
      req.end(JSON.stringify({ token: 'rdr' }))
    })
    expect(ok.cookie).toMatch(/HttpOnly; SameSite=Strict/)
    const session = ok.cookie.split(';')[0]!
    expect((await probe(tokens.url, 'GET', '/deployments', { cookie: session })).status).toBe(200)
    expect((await probe(tokens.url, 'GET', '/deployments?token=rdr')).status).toBe(401)
  })

  it('refuses a Host header that is not a name of the endpoint (DNS rebinding)', async () => {
    const answer = await probe(local.url, 'GET', '/deployments', { host: 'evil.example:80' })
    expect(answer.status).toBe(403)
    expect(JSON.parse(answer.body).error).toMatch(/Host evil.example:80/)
  })
})

describe('http endpoint: /sql limits', () => {
  const sql = (query: string) =>
    probe(local.url, 'POST', '/sql', { 'content-type': 'application/json' }, JSON.stringify({ query }))

  it('stops results and memory over the limits with a clear non-200 error', async () => {
    const rows = await sql('SELECT number FROM numbers(1000)')
    expect(rows.status).toBe(413)
    expect(JSON.parse(rows.body)).toMatchObject({ code: 'SQL_TOO_MANY_ROWS_OR_BYTES' })
    const memory = await sql('SELECT groupArray(number) FROM numbers(100000000)')
    expect(memory.status).toBe(413)
    expect(JSON.parse(memory.body)).toMatchObject({ code: 'SQL_MEMORY_LIMIT_EXCEEDED' })
    // A query cannot lift its own limits: the session is readonly after they are set.
    const lifted = await sql('SELECT number FROM numbers(1000) SETTINGS max_result_rows = 0')
    expect(lifted.status).not.toBe(200)
  })

  it('stops a heavy query at max_execution_time while ingestion in the same process goes on', async () => {
    const brokers = getBrokers()
    const topic = uniqueTopic('sec-ingest')
    await createTopic(brokers, topic, 1)
    await produceJson(brokers, topic, 1000, { seed: 91 })
    const kafka = createKafka({ config: config.kafka, brokers: brokers.split(','), log: testLog })
    const producer = kafka.producer()
    await producer.connect()
    let heavy: Promise<{ status: number; body: string }> | undefined
    let storedWhenHeavyStarted = 0
    let storedWhenHeavyEnded = 0
    let secondQuery: { status: number; body: string } | undefined
    try {
      await runIngestUntilCaughtUp({
        brokers,
        store,
        topics: [topic],
        groupId: `${topic}.g`,
        config: testConfig(brokers, { ingest: { batch_size: 500, flush_interval_ms: 100 } }),
        whileRunning: async (consumer) => {
          while (consumer.totals.stored < 1000) await new Promise((r) => setTimeout(r, 50))
          storedWhenHeavyStarted = consumer.totals.stored
          heavy = sql('SELECT count() FROM numbers(1000000000000) WHERE sipHash64(number) % 7 = 3').finally(
            () => {
              storedWhenHeavyEnded = consumer.totals.stored
            },
          )
          secondQuery = await sql('SELECT 1')
          await produceSynthetic({
            producer,
            topic,
            count: 3000,
            synthetic: { seed: 92 },
            encode: (i) => ({ value: interactionJsonBytes(i) }),
            batchSize: 500,
          })
          await heavy
        },
      })
    } finally {
      await producer.disconnect()
    }
    const answer = await heavy!
    expect(answer.status).toBe(408)
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'SQL_TIMEOUT_EXCEEDED' })
    expect(JSON.parse(answer.body).fix).toMatch(/server.sql.max_execution_time/)
    // One query at a time (max_concurrent_queries: 1): the second is refused, not queued.
    expect(secondQuery?.status).toBe(429)
    expect(storedWhenHeavyStarted).toBe(1000)
    // Rows produced after the heavy query started were stored before it was stopped.
    expect(
      storedWhenHeavyEnded,
      `stored ${storedWhenHeavyStarted} -> ${storedWhenHeavyEnded}`,
    ).toBeGreaterThan(storedWhenHeavyStarted)
    const [count] = await store.query<{ c: number }>('SELECT count() AS c FROM interactions')
    expect(Number(count!.c)).toBe(4000)
  })
})
