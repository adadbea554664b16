// One scope definition: its schemas, and a key that identifies a scope exactly (a `|` or `\`
// inside a value cannot make two scopes share a key).
import { describe, expect, it } from 'vitest'
import {
  ALL,
  baselineKey,
  SCOPE_COLUMNS,
  type Scope,
  ScopeSchema,
  ScopeWhereSchema,
  scopeKey,
  scopeLabel,
} from '../../contract/scope.ts'

const scope = (segment: string, modality: string, variant_id = 'control'): Scope => ({
  model_version: 'v1',
  variant_id,
  segment,
  modality,
})

describe('scopeKey', () => {
  it('differs when a | moves from one value to the next (the unescaped join collided)', () => {
    const a = scope('a|b', 'c')
    const b = scope('a', 'b|c')
    expect(SCOPE_COLUMNS.map((c) => a[c]).join('|')).toBe(SCOPE_COLUMNS.map((c) => b[c]).join('|'))
    expect(scopeKey(a)).not.toBe(scopeKey(b))
    expect(baselineKey(a)).not.toBe(baselineKey(b))
  })

  it('differs when a value ends in a backslash next to an escaped separator', () => {
    expect(scopeKey(scope('a\\', '|b'))).not.toBe(scopeKey(scope('a\\|', 'b')))
    expect(scopeKey(scope('a\\', 'b'))).not.toBe(scopeKey(scope('a', '\\b')))
  })

  it('is the same for equal scopes, and readable for plain values', () => {
    expect(scopeKey(scope('support', 'text'))).toBe(scopeKey({ ...scope('support', 'text') }))
    expect(scopeKey(scope('support', 'text'))).toBe('v1|control|support|text')
    expect(scopeLabel(scope('support', 'text'))).toBe('v1 | control | support | text')
  })

  it('is one-to-one over many tricky values', () => {
    const values = ['a', '|', '\\', 'a|', '|a', 'a\\', '\\|', '||', '', ALL]
    const keys = new Set<string>()
    let n = 0
    for (const s of values)
      for (const m of values)
        for (const v of values) {
          keys.add(scopeKey(scope(s, m, v)))
          n++
        }
    expect(keys.size).toBe(n)
  })

  it('baselineKey ignores model_version and variant_id', () => {
    const other: Scope = { ...scope('s', 'm'), model_version: 'v0' }
    expect(baselineKey(scope('s', 'm', 'treatment'))).toBe(baselineKey(other))
  })
})

describe('scope schemas', () => {
  it('a scope has all four non-empty values and nothing else', () => {
    expect(ScopeSchema.safeParse(scope('s', 'text')).success).toBe(true)
    expect(ScopeSchema.safeParse({ ...scope('s', 'text'), extra: 1 }).success).toBe(false)
    expect(ScopeSchema.safeParse(scope('', 'text')).success).toBe(false)
    expect(ScopeSchema.safeParse({ model_version: 'v1' }).success).toBe(false)
  })

  it('a filter takes any subset, strictly', () => {
    expect(ScopeWhereSchema.parse({})).toEqual({})
    expect(ScopeWhereSchema.parse({ segment: 's' })).toEqual({ segment: 's' })
    expect(ScopeWhereSchema.safeParse({ segmnet: 's' }).success).toBe(false)
    expect(ScopeWhereSchema.safeParse({ segment: '' }).success).toBe(false)
  })
})
