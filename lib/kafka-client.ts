// Builds the kafkajs client in one place: brokers, TLS, SASL, and kafkajs's own logs routed
// into driftwatch's structured logger. lib/ imports no config: callers pass the connection
// settings (config's `kafka` section has this shape, so `config.kafka` can be passed as is).

import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs'
import { kafkaLogLevel } from './kafka-log.ts'
import type { Logger } from './log.ts'

/** The connection settings createKafka reads (a subset of config's `kafka` section). */
export interface KafkaConnectionSettings {
  client_id: string
  ssl: boolean
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password?: string }
}

export interface KafkaClientOptions {
  config: KafkaConnectionSettings
  brokers: string[]
  log: Logger
  clientId?: string
}

export function createKafka({ config, brokers, log, clientId }: KafkaClientOptions): Kafka {
  const kafkaLog = log.child({ component: 'kafkajs' })
  return new Kafka({
    clientId: clientId ?? config.client_id,
    brokers,
    ssl: config.ssl,
    sasl: config.sasl
      ? ({
          mechanism: config.sasl.mechanism,
          username: config.sasl.username,
          password: config.sasl.password ?? '',
        } as never)
      : undefined,
    connectionTimeout: 3000,
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log
      // kafkajs warns about its own partitioner default at every start: noise, not news.
      if (/KafkaJS v2.0.0 switched default partitioner/.test(message)) return
      kafkaLog[kafkaLogLevel(entry.level, message, fields)](message, {
        namespace: entry.namespace,
        ...fields,
      })
    },
  })
}
