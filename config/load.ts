// Reads driftwatch.yaml (or none), applies environment overrides, validates once with
// zod and returns one filled Config. Errors name the key, what was wrong and the fix.

import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { ConfigError } from '../lib/errors.ts'
import { type Config, ConfigSchema } from './schema.ts'

export const DEFAULT_CONFIG_FILE = 'driftwatch.yaml'

export interface LoadConfigOptions {
  /** --config; else env DRIFTWATCH_CONFIG; else ./driftwatch.yaml when it exists. */
  path?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface LoadedConfig {
  config: Config
  /** The file read, if any. */
  source: string | undefined
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const explicit = options.path ?? env.DRIFTWATCH_CONFIG
  let source: string | undefined
  let raw: unknown = {}
  if (explicit) {
    source = resolve(cwd, explicit)
    if (!existsSync(source)) {
      throw new ConfigError(`config file ${source} does not exist`, {
        fix: 'pass an existing file with --config or DRIFTWATCH_CONFIG, or omit both to use the defaults',
      })
    }
  } else if (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE))) {
    source = resolve(cwd, DEFAULT_CONFIG_FILE)
  }
  if (source) raw = readYaml(source)
  return { config: parseConfig(applyEnv(raw, env), source), source }
}

/** Validates an already-parsed object (tests, embedding). */
export function parseConfig(raw: unknown, source = 'config'): Config {
  const result = ConfigSchema.safeParse(raw ?? {})
  if (result.success) return result.data
  throw new ConfigError(`invalid ${source}:\n${formatConfigIssues(result.error)}`, {
    fix: 'correct the keys named above; docs/config.md lists every key and its default',
  })
}

export function formatConfigIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)'
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (path === '(top level)' ? k : `${path}.${k}`))
        return `  - unknown key ${keys.join(', ')}: remove it or check its spelling`
      }
      return `  - ${path}: ${issue.message}`
    })
    .join('\n')
}

function readYaml(file: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8')) ?? {}
  } catch (error) {
    throw new ConfigError(`cannot parse ${file} as YAML: ${(error as Error).message}`, {
      fix: 'fix the YAML syntax at the line shown',
      cause: error,
    })
  }
}

/** Environment variables win over the file; each one maps to exactly one key. */
export function applyEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) return raw
  const config = structuredClone((raw ?? {}) as Record<string, Record<string, unknown>>)
  const set = (section: string, key: string, value: unknown) => {
    const current = config[section]
    if (current !== undefined && (typeof current !== 'object' || current === null)) return
    config[section] = { ...(current ?? {}), [key]: value }
  }
  if (env.KAFKA_BROKERS) set('kafka', 'brokers', splitList(env.KAFKA_BROKERS))
  if (env.KAFKA_SASL_PASSWORD && config.kafka?.sasl && typeof config.kafka.sasl === 'object') {
    config.kafka.sasl = { ...(config.kafka.sasl as object), password: env.KAFKA_SASL_PASSWORD }
  }
  if (env.SCHEMA_REGISTRY_URL) set('schema_registry', 'url', env.SCHEMA_REGISTRY_URL)
  if (env.SCHEMA_REGISTRY_USERNAME) set('schema_registry', 'username', env.SCHEMA_REGISTRY_USERNAME)
  if (env.SCHEMA_REGISTRY_PASSWORD) set('schema_registry', 'password', env.SCHEMA_REGISTRY_PASSWORD)
  if (env.CLICKHOUSE_URL) set('clickhouse', 'url', env.CLICKHOUSE_URL)
  if (env.CLICKHOUSE_USER) set('clickhouse', 'username', env.CLICKHOUSE_USER)
  if (env.CLICKHOUSE_PASSWORD) set('clickhouse', 'password', env.CLICKHOUSE_PASSWORD)
  if (env.CLICKHOUSE_DATABASE) set('clickhouse', 'database', env.CLICKHOUSE_DATABASE)
  if (env.DRIFTWATCH_DATA_DIR) set('clickhouse', 'data_dir', env.DRIFTWATCH_DATA_DIR)
  if (env.DRIFTWATCH_HTTP_PORT) {
    const port = Number(env.DRIFTWATCH_HTTP_PORT)
    if (!Number.isInteger(port)) {
      throw new ConfigError(`DRIFTWATCH_HTTP_PORT=${env.DRIFTWATCH_HTTP_PORT} is not a port number`, {
        fix: 'set DRIFTWATCH_HTTP_PORT to an integer between 0 and 65535',
      })
    }
    set('server', 'port', port)
  }
  return config
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}
