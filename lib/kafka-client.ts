// Builds the kafkajs client from config, in one place: brokers, TLS, SASL, and kafkajs's
// own logs routed into driftwatch's structured logger.

import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs'
import type { KafkaConfig } from '../config/schema.ts'
import { kafkaLogLevel } from './kafka-log.ts'
import type { Logger } from './log.ts'

export interface KafkaClientOptions {
  config: KafkaConfig
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
