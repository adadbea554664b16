// The one zod schema of driftwatch.yaml. Every key, its default and its meaning live here;
// docs/config.md is the reader's copy. Keys are snake_case like the rest of the YAML.

import { z } from 'zod'

const port = z.number().int().min(0).max(65535)
const positiveInt = z.number().int().positive()

export const KafkaConfigSchema = z
  .object({
    /** host:port list. Env KAFKA_BROKERS (comma-separated) wins; unset → the local broker of `driftwatch kafka up`, else 127.0.0.1:9092. */
    brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1).optional(),
    client_id: z.string().min(1).default('driftwatch'),
    /** Topics the ingest consumer reads. */
    topics: z.array(z.string().min(1)).min(1).default(['llm.interactions']),
    group_id: z.string().min(1).default('driftwatch-ingest'),
    /** Where messages that cannot become a row go, with the reason in headers. */
    dead_letter_topic: z.string().min(1).default('llm.interactions.dlq'),
    /** Numeric rollback triggers are published here. */
    rollback_topic: z.string().min(1).default('llm.rollback'),
    ssl: z.boolean().default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        /** Prefer env KAFKA_SASL_PASSWORD over writing it here. */
        password: z.string().optional(),
      })
      .strict()
      .optional(),
    /** Partitions created for topics driftwatch creates itself (local broker, demo). */
    default_partitions: positiveInt.default(3),
  })
  .strict()

export const SchemaRegistryConfigSchema = z
  .object({
    /** Unset: only plain JSON messages are accepted; framed ones go to the DLQ as unknown_schema_id. Env SCHEMA_REGISTRY_URL. */
    url: z.string().url().optional(),
    username: z.string().optional(),
    /** Prefer env SCHEMA_REGISTRY_PASSWORD. */
    password: z.string().optional(),
  })
  .strict()

export const ClickHouseConfigSchema = z
  .object({
    /** Unset: embedded ClickHouse (chDB) in data_dir. Env CLICKHOUSE_URL. */
    url: z.string().url().optional(),
    username: z.string().default('default'),
    /** Prefer env CLICKHOUSE_PASSWORD. */
    password: z.string().default(''),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only')
      .default('driftwatch'),
    /** Folder of the embedded store. Env DRIFTWATCH_DATA_DIR. Relative to the working directory. */
    data_dir: z.string().min(1).default('.driftwatch/data'),
    request_timeout_ms: positiveInt.default(60_000),
  })
  .strict()

export const IngestConfigSchema = z
  .object({
    /** Rows per insert, at most. */
    batch_size: positiveInt.max(1_000_000).default(5000),
    /** A partial batch is inserted after this long (the broker's fetch wait). */
    flush_interval_ms: positiveInt.max(60_000).default(1000),
    /** Larger messages go to the dead-letter topic as too_large. */
    max_message_bytes: positiveInt.default(1_048_576),
    /** Partitions processed in parallel by one consumer process. */
    partitions_concurrently: positiveInt.max(64).default(3),
    /** Backoff while ClickHouse is unavailable: first delay and cap. Retries never give up. */
    retry_initial_ms: positiveInt.default(200),
    retry_max_ms: positiveInt.default(10_000),
  })
  .strict()

export const ServerConfigSchema = z
  .object({
    /** The local HTTP endpoint (read-only SQL, health, later verdicts). Bound to localhost by default. */
    host: z.string().default('127.0.0.1'),
    /** 0 picks a free port; the running instance records it in <data_dir>/instance.json. Env DRIFTWATCH_HTTP_PORT. */
    port: port.default(8787),
  })
  .strict()

export const ConfigSchema = z
  .object({
    kafka: KafkaConfigSchema.default(KafkaConfigSchema.parse({})),
    schema_registry: SchemaRegistryConfigSchema.default({}),
    clickhouse: ClickHouseConfigSchema.default(ClickHouseConfigSchema.parse({})),
    ingest: IngestConfigSchema.default(IngestConfigSchema.parse({})),
    server: ServerConfigSchema.default(ServerConfigSchema.parse({})),
  })
  .strict()

export type Config = z.output<typeof ConfigSchema>
export type KafkaConfig = Config['kafka']
export type ClickHouseConfig = Config['clickhouse']
export type IngestConfig = Config['ingest']
