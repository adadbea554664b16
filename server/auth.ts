// Who may call which route of the HTTP endpoint, decided from the request's headers alone.
// Pure: the tokens are resolved once at start (resolveAuth) and passed in; the checks below
// read only method, path and headers. The order of the checks is the order of the threats:
// DNS rebinding (Host), cross-site writes (Content-Type, Origin), then the bearer token.

import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { ServerConfig } from '../config/schema.ts'
import { ConfigError } from '../lib/errors.ts'

/** What a route needs. `admin` ⊃ `read` ⊃ `verdict` ⊃ `public`. */
export type Access = 'public' | 'verdict' | 'read' | 'admin'
export type Role = 'admin' | 'reader' | 'verdict'

export const SESSION_COOKIE = 'driftwatch_session'

export interface AuthSettings {
  /** tokens: at least one token configured; local: none, loopback bind, writes need the local token. */
  mode: 'tokens' | 'local'
  tokens: Partial<Record<Role, string>>
}

export interface RequestFacts {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
}

export type Decision =
  | { allowed: true; role: Role | 'anonymous' }
  | { allowed: false; status: 401 | 403; error: string; fix: string }

const GRANTS: Record<Role, readonly Access[]> = {
  admin: ['public', 'verdict', 'read', 'admin'],
  reader: ['public', 'verdict', 'read'],
  verdict: ['public', 'verdict'],
}

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '')
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'))
}

function isWildcard(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '')
  return bare === '0.0.0.0' || bare === '::' || bare === ''
}

/**
 * Tokens from the env vars named under server.auth. `localToken` is what the owner wrote to
 * <data_dir>/token; it is the admin token of local mode. A non-loopback bind without any
 * token is refused here, before anything listens.
 */
export function resolveAuth(
  server: Pick<ServerConfig, 'host' | 'auth'>,
  env: NodeJS.ProcessEnv,
  localToken: () => string,
): AuthSettings {
  const read = (name: string) => {
    const value = env[name]?.trim()
    return value ? value : undefined
  }
  const tokens: Partial<Record<Role, string>> = {}
  const admin = read(server.auth.admin_token_env)
  const reader = read(server.auth.read_token_env)
  const verdict = read(server.auth.verdict_token_env)
  if (admin) tokens.admin = admin
  if (reader) tokens.reader = reader
  if (verdict) tokens.verdict = verdict
  if (Object.keys(tokens).length > 0) return { mode: 'tokens', tokens }
  if (!isLoopback(server.host)) {
    throw new ConfigError(
      `server.host is ${server.host}, a non-loopback address, and no token is configured (${server.auth.admin_token_env}, ${server.auth.read_token_env}, ${server.auth.verdict_token_env} are unset): anyone who reaches it could read every interaction and mark deployments`,
      {
        fix: `set ${server.auth.admin_token_env} (and ${server.auth.read_token_env}, ${server.auth.verdict_token_env} for read-only and Argo clients) in the environment, or bind server.host: 127.0.0.1`,
      },
    )
  }
  return { mode: 'local', tokens: { admin: localToken() } }
}

/** The access a route needs: POST is a write unless it only reads (/sql) or logs in. */
export function routeAccess(method: string, path: string): Access {
  if (method === 'GET') {
    if (
      path === '/health' ||
      path === '/ready' ||
      path === '/' ||
      path === '/favicon.ico' ||
      path.startsWith('/assets/')
    )
      return 'public'
    if (path === '/verdict') return 'verdict'
    return 'read'
  }
  if (path === '/auth/login' || path === '/auth/logout') return 'public'
  if (path === '/sql' || path === '/api/sql') return 'read'
  return 'admin'
}

/** The names a client may use in the Host header for an endpoint bound to `host:port`. */
export type BindConfig = Pick<ServerConfig, 'host' | 'allowed_hosts' | 'allowed_origins'>

export function allowedHosts(server: BindConfig, port: number): Set<string> | undefined {
  const extra = server.allowed_hosts.flatMap((h) =>
    h.includes(':') && !h.startsWith('[') ? [h] : [h, `${h}:${port}`],
  )
  if (isWildcard(server.host)) return extra.length > 0 ? new Set(extra) : undefined
  const names = isLoopback(server.host) ? ['localhost', '127.0.0.1', '[::1]', server.host] : [server.host]
  const bracketed = names.map((n) => (isIP(n) === 6 ? `[${n}]` : n))
  return new Set([...bracketed.flatMap((n) => [n, `${n}:${port}`]), ...extra])
}

export function allowedOrigins(server: BindConfig, port: number): Set<string> {
  const hosts = allowedHosts(server, port)
  const own = hosts ? [...hosts].filter((h) => h.endsWith(`:${port}`)).map((h) => `http://${h}`) : []
  return new Set([...own, ...server.allowed_origins.map((o) => new URL(o).origin)])
}

export interface Policy {
  settings: AuthSettings
  hosts: Set<string> | undefined
  origins: Set<string>
}

export function decide(policy: Policy, request: RequestFacts): Decision {
  const header = (name: string) => {
    const value = request.headers[name]
    return Array.isArray(value) ? value[0] : value
  }
  const host = header('host')?.toLowerCase()
  if (policy.hosts && (!host || !policy.hosts.has(host))) {
    return deny(
      403,
      `Host ${host ?? '(none)'} is not a name of this endpoint`,
      'use the address driftwatch printed, or add the name to server.allowed_hosts',
    )
  }
  const access = routeAccess(request.method, request.path)
  const stateChanging = request.method !== 'GET' && request.method !== 'HEAD'
  const origin = header('origin')
  if (stateChanging) {
    const type = header('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/json') {
      return deny(
        403,
        `${request.method} ${request.path} needs Content-Type: application/json`,
        'send a JSON body with that header',
      )
    }
    if (origin !== undefined && !policy.origins.has(origin)) {
      return deny(
        403,
        `cross-site request from ${origin} refused`,
        'add the origin to server.allowed_origins if it is yours',
      )
    }
  } else if (header('sec-fetch-site') === 'cross-site' && access !== 'public') {
    return deny(
      403,
      `cross-site read of ${request.path} refused`,
      'open the dashboard at the endpoint itself',
    )
  }
  if (access === 'public') return { allowed: true, role: 'anonymous' }
  const presented = bearer(header('authorization')) ?? cookie(header('cookie'), SESSION_COOKIE)
  const role = presented === undefined ? undefined : roleOf(policy.settings, presented)
  if (role) {
    if (GRANTS[role].includes(access)) return { allowed: true, role }
    return deny(
      403,
      `a ${role} token may not call ${request.method} ${request.path}`,
      `use a token with ${access} access`,
    )
  }
  if (presented !== undefined) return deny(401, 'wrong token', tokenFix(policy.settings))
  // Local mode: the endpoint listens on loopback only; reads by the same machine are open.
  if (policy.settings.mode === 'local' && access !== 'admin') return { allowed: true, role: 'anonymous' }
  return deny(401, `${request.method} ${request.path} needs a token`, tokenFix(policy.settings))
}

export function roleOf(settings: AuthSettings, token: string): Role | undefined {
  for (const role of ['admin', 'reader', 'verdict'] as const) {
    const expected = settings.tokens[role]
    if (expected !== undefined && sameSecret(expected, token)) return role
  }
  return undefined
}

function tokenFix(settings: AuthSettings): string {
  return settings.mode === 'local'
    ? 'send Authorization: Bearer <the token in <data_dir>/token> (the CLI does this itself)'
    : 'send Authorization: Bearer <token> with the admin, reader or verdict token'
}

function deny(status: 401 | 403, error: string, fix: string): Decision {
  return { allowed: false, status, error, fix }
}

function bearer(value: string | undefined): string | undefined {
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null
  return match?.[1]
}

export function cookie(value: string | undefined, name: string): string | undefined {
  for (const part of value?.split(';') ?? []) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return undefined
}

/** Constant-time comparison of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(a), digest(b))
}

export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`
}
