// A server store whose query fails: the error reaches the caller once, as a StoreError, and
// the ClickHouse client's own log goes to driftwatch's logger at debug, never to the console
// (before, @clickhouse/client printed each failed request with its settings and a stack).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { createLogger } from '../../lib/log.ts'
import { clientLogTo } from '../../store/client-log.ts'
import { createStore } from '../../store/store.ts'

let server: Server
let url: string

beforeAll(async () => {
  // Answers DDL with an empty 200 and every other query with ClickHouse's syntax error.
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (d: Buffer) => chunks.push(d))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString()
      if (/^CREATE DATABASE/.test(body)) {
        res.writeHead(200, { 'X-ClickHouse-Summary': '{}' }).end()
        return
      }
      res
        .writeHead(400, { 'X-ClickHouse-Exception-Code': '62', 'Content-Type': 'text/plain' })
        .end(
          "Code: 62. DB::Exception: Syntax error: failed at position 1 ('SELEC'). (SYNTAX_ERROR) (version 25.8.1.1)\n",
        )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})
afterEach(() => {
  vi.restoreAllMocks()
})

describe('the ClickHouse client log', () => {
  it('a failed query on a server store writes nothing to the console and one debug line', async () => {
    const consoleCalls = (['debug', 'info', 'log', 'warn', 'error'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    )
    const lines: string[] = []
    const log = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) })
    const config = parseConfig({ clickhouse: { url, database: 'logcheck' } })
    const store = await createStore(config.clickhouse, { log })
    try {
      await expect(store.query('SELEC 1')).rejects.toThrow(/Syntax error/)
    } finally {
      await store.close()
    }
    for (const spy of consoleCalls) expect(spy).not.toHaveBeenCalled()
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ level: 'debug', client_module: 'Connection' })
    expect(String(records[0]!.error)).toMatch(/Syntax error/)
  })

  it('forwards every client level as debug, so nothing shows at info', () => {
    const lines: string[] = []
    const options = clientLogTo(createLogger({ level: 'info', write: (l) => lines.push(l) }))
    const client = new options.LoggerClass()
    client.error({ module: 'Connection', message: 'failed', err: new Error('x') })
    client.warn({ module: 'Connection', message: 'slow' })
    expect(lines).toEqual([])
  })
})
