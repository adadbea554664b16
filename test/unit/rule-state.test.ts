// Persisted rule states are validated on read: a versioned schema, non-finite numbers spelled
// out per number field (so a segment named "Infinity" stays a string), and a row that does
// not match reported and skipped.
import { describe, expect, it } from 'vitest'
import {
  decodeRuleState,
  encodeRuleState,
  RULE_STATE_VERSION,
  readRuleStates,
} from '../../jobs/evaluate/state-store.ts'
import { createLogger } from '../../lib/log.ts'
import type { RuleState } from '../../rules/evaluate.ts'

function state(overrides: Partial<RuleState> = {}): RuleState {
  return {
    dedup_key: 'driftwatch:r:v2:canary:Infinity:text',
    rule: 'r',
    metric: 'latency_p99_ms',
    scope: { model_version: 'v2', variant_id: 'canary', segment: 'Infinity', modality: 'text' },
    scorer_version: '',
    status: 'pending',
    started_at: 1_700_000_000_000,
    seq: { looks: 4, pValue: 0.02, lowerBound: null, margin: 50, tau: 200 },
    consecutive_fire: 1,
    consecutive_healthy: 0,
    fired_at: null,
    resolved_at: null,
    suppressed: false,
    updated_at: 1_700_000_060_000,
    last: {
      observed: Number.POSITIVE_INFINITY,
      baseline: 0,
      threshold: 10,
      comparison: 'increase_by_pct',
      n: 512,
      baseline_n: 9000,
      p_value: 0.02,
      ci_low: Number.NEGATIVE_INFINITY,
      ci_high: null,
      message: 'latency_p99_ms +Infinity % > 10 %',
    },
    ...overrides,
  }
}

const decoded = (text: string) => {
  const r = decodeRuleState(text)
  if (!r.ok) throw new Error(r.error)
  return r.state
}

describe('rule state persistence', () => {
  it('round-trips a segment named "Infinity" as a string and infinite numbers as numbers', () => {
    const s = state()
    const text = encodeRuleState(s)
    expect(JSON.parse(text).state_version).toBe(RULE_STATE_VERSION)
    const back = decoded(text)
    expect(back.scope.segment).toBe('Infinity')
    expect(back.last?.observed).toBe(Number.POSITIVE_INFINITY)
    expect(back.last?.ci_low).toBe(Number.NEGATIVE_INFINITY)
    expect(back).toEqual(s)
  })

  it('keeps a rule or message that reads "-Infinity" a string, and NaN a number', () => {
    const s = state({ rule: '-Infinity', last: { ...state().last!, message: 'NaN', p_value: Number.NaN } })
    const back = decoded(encodeRuleState(s))
    expect(back.rule).toBe('-Infinity')
    expect(back.last?.message).toBe('NaN')
    expect(back.last?.p_value).toBeNaN()
  })

  it('reads rows written before versioning (no state_version)', () => {
    const { state_version: _, ...legacy } = JSON.parse(
      encodeRuleState(state({ scope: { ...state().scope, segment: 'support' } })),
    )
    expect(decoded(JSON.stringify(legacy)).scope.segment).toBe('support')
  })

  it('refuses a state that does not match, naming the field', () => {
    const bad = { ...JSON.parse(encodeRuleState(state())), status: 'exploded' }
    const r = decodeRuleState(JSON.stringify(bad))
    expect(r.ok).toBe(false)
    expect(!r.ok && r.error).toMatch(/^status: /)
    const number = { ...JSON.parse(encodeRuleState(state())), started_at: 'Infinity!' }
    expect(decodeRuleState(JSON.stringify(number)).ok).toBe(false)
    const segment = JSON.parse(encodeRuleState(state()))
    segment.scope.segment = Number.POSITIVE_INFINITY
    expect(decodeRuleState(JSON.stringify(segment)).ok).toBe(false)
  })

  it('names an unknown state_version', () => {
    const future = { ...JSON.parse(encodeRuleState(state())), state_version: 99 }
    const r = decodeRuleState(JSON.stringify(future))
    expect(!r.ok && r.error).toMatch(/state_version 99 is not 1/)
  })

  it('reports and skips a corrupt row, keeping the others', () => {
    const lines: Array<Record<string, unknown>> = []
    const log = createLogger({ level: 'warn', write: (l) => lines.push(JSON.parse(l)) })
    const good = state()
    const { states, skipped } = readRuleStates(
      [
        { dedup_key: 'k-truncated', state: encodeRuleState(good).slice(0, 40) },
        { dedup_key: good.dedup_key, state: encodeRuleState(good) },
        { dedup_key: 'k-shape', state: '{"dedup_key":"k-shape"}' },
      ],
      log,
    )
    expect([...states.keys()]).toEqual([good.dedup_key])
    expect(skipped.map((s) => s.dedup_key)).toEqual(['k-truncated', 'k-shape'])
    expect(skipped[0]!.error).toMatch(/not JSON/)
    expect(lines.map((l) => [l.level, l.dedup_key])).toEqual([
      ['error', 'k-truncated'],
      ['error', 'k-shape'],
    ])
  })
})
