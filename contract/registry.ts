// The one place that builds a schema-registry client from driftwatch configuration.
//
// Imports reach into the package's dist/ files on purpose: its index re-exports the AWS,
// Azure, GCP and Vault KMS drivers, which costs ~1 s and ~35 MB per process for nothing
// driftwatch uses. The package (pinned) has no "exports" map, so these paths are stable
// for a given version; re-check them when upgrading.

import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js'
import type { ClientConfig } from '@confluentinc/schemaregistry/dist/rest-service.js'
import { type Client, SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js'
import { ConfigError } from '../lib/errors.ts'

/** Any registry client: the real REST client or the package's in-memory MockClient. */
export type RegistryClient = Client

export type RegistryConfig =
  | {
      /** One URL or a comma-separated list (tried in order); `mock://...` gives a MockClient. */
      url: string
      username?: string
      password?: string
      /** Per-request timeout; axios' default is none, so a hung registry would stall ingest. */
      timeoutMs?: number
      /** Retries inside the client before the caller sees RegistryUnavailableError. */
      maxRetries?: number
    }
  | { mock: true }

export function createRegistryClient(config: RegistryConfig): RegistryClient {
  if ('mock' in config) return new MockClient()
  const urls = config.url
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
  if (urls.length === 0)
    throw new ConfigError('schema registry url is empty', {
      fix: 'set schema_registry.url, e.g. http://localhost:8081',
    })
  if (urls[0]!.startsWith('mock://')) return new MockClient()

  let username = config.username
  let password = config.password
  const baseURLs = urls.map((raw) => {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new ConfigError(`schema registry url is not a URL: ${redact(raw)}`, {
        fix: 'use e.g. https://registry.example.com:8081',
      })
    }
    // Credentials inside the URL are moved to basic auth, so the URL can be logged.
    if (url.username && username === undefined) {
      username = decodeURIComponent(url.username)
      password = decodeURIComponent(url.password)
    }
    url.username = ''
    url.password = ''
    return url.toString().replace(/\/$/, '')
  })
  if (password !== undefined && username === undefined) {
    throw new ConfigError('schema registry password given without a username', {
      fix: 'set schema_registry.username too',
    })
  }

  const clientConfig: ClientConfig = {
    baseURLs,
    createAxiosDefaults: { timeout: config.timeoutMs ?? 10_000 },
    // Short in-client retries: the ingest consumer owns the long backoff for outages.
    maxRetries: config.maxRetries ?? 2,
    retriesWaitMs: 200,
    retriesMaxWaitMs: 2_000,
  }
  if (username !== undefined) {
    clientConfig.basicAuthCredentials = {
      credentialsSource: 'USER_INFO',
      userInfo: `${username}:${password ?? ''}`,
    }
  }
  return new SchemaRegistryClient(clientConfig)
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}
