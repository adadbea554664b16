// The ClickHouse store: one factory for both backends. Embedded ClickHouse (chDB in a data
// folder) is the default; clickhouse.url selects a server. Everything else in driftwatch
// talks to the `Store` interface, never to a backend directly.

import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { type ClickHouseClient, type ClickHouseSettings, createClient } from '@clickhouse/client'
import type { ClickHouseConfig } from '../config/schema.ts'
import { errorMessage } from '../lib/errors.ts'
import { createLogger, type Logger } from '../lib/log.ts'
import { type ClientLogOptions, clientLogTo } from './client-log.ts'
import { embeddedClusterError } from './cluster-ddl.ts'
import { toStoreError } from './errors.ts'
import { readInstanceFile, storeLockedError } from './instance.ts'

export type StoreKind = 'embedded' | 'server'
export type QueryParams = Record<string, unknown>

export interface InsertOptions {
  /** Same token, same rows: ClickHouse stores the block once (insert_deduplication_token). */
  dedupToken?: string
  /**
   * Send rows as JSONCompactEachRow (values only, columns named once) instead of
   * JSONEachRow. ClickHouse parses it markedly faster; every row must have every key of the first.
   */
  compact?: boolean
}

/** Row formats the engine parses itself from bytes handed over as they are. */
export type RawInsertFormat = 'JSONEachRow' | 'JSONCompactEachRow'

export interface RawInsertOptions {
  format: RawInsertFormat
  /** Column names in the order the rows carry them (required for JSONCompactEachRow). */
  columns?: readonly string[]
  dedupToken?: string
}

export interface Store {
  readonly kind: StoreKind
  readonly database: string
  /** clickhouse.cluster: migrations apply their cluster variant (server mode only). */
  readonly cluster?: string
  /** Where the data lives: the data folder or the server URL without credentials. */
  readonly location: string
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>
  /** Read-only by ClickHouse's own `readonly` setting: for ad hoc SQL typed by people. */
  queryReadOnly(sql: string, params?: QueryParams, format?: ReadOnlyFormat): Promise<string>
  command(sql: string, params?: QueryParams): Promise<void>
  insert(table: string, rows: readonly object[], options?: InsertOptions): Promise<void>
  /**
   * Inserts rows already encoded as `format` lines, without building objects: embedded, the
   * bytes go to chDB's parser zero-copy (`rawInsert`); server, as one gzip-compressed POST body.
   */
  insertRaw(table: string, body: Buffer, options: RawInsertOptions): Promise<void>
  ping(): Promise<boolean>
  close(): Promise<void>
}

export type ReadOnlyFormat =
  | 'JSONEachRow'
  | 'JSONCompactEachRowWithNames'
  | 'CSVWithNames'
  | 'TabSeparatedWithNames'

export interface CreateStoreOptions {
  cwd?: string
  /** Settings bounding every queryReadOnly (max_execution_time, max_memory_usage, ...): server.sql. */
  readOnlyLimits?: ClickHouseSettings
  /** Where the ClickHouse client's own warnings and errors go, at debug (store/client-log.ts). */
  log?: Logger
}

// 64-bit integers as JSON numbers, in one place: counts and offsets stay below 2^53.
const COMMON_SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
  date_time_output_format: 'iso',
}

export async function createStore(
  config: ClickHouseConfig,
  options: CreateStoreOptions = {},
): Promise<Store> {
  const limits = options.readOnlyLimits ?? {}
  const log = clientLogTo(options.log ?? createLogger({ fields: { component: 'store' } }))
  if (config.cluster && !config.url) throw embeddedClusterError(config.cluster)
  return config.url
    ? createServerStore(config, limits, log)
    : createEmbeddedStore(config, options.cwd ?? process.cwd(), limits, log)
}

export function embeddedDataDir(config: ClickHouseConfig, cwd = process.cwd()): string {
  return resolve(cwd, config.data_dir)
}

/** jemalloc returns freed pages to the system at once rather than after ~10 s (docs/scaling.md). */
const RELEASE_MEMORY = 'dirty_decay_ms:0,muzzy_decay_ms:0'

async function createEmbeddedStore(
  config: ClickHouseConfig,
  cwd: string,
  limits: ClickHouseSettings,
  log: ClientLogOptions,
): Promise<Store> {
  const dataDir = embeddedDataDir(config, cwd)
  mkdirSync(dataDir, { recursive: true })
  // chdb keeps SET and USE per session and for the session's life. So writes and the
  // read-only ad hoc session are separate sessions: `readonly` set on one never reaches
  // the other, and every insert names its own dedup token so none leaks to the next.
  // The engine's allocator (jemalloc) reads its options once, when chDB is first loaded.
  if (config.release_memory) process.env.JE_MALLOC_CONF ??= RELEASE_MEMORY
  const { createChdbConnection } = await import('chdb/connection')
  // A live owner recorded in the folder: say who it is before chDB prints its own error.
  const owner = readInstanceFile(dataDir)
  if (owner && owner.pid !== process.pid) throw storeLockedError(dataDir, owner, undefined)
  // chDB opens the folder lazily, on the first query; a folder locked by a process that
  // left no record fails there with a generic error (the lock detail goes to stderr).
  const lockAware = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (error) {
      if (/Cannot lock file|already running|Failed to create connection/i.test(errorMessage(error))) {
        throw storeLockedError(dataDir, readInstanceFile(dataDir), error)
      }
      throw toStoreError(error, `cannot open the embedded store in ${dataDir}`)
    }
  }
  const connect = () => createChdbConnection({ path: dataDir })
  const open = (connection = connect()) =>
    createClient({ connection, clickhouse_settings: COMMON_SETTINGS, log } as never) as ClickHouseClient
  const writerConnection = await lockAware(async () => connect())
  const writer = open(writerConnection)
  await lockAware(() => writer.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` }))
  await run(() => writer.command({ query: `USE ${config.database}` }))
  let reader: ClickHouseClient | undefined
  const readOnly = async () => {
    if (!reader) {
      reader = open()
      await run(() => reader!.command({ query: `USE ${config.database}` }))
      // Limits first: once readonly = 1, no query of this session can change a setting,
      // so a typed `SETTINGS max_execution_time = 0` cannot lift them.
      for (const [key, value] of Object.entries(limits)) {
        const literal = typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`
        await run(() => reader!.command({ query: `SET ${key} = ${literal}` }))
      }
      await run(() => reader!.command({ query: 'SET readonly = 1' }))
    }
    return reader
  }
  return buildStore({
    kind: 'embedded',
    database: config.database,
    location: dataDir,
    client: writer,
    readOnlyClient: readOnly,
    readOnlySettings: {},
    insertSettings: (token) => ({ insert_deduplication_token: token ?? randomUUID() }),
    insertRaw: async (table, body, options) => {
      await writerConnection.chdb.rawInsert({
        table: `${config.database}.${table}`,
        values: body,
        format: options.format,
        columns: options.columns,
        settings: { insert_deduplication_token: options.dedupToken ?? randomUUID() },
      })
    },
    close: async () => {
      await reader?.close()
      await writer.close()
    },
  })
}

async function createServerStore(
  config: ClickHouseConfig,
  limits: ClickHouseSettings,
  log: ClientLogOptions,
): Promise<Store> {
  const url = new URL(config.url!)
  const plain = {
    url: config.url!,
    username: config.username,
    password: config.password,
    request_timeout: config.request_timeout_ms,
    clickhouse_settings: COMMON_SETTINGS,
    log,
  }
  // Inserts go gzip-compressed: ~1.2 KB JSON rows shrink ~4x on the wire.
  const base = { ...plain, compression: { request: true, response: true } }
  const bootstrap = createClient(base)
  try {
    await run(() => bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` }))
  } finally {
    await bootstrap.close()
  }
  const client = createClient({ ...base, database: config.database })
  url.username = ''
  url.password = ''
  return buildStore({
    kind: 'server',
    database: config.database,
    cluster: config.cluster,
    location: url.toString(),
    client,
    readOnlyClient: async () => client,
    // readonly=2 refuses writes and DDL but lets the client send its own settings (the
    // limits); a query's own SETTINGS clause could raise them too, so on a shared server
    // give driftwatch a user whose profile constrains them (docs/security.md).
    readOnlySettings: { readonly: '2', ...limits },
    insertSettings: (token) => (token ? { insert_deduplication_token: token } : {}),
    insertRaw: async (table, body, options) => {
      const columns = options.columns ? ` (${options.columns.join(', ')})` : ''
      const result = await client.exec({
        query: `INSERT INTO ${table}${columns} FORMAT ${options.format}`,
        values: Readable.from([body]),
        clickhouse_settings: options.dedupToken ? { insert_deduplication_token: options.dedupToken } : {},
      })
      result.stream.resume()
      await finished(result.stream)
    },
    close: () => client.close(),
  })
}

interface StoreParts {
  kind: StoreKind
  database: string
  cluster?: string
  location: string
  client: ClickHouseClient
  readOnlyClient: () => Promise<ClickHouseClient>
  readOnlySettings: ClickHouseSettings
  insertSettings: (token: string | undefined) => ClickHouseSettings
  insertRaw: Store['insertRaw']
  close: () => Promise<void>
}

function buildStore(parts: StoreParts): Store {
  const { client } = parts
  let closed = false
  return {
    kind: parts.kind,
    database: parts.database,
    cluster: parts.cluster,
    location: parts.location,
    async query<T>(sql: string, params?: QueryParams) {
      return run(async () => {
        const result = await client.query({ query: sql, query_params: params, format: 'JSONEachRow' })
        return (await result.json()) as T[]
      })
    },
    async queryReadOnly(sql, params, format = 'JSONEachRow') {
      const reader = await parts.readOnlyClient()
      return run(async () => {
        const result = await reader.query({
          query: sql,
          query_params: params,
          format,
          clickhouse_settings: parts.readOnlySettings,
        })
        return result.text()
      })
    },
    async command(sql, params) {
      await run(() => client.command({ query: sql, query_params: params }))
    },
    async insert(table, rows, options = {}) {
      if (rows.length === 0) return
      const settings = parts.insertSettings(options.dedupToken)
      if (options.compact) {
        const columns = Object.keys(rows[0]!) as [string, ...string[]]
        const values = rows.map((row) => columns.map((c) => (row as Record<string, unknown>)[c]))
        await run(() =>
          client.insert({
            table,
            values,
            columns,
            format: 'JSONCompactEachRow',
            clickhouse_settings: settings,
          }),
        )
      } else {
        await run(() =>
          client.insert({
            table,
            values: rows as object[],
            format: 'JSONEachRow',
            clickhouse_settings: settings,
          }),
        )
      }
    },
    async insertRaw(table, body, options) {
      if (body.length === 0) return
      await run(() => parts.insertRaw(table, body, options))
    },
    async ping() {
      try {
        return (await client.ping()).success
      } catch {
        return false
      }
    },
    async close() {
      if (closed) return
      closed = true
      await parts.close()
    },
  }
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw toStoreError(error)
  }
}
