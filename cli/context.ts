// What most commands need, built once per command from flags, config and environment:
// the validated config, a logger, the Kafka brokers and the store.

import { loadConfig } from '../config/load.ts'
import type { Config } from '../config/schema.ts'
import { kafkaStatus } from '../infra/kafka-local.ts'
import { createKafka } from '../lib/kafka-client.ts'
import { createLogger, type Logger } from '../lib/log.ts'
import { createStore, type Store } from '../store/store.ts'
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
  return createStore(ctx.config.clickhouse, { cwd: ctx.io.cwd })
}
