import { describe, expect, it } from 'vitest'
import { formatZodIssues, InteractionSchema, parseTimestamp } from '../../contract/interaction.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'

const valid = {
  request_id: 'req-1',
  timestamp: '2025-01-06T09:00:00.000Z',
  user_id: 'user-1',
  variant_id: 'control',
  model_name: 'llama-3.1-8b',
  model_version: 'v1',
  system_prompt_version: 'support-v7',
  segment: 'customer_support',
  modality: 'text',
  user_input: 'Where is my invoice?',
  model_output: 'Under Billing > Invoices.',
  latency_ms: 812.5,
  prompt_tokens: 420,
  completion_tokens: 12,
  status: 'ok',
}

function issuesOf(input: unknown): string {
  const result = InteractionSchema.safeParse(input)
  if (result.success) throw new Error('expected a validation failure')
  return formatZodIssues(result.error)
}

describe('InteractionSchema', () => {
  it('accepts a minimal event and fills every optional field with null (attributes {}, context [])', () => {
    const parsed = InteractionSchema.parse(valid)
    expect(parsed).toEqual({
      ...valid,
      timestamp: Date.UTC(2025, 0, 6, 9),
      session_id: null,
      context: [],
      ttft_ms: null,
      cost_usd: null,
      finish_reason: null,
      safety_flag: null,
      user_feedback_score: null,
      attributes: {},
      shadow_of: null,
    })
  })

  it('strips unknown top-level fields instead of rejecting the event', () => {
    const parsed = InteractionSchema.parse({ ...valid, trace_id: 'abc', nested: { x: 1 } })
    expect(parsed).not.toHaveProperty('trace_id')
    expect(parsed).not.toHaveProperty('nested')
  })

  it('is idempotent: a parsed interaction parses to itself', () => {
    const once = InteractionSchema.parse({ ...valid, context: 'doc', attributes: { retries: 2 } })
    expect(InteractionSchema.parse(once)).toEqual(once)
  })

  it('normalises context: string -> [string], missing / null / "" -> []', () => {
    expect(InteractionSchema.parse({ ...valid, context: 'one doc' }).context).toEqual(['one doc'])
    expect(InteractionSchema.parse({ ...valid, context: ['a', 'b'] }).context).toEqual(['a', 'b'])
    expect(InteractionSchema.parse({ ...valid, context: null }).context).toEqual([])
    expect(InteractionSchema.parse({ ...valid, context: '' }).context).toEqual([])
  })

  it('stringifies number and boolean attribute values and leaves the input object alone', () => {
    const attributes = { region: 'eu', retries: 2, cached: true }
    expect(InteractionSchema.parse({ ...valid, attributes }).attributes).toEqual({
      region: 'eu',
      retries: '2',
      cached: 'true',
    })
    expect(attributes.retries).toBe(2)
    expect(InteractionSchema.parse({ ...valid, attributes: null }).attributes).toEqual({})
  })

  it('keeps explicit nulls and values of optional fields', () => {
    const parsed = InteractionSchema.parse({
      ...valid,
      session_id: 's1',
      ttft_ms: 120,
      cost_usd: 0.0001,
      safety_flag: false,
      user_feedback_score: -1,
      finish_reason: 'stop',
    })
    expect(parsed).toMatchObject({
      session_id: 's1',
      ttft_ms: 120,
      cost_usd: 0.0001,
      safety_flag: false,
      user_feedback_score: -1,
      finish_reason: 'stop',
    })
  })

  it('names every failing field and what was expected, without echoing values', () => {
    const message = issuesOf({
      ...valid,
      request_id: '',
      user_id: 42,
      modality: 'smell',
      latency_ms: -3,
      prompt_tokens: 1.5,
      status: undefined,
      context: 7,
      attributes: { ok: 'x', bad: { nested: true } },
      user_input: undefined,
    })
    expect(message).toContain('request_id: expected a non-empty string')
    expect(message).toContain('user_id: expected string, got number')
    expect(message).toContain('modality: expected one of "text"|"image"|"audio"|"video"|"multimodal"')
    expect(message).toContain('latency_ms: expected number >= 0')
    expect(message).toContain('prompt_tokens: expected an integer, got number')
    expect(message).toContain('status: expected one of "ok"|"error"|"timeout"')
    expect(message).toContain('context: expected string or array, got number')
    expect(message).toContain('attributes.bad: expected a string, got object')
    expect(message).toContain('user_input: required field is missing (expected string)')
    expect(message).not.toContain('smell')
  })

  it('reports a non-object as a root issue', () => {
    expect(issuesOf([valid])).toBe('(root): expected object, got array')
  })

  it('quotes odd attribute keys in paths and caps the list of issues', () => {
    expect(issuesOf({ ...valid, attributes: { 'my key': [] } })).toBe(
      'attributes["my key"]: expected a string, got array',
    )
    expect(issuesOf({})).toMatch(/; and \d+ more$/)
  })

  it('rejects NaN-like and infinite numbers and over-long ids', () => {
    expect(issuesOf({ ...valid, latency_ms: Number.POSITIVE_INFINITY })).toContain('latency_ms')
    expect(issuesOf({ ...valid, request_id: 'x'.repeat(129) })).toContain(
      'request_id: expected a string of at most 128 characters',
    )
  })
})

describe('timestamps', () => {
  const at = (timestamp: unknown) => InteractionSchema.parse({ ...valid, timestamp }).timestamp
  const base = Date.UTC(2025, 0, 6, 9, 0, 0)

  it('accepts ISO 8601 with Z, offsets, fractions and a space separator', () => {
    expect(at('2025-01-06T09:00:00Z')).toBe(base)
    expect(at('2025-01-06T09:00:00.123Z')).toBe(base + 123)
    expect(at('2025-01-06T09:00:00.123456Z')).toBe(base + 123)
    expect(at('2025-01-06T10:00:00+01:00')).toBe(base)
    expect(at('2025-01-06T10:00:00+0100')).toBe(base)
    expect(at('2025-01-06T10:00:00+01')).toBe(base)
    expect(at('2025-01-06 09:00:00Z')).toBe(base)
    expect(at('2025-01-06T09:00Z')).toBe(base)
  })

  it('reads an ISO date-time without offset as UTC, not host-local time', () => {
    expect(at('2025-01-06T09:00:00')).toBe(base)
  })

  it('accepts epoch milliseconds as a number (fractions truncated) or a digit string', () => {
    expect(at(base)).toBe(base)
    expect(at(base + 0.7)).toBe(base)
    expect(at(String(base))).toBe(base)
  })

  it('rejects unparseable strings and names the expected forms', () => {
    expect(issuesOf({ ...valid, timestamp: 'yesterday' })).toContain(
      'timestamp: expected an ISO 8601 date-time',
    )
    expect(issuesOf({ ...valid, timestamp: '2025-01-06' })).toContain(
      'timestamp: expected an ISO 8601 date-time',
    )
    expect(issuesOf({ ...valid, timestamp: '2025-13-01T00:00:00Z' })).toContain('out of range')
    expect(issuesOf({ ...valid, timestamp: true })).toContain(
      'timestamp: expected an ISO 8601 string or epoch milliseconds, got boolean',
    )
    expect(issuesOf({ ...valid, timestamp: undefined })).toContain('timestamp: required field is missing')
  })

  it('rejects absurd values and recognises the usual unit mistakes', () => {
    expect(parseTimestamp(1_736_154_000)).toMatch(/looks like epoch seconds/)
    expect(parseTimestamp(1_736_154_000_000_000)).toMatch(/looks like epoch microseconds/)
    expect(parseTimestamp(0)).toMatch(/before 2000-01-01/)
    expect(parseTimestamp(-5)).toMatch(/before 2000-01-01/)
    expect(parseTimestamp(1e20)).toMatch(/after 2100-01-01/)
    expect(parseTimestamp(Number.NaN)).toMatch(/non-finite/)
    expect(parseTimestamp('1850-01-01T00:00:00Z')).toMatch(/before 2000-01-01/)
  })
})

describe('shadow_of (added later)', () => {
  it('events without it still validate (null), events with it keep the production request_id', () => {
    const base = syntheticInteraction(3)
    const { shadow_of: _omit, ...old } = base
    expect(InteractionSchema.parse(old).shadow_of).toBeNull()
    expect(InteractionSchema.parse({ ...old, shadow_of: 'req-prod-1' }).shadow_of).toBe('req-prod-1')
  })
})
