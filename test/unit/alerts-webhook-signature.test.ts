import { describe, expect, it } from 'vitest'
import { exampleAlert, exampleResolvedAlert } from '../../alerts/example-alert.ts'
import { buildRollbackTrigger } from '../../alerts/rollback-trigger.ts'
import { buildWebhookRequest, signWebhook, verifyWebhookSignature } from '../../alerts/webhook.ts'

const SECRET = 'dw_test_secret_0123456789'
const TIMESTAMP = 1_700_000_000
const NOW = TIMESTAMP * 1000

describe('signWebhook: known answers', () => {
  it('matches a signature computed independently with openssl', () => {
    // printf '%s' '1700000000.{"dedup_key":"driftwatch:rule:v2:canary:invoice_extraction:text","observed":0.021}' \
    //   | openssl dgst -sha256 -hmac 'dw_test_secret_0123456789'
    const body = '{"dedup_key":"driftwatch:rule:v2:canary:invoice_extraction:text","observed":0.021}'
    expect(signWebhook(SECRET, TIMESTAMP, body)).toBe(
      'sha256=db5624a1e02202ddcfa74b64992c33bd88f221ab8f4a7d1cdb2237864680e556',
    )
    expect(signWebhook(SECRET, String(TIMESTAMP), Buffer.from(body))).toBe(
      signWebhook(SECRET, TIMESTAMP, body),
    )
  })

  it('signs UTF-8 bytes and the empty body the same way openssl does', () => {
    // printf '%s' '1700000000.{"note":"café ✓"}' | openssl dgst -sha256 -hmac 'dw_test_secret_0123456789'
    expect(signWebhook(SECRET, TIMESTAMP, '{"note":"café ✓"}')).toBe(
      'sha256=0a092d34e13f4954c9d903d0537385d17857f08bf20469ef1a34b93638c53bb6',
    )
    // printf '%s' '1700000000.' | openssl dgst -sha256 -hmac 'dw_test_secret_0123456789'
    expect(signWebhook(SECRET, TIMESTAMP, '')).toBe(
      'sha256=20dccd55ed9c4f831679bb767e9aa032599212e78ca75d7882d3be0ce9c8945f',
    )
  })
})

describe('buildWebhookRequest', () => {
  it('signs the exact body and sets event, timestamp and idempotency headers', () => {
    const trigger = buildRollbackTrigger(exampleAlert())
    const { body, headers } = buildWebhookRequest(trigger, { secret: SECRET, timestamp: TIMESTAMP })
    expect(JSON.parse(body)).toEqual(trigger)
    expect(headers).toEqual({
      'X-Driftwatch-Signature': signWebhook(SECRET, TIMESTAMP, body),
      'X-Driftwatch-Timestamp': '1700000000',
      'X-Driftwatch-Event': 'trigger',
      'Idempotency-Key': `${trigger.dedup_key}:firing:${trigger.fired_at}`,
    })
  })

  it('marks a resolve as such, with its own idempotency key', () => {
    const resolved = buildWebhookRequest(buildRollbackTrigger(exampleResolvedAlert()), {
      secret: SECRET,
      timestamp: TIMESTAMP,
    })
    const firing = buildWebhookRequest(buildRollbackTrigger(exampleAlert()), {
      secret: SECRET,
      timestamp: TIMESTAMP,
    })
    expect(resolved.headers['X-Driftwatch-Event']).toBe('resolve')
    expect(resolved.headers['Idempotency-Key']).not.toBe(firing.headers['Idempotency-Key'])
  })
})

describe('verifyWebhookSignature', () => {
  const { body, headers } = buildWebhookRequest(buildRollbackTrigger(exampleAlert()), {
    secret: SECRET,
    timestamp: TIMESTAMP,
  })
  // Node's IncomingHttpHeaders use lower-case names.
  const nodeHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))

  it('accepts the untouched request (Node headers, fetch Headers, Buffer body)', () => {
    expect(verifyWebhookSignature(SECRET, nodeHeaders, body, { now: NOW })).toEqual({
      ok: true,
      timestamp: TIMESTAMP,
    })
    expect(verifyWebhookSignature(SECRET, new Headers(headers), Buffer.from(body), { now: NOW }).ok).toBe(
      true,
    )
  })

  it('rejects a tampered body', () => {
    const tampered = body.replace('"observed":0.021', '"observed":0.001')
    expect(tampered).not.toBe(body)
    expect(verifyWebhookSignature(SECRET, nodeHeaders, tampered, { now: NOW })).toMatchObject({
      ok: false,
      reason: 'signature_mismatch',
    })
  })

  it('rejects a timestamp header changed to look fresh (the timestamp is signed)', () => {
    const moved = { ...nodeHeaders, 'x-driftwatch-timestamp': String(TIMESTAMP + 60) }
    expect(verifyWebhookSignature(SECRET, moved, body, { now: NOW })).toMatchObject({
      reason: 'signature_mismatch',
    })
  })

  it('rejects the wrong secret, and accepts any of several while rotating', () => {
    expect(verifyWebhookSignature('other', nodeHeaders, body, { now: NOW }).ok).toBe(false)
    expect(verifyWebhookSignature(['new-secret', SECRET], nodeHeaders, body, { now: NOW }).ok).toBe(true)
  })

  it('rejects stale and future timestamps outside the tolerance', () => {
    expect(verifyWebhookSignature(SECRET, nodeHeaders, body, { now: NOW + 301_000 })).toMatchObject({
      reason: 'timestamp_out_of_tolerance',
    })
    expect(verifyWebhookSignature(SECRET, nodeHeaders, body, { now: NOW - 301_000 })).toMatchObject({
      reason: 'timestamp_out_of_tolerance',
    })
    expect(verifyWebhookSignature(SECRET, nodeHeaders, body, { now: NOW + 299_000 }).ok).toBe(true)
    expect(
      verifyWebhookSignature(SECRET, nodeHeaders, body, { now: NOW + 61_000, toleranceSec: 60 }).ok,
    ).toBe(false)
  })

  it('names what is missing or malformed', () => {
    const { 'x-driftwatch-signature': _sig, ...noSig } = nodeHeaders
    const { 'x-driftwatch-timestamp': _ts, ...noTs } = nodeHeaders
    expect(verifyWebhookSignature(SECRET, noSig, body, { now: NOW })).toMatchObject({
      reason: 'missing_signature',
    })
    expect(verifyWebhookSignature(SECRET, noTs, body, { now: NOW })).toMatchObject({
      reason: 'missing_timestamp',
    })
    expect(
      verifyWebhookSignature(SECRET, { ...nodeHeaders, 'x-driftwatch-timestamp': '17e8' }, body, {
        now: NOW,
      }),
    ).toMatchObject({ reason: 'malformed_timestamp' })
    expect(
      verifyWebhookSignature(SECRET, { ...nodeHeaders, 'x-driftwatch-signature': 'sha256=abc' }, body, {
        now: NOW,
      }),
    ).toMatchObject({ reason: 'malformed_signature' })
  })
})
