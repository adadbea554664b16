import { describe, expect, it } from 'vitest'
import { AlertSchema, DEDUP_KEY_MAX, dedupKey, parseAlert } from '../../alerts/alert.ts'
import { exampleAlert, exampleResolvedAlert } from '../../alerts/example-alert.ts'

const scope = { model_version: 'v42', variant_id: 'canary', segment: 'invoice_extraction', modality: 'text' }

describe('dedupKey', () => {
  it('is readable and names rule, version and scope', () => {
    expect(dedupKey('invoice-hallucination', scope, 'v42')).toBe(
      'driftwatch:invoice-hallucination:v42:canary:invoice_extraction:text',
    )
  })

  it('is stable: same inputs, same key, whatever the state or numbers', () => {
    const keys = new Set(Array.from({ length: 5 }, () => dedupKey('r', { ...scope }, 'v42')))
    expect(keys.size).toBe(1)
    expect(exampleAlert().dedup_key).toBe(exampleResolvedAlert().dedup_key)
  })

  it('differs per rule, version and each scope dimension', () => {
    const keys = [
      dedupKey('r', scope, 'v42'),
      dedupKey('r2', scope, 'v42'),
      dedupKey('r', scope, 'v43'),
      dedupKey('r', { ...scope, variant_id: 'control' }, 'v42'),
      dedupKey('r', { ...scope, segment: 'chat' }, 'v42'),
      dedupKey('r', { ...scope, modality: 'image' }, 'v42'),
    ]
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('keeps "*" readable and escapes ":" so names with colons cannot collide', () => {
    expect(dedupKey('r', { ...scope, segment: '*', modality: '*' }, 'v1')).toBe('driftwatch:r:v1:canary:*:*')
    const a = dedupKey('a:b', { ...scope, variant_id: 'c' }, 'v')
    const b = dedupKey('a', { ...scope, variant_id: 'c' }, 'b:v')
    expect(a).not.toBe(b)
    expect(a).toContain('a%3Ab')
  })

  it('is ASCII and at most 255 characters, ending in a hash when the parts are long', () => {
    const long = dedupKey('r'.repeat(300), { ...scope, segment: 'ségment-é'.repeat(20) }, 'v42')
    expect(long.length).toBeLessThanOrEqual(DEDUP_KEY_MAX)
    expect(long).toMatch(/^[\x20-\x7e]+$/)
    expect(long).toMatch(/^driftwatch:rrrr/)
    expect(long).toMatch(/:[0-9a-f]{64}$/)
    expect(dedupKey('r'.repeat(300), { ...scope, segment: 'ségment-é'.repeat(20) }, 'v42')).toBe(long)
    // Two long keys with the same 190-character prefix still differ.
    expect(dedupKey('r'.repeat(300), scope, 'v42')).not.toBe(dedupKey('r'.repeat(300), scope, 'v43'))
  })
})

describe('AlertSchema', () => {
  it('accepts the example firing and resolved decisions', () => {
    expect(AlertSchema.parse(exampleAlert())).toEqual(exampleAlert())
    expect(AlertSchema.parse(exampleResolvedAlert()).state).toBe('resolved')
  })

  it('names every bad path in one error', () => {
    const bad = { ...exampleAlert(), state: 'resolved', n: -1, extra: true }
    expect(() => parseAlert(bad)).toThrow(/resolved_at: required when state is "resolved"/)
    try {
      parseAlert(bad)
    } catch (error) {
      expect(error).toMatchObject({ code: 'ALERT_INVALID', retriable: false })
      expect(String(error)).toMatch(/n: /)
      expect(String(error)).toMatch(/extra/)
    }
  })

  it('rejects an inverted confidence interval and a window that ends before it starts', () => {
    expect(AlertSchema.safeParse(exampleAlert({ ci_low: 0.03, ci_high: 0.01 })).success).toBe(false)
    const window = { start: '2025-06-03T11:00:00Z', end: '2025-06-03T10:00:00Z' }
    expect(AlertSchema.safeParse(exampleAlert({ window })).success).toBe(false)
  })
})
