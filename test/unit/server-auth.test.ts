// The endpoint's access decisions, from headers alone: Host, Content-Type, Origin, token.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { allowedHosts, allowedOrigins, decide, type Policy, resolveAuth } from '../../server/auth.ts'

const server = (overrides: Record<string, unknown> = {}) => parseConfig({ server: overrides }).server

function policy(mode: 'local' | 'tokens', host = '127.0.0.1', port = 8787): Policy {
  const config = server({ host })
  const env =
    mode === 'tokens'
      ? { DRIFTWATCH_ADMIN_TOKEN: 'a', DRIFTWATCH_READ_TOKEN: 'r', DRIFTWATCH_VERDICT_TOKEN: 'v' }
      : {}
  return {
    settings: resolveAuth(config, env, () => 'local-secret'),
    hosts: allowedHosts(config, port),
    origins: allowedOrigins(config, port),
  }
}

const req = (method: string, path: string, headers: Record<string, string> = {}) => ({
  method,
  path,
  headers: { host: '127.0.0.1:8787', ...headers },
})
const json = { 'content-type': 'application/json' }

describe('server auth', () => {
  it('refuses a text/plain cross-site write before looking at tokens', () => {
    const probe = req('POST', '/deployments/mark-stable', {
      'content-type': 'text/plain',
      origin: 'http://evil.example',
    })
    expect(decide(policy('local'), probe)).toMatchObject({ allowed: false, status: 403 })
    expect(decide(policy('local'), { ...probe, headers: { ...probe.headers, ...json } })).toMatchObject({
      allowed: false,
      status: 403,
      error: 'cross-site request from http://evil.example refused',
    })
  })

  it('local mode: reads open, writes need the local token', () => {
    const p = policy('local')
    expect(decide(p, req('GET', '/deployments'))).toMatchObject({ allowed: true })
    expect(decide(p, req('POST', '/sql', json))).toMatchObject({ allowed: true })
    expect(decide(p, req('POST', '/deployments/mark-stable', json))).toMatchObject({ status: 401 })
    const withToken = req('POST', '/deployments/mark-stable', {
      ...json,
      authorization: 'Bearer local-secret',
      origin: 'http://localhost:8787',
    })
    expect(decide(p, withToken)).toMatchObject({ allowed: true, role: 'admin' })
    expect(decide(p, req('GET', '/deployments', { 'sec-fetch-site': 'cross-site' }))).toMatchObject({
      status: 403,
    })
  })

  it('token mode: roles grant what they name and nothing more', () => {
    const p = policy('tokens')
    const as = (token: string, method: string, path: string) =>
      decide(p, req(method, path, { ...json, authorization: `Bearer ${token}` }))
    expect(decide(p, req('GET', '/deployments'))).toMatchObject({ status: 401 })
    expect(as('nope', 'GET', '/deployments')).toMatchObject({ status: 401, error: 'wrong token' })
    expect(as('v', 'GET', '/verdict')).toMatchObject({ allowed: true, role: 'verdict' })
    expect(as('v', 'GET', '/deployments')).toMatchObject({ status: 403 })
    expect(as('v', 'POST', '/deployments/mark-stable')).toMatchObject({ status: 403 })
    expect(as('r', 'POST', '/sql')).toMatchObject({ allowed: true, role: 'reader' })
    expect(as('r', 'POST', '/deployments/mark-stable')).toMatchObject({ status: 403 })
    expect(as('a', 'POST', '/deployments/mark-stable')).toMatchObject({ allowed: true, role: 'admin' })
    const byCookie = decide(p, req('GET', '/api/overview', { cookie: 'x=1; driftwatch_session=r' }))
    expect(byCookie).toMatchObject({ allowed: true, role: 'reader' })
  })

  it('checks the Host header against the bound names (DNS rebinding)', () => {
    const p = policy('local')
    expect(decide(p, req('GET', '/deployments', { host: 'evil.example:8787' }))).toMatchObject({
      status: 403,
    })
    expect(decide(p, req('GET', '/deployments', { host: 'localhost:8787' }))).toMatchObject({ allowed: true })
  })

  it('refuses a non-loopback bind without tokens, naming the fix', () => {
    expect(() => resolveAuth(server({ host: '0.0.0.0' }), {}, () => 'x')).toThrow(/DRIFTWATCH_ADMIN_TOKEN/)
    const renamed = server({ host: '0.0.0.0', auth: { admin_token_env: 'MY_ADMIN' } })
    expect(resolveAuth(renamed, { MY_ADMIN: 's' }, () => 'x')).toEqual({
      mode: 'tokens',
      tokens: { admin: 's' },
    })
  })
})
