import { describe, expect, it } from 'vitest'
import type { RuleState } from '../../rules/evaluate.ts'
import { computeVerdict } from '../../rules/verdict.ts'

const state = (rule: string, version: string, status: RuleState['status']): RuleState => ({
  dedup_key: `${rule}:${version}`,
  rule,
  metric: 'm',
  scope: { model_version: version, variant_id: 'canary', segment: 's', modality: 'text' },
  scorer_version: '',
  status,
  started_at: 0,
  seq: { looks: 1, pValue: 1, lowerBound: -Infinity, margin: 0, tau: 1 },
  consecutive_fire: 0,
  consecutive_healthy: 0,
  fired_at: null,
  resolved_at: null,
  suppressed: false,
  updated_at: 0,
  last: {
    observed: 1,
    baseline: null,
    threshold: 2,
    comparison: 'above',
    n: 500,
    baseline_n: null,
    p_value: 0.5,
    ci_low: null,
    ci_high: null,
    message: 'm 1 > 2',
  },
})

describe('verdict', () => {
  const rules = ['a', 'b']
  it('fails when any rule fires for the version', () => {
    const v = computeVerdict('v2', rules, [
      state('a', 'v2', 'ok'),
      state('b', 'v2', 'firing'),
      state('b', 'v1', 'ok'),
    ])
    expect(v.verdict).toBe('fail')
    expect(v.reason).toBe('firing: b')
    expect(v.rules).toHaveLength(2)
  })
  it('is inconclusive while a rule is pending or has no conclusive look', () => {
    expect(computeVerdict('v2', rules, [state('a', 'v2', 'ok'), state('b', 'v2', 'pending')]).verdict).toBe(
      'inconclusive',
    )
    expect(
      computeVerdict('v2', rules, [state('a', 'v2', 'ok'), state('b', 'v2', 'inconclusive')]).reason,
    ).toBe('not enough data yet for: b')
    expect(computeVerdict('v3', rules, []).verdict).toBe('inconclusive')
  })
  it('passes when every rule has a healthy look', () => {
    expect(computeVerdict('v2', rules, [state('a', 'v2', 'ok'), state('b', 'v2', 'resolved')]).verdict).toBe(
      'pass',
    )
  })
})
