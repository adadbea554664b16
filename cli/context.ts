// What most commands need, built once per command from flags, config and environment:
// the validated config, a logger, the Kafka brokers and the store.

import { loadConfig } from '../config/load.ts'
import type { Config } from '../config/schema.ts'
import { kafkaStatus } from '../infra/kafka-local.ts'
import { StoreLockedError } from '../lib/errors.ts'
import { createKafka } from '../lib/kafka-client.ts'
import { createLogger, type Logger } from '../lib/log.ts'
import { readInstanceFile, readLocalToken, storeLockedError, waitForInstanceUrl } from '../store/instance.ts'
import { createStore, embeddedDataDir, type Store } from '../store/store.ts'
import type { CliIO } from './io.ts'

export interface AppContext {
  config: Config
  configSource: string | undefined
  log: Logger
  io: CliIO
}

export function appContext(io: CliIO, configPath: string | undefined): AppContext {
  const { config, source } = loadConfig({ path: configPath, env: io.env, cwd: io.cwd })
  return { config, configSource: source, log: createLogger(), io }
}

/**
 * Brokers from config or KAFKA_BROKERS; otherwise the local broker of `driftwatch kafka up`
 * when it runs; otherwise 127.0.0.1:9092.
 */
export async function resolveBrokers(ctx: AppContext): Promise<string[]> {
  if (ctx.config.kafka.brokers) return ctx.config.kafka.brokers
  const local = await kafkaStatus({ cwd: ctx.io.cwd, env: ctx.io.env })
  if (local.running && local.brokers) return local.brokers.split(',')
  return ['127.0.0.1:9092']
}

export async function kafkaFor(ctx: AppContext, clientId?: string) {
  const brokers = await resolveBrokers(ctx)
  return { brokers, kafka: createKafka({ config: ctx.config.kafka, brokers, log: ctx.log, clientId }) }
}

export function openStore(ctx: AppContext): Promise<Store> {
  return createStore(ctx.config.clickhouse, {
    cwd: ctx.io.cwd,
    readOnlyLimits: sqlLimits(ctx.config),
    log: ctx.log.child({ component: 'store' }),
  })
}

/** ClickHouse settings that bound every read-only (ad hoc) query: server.sql. */
export function sqlLimits(config: Config): Record<string, number | string> {
  const sql = config.server.sql
  return {
    max_execution_time: sql.max_execution_time,
    max_memory_usage: sql.max_memory_usage,
    max_result_rows: sql.max_result_rows,
    max_result_bytes: sql.max_result_bytes,
    result_overflow_mode: 'throw',
  }
}

/**
 * Headers that authenticate this CLI to a running owner: the admin token from the env var
 * named by server.auth.admin_token_env, else the local-mode token the owner wrote to
 * <data_dir>/token (readable by the same user only).
 */
export function instanceHeaders(ctx: AppContext): Record<string, string> {
  const token =
    ctx.io.env[ctx.config.server.auth.admin_token_env]?.trim() ||
    readLocalToken(embeddedDataDir(ctx.config.clickhouse, ctx.io.cwd))
  return token ? { authorization: `Bearer ${token}` } : {}
}

/**
 * How a short-lived command reaches the embedded store: through the running owner's local
 * endpoint when there is one (waiting for it if it is still starting), else by opening the
 * store itself for the length of `direct`. Server mode always goes direct.
 */
export async function reachStore<T>(
  ctx: AppContext,
  viaHttp: (url: string, headers: Record<string, string>) => Promise<T>,
  direct: (store: Store) => Promise<T>,
): Promise<T> {
  if (!ctx.config.clickhouse.url) {
    const dataDir = embeddedDataDir(ctx.config.clickhouse, ctx.io.cwd)
    const owner = readInstanceFile(dataDir)
    if (owner) {
      const url = owner.url ?? (await waitForInstanceUrl(dataDir, 30_000))
      if (url) return viaHttp(url, instanceHeaders(ctx))
      throw storeLockedError(dataDir, readInstanceFile(dataDir), undefined)
    }
    let store: Store
    try {
      store = await openStore(ctx)
    } catch (error) {
      // An owner that started after our look has locked the folder: go through it.
      if (!(error instanceof StoreLockedError)) throw error
      const url = await waitForInstanceUrl(dataDir, 30_000)
      if (!url) throw error
      return viaHttp(url, instanceHeaders(ctx))
    }
    try {
      return await direct(store)
    } finally {
      await store.close()
    }
  }
  const store = await openStore(ctx)
  try {
    return await direct(store)
  } finally {
    await store.close()
  }
}
