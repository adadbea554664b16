// Redaction at ingest: what each detector replaces, and what it must leave alone.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { createRedactor, luhnValid } from '../../consumers/redact.ts'

const redactor = (redact: Record<string, unknown>) =>
  createRedactor(parseConfig({ ingest: { redact } }).ingest.redact)

describe('ingest.redact', () => {
  it('is off unless configured', () => {
    expect(redactor({})).toBeUndefined()
  })

  it('replaces e-mail addresses, phone numbers and Luhn-valid card numbers', () => {
    const redact = redactor({ emails: true, phone_numbers: true, card_numbers: true })!
    expect(redact('mail jane.doe+x@mail.example.co.uk now')).toBe('mail [EMAIL] now')
    expect(redact('call +1 415 555 0100 or (030) 1234 5678')).toBe('call [PHONE] or [PHONE]')
    expect(redact('card 4111 1111 1111 1111, also 5500-0000-0000-0004')).toBe('card [CARD], also [CARD]')
    // Not Luhn-valid, a date, an order number, a version: untouched.
    expect(redact('ref 4111 1111 1111 1112 on 2025-01-06, order 12345, v1.2.3')).toBe(
      'ref 4111 1111 1111 1112 on 2025-01-06, order 12345, v1.2.3',
    )
  })

  it('applies custom patterns with their own marker and only what is switched on', () => {
    const redact = redactor({ patterns: [{ name: 'employee_id', regex: 'EMP-\\d{6}' }] })!
    expect(redact('EMP-123456 wrote to a@b.io')).toBe('[EMPLOYEE_ID] wrote to a@b.io')
  })

  it('names a bad custom regex in the config error', () => {
    expect(() => redactor({ patterns: [{ name: 'x', regex: '([' }] })).toThrow(
      /ingest\.redact\.patterns\.0\.regex/,
    )
  })

  it('checks Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true)
    expect(luhnValid('4111111111111112')).toBe(false)
  })
})
