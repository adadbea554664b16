// The demo's progress lines: a firing rule names its version and how long after the start it fired.
import { describe, expect, it } from 'vitest'
import { formatRuleStates } from '../../cli/commands/demo.ts'
import type { RuleState } from '../../rules/evaluate.ts'

const START = Date.UTC(2026, 11, 2, 14, 0, 0)

function state(variant: string, status: RuleState['status'], firedAt: number | null): RuleState {
  return {
    dedup_key: `k-${variant}`,
    rule: 'refusal-spike',
    metric: 'refusal_rate',
    scope: { model_version: 'v2', variant_id: variant, segment: 'customer_support', modality: 'text' },
    scorer_version: 'refusal@1',
    status,
    started_at: START,
    seq: { looks: 3, pValue: 0.001, lowerBound: null, margin: 0.03, tau: 0.05 },
    consecutive_fire: 1,
    consecutive_healthy: 0,
    fired_at: firedAt,
    resolved_at: null,
    suppressed: false,
    updated_at: START,
    last: null,
  }
}

describe('demo progress', () => {
  it('says which rule fired on which version, once, with the earliest fire after the start', () => {
    const out = formatRuleStates(
      [state('canary', 'firing', START + 100_000), state('shadow', 'firing', START + 140_000)],
      START,
    )
    expect(out.split('\n')[0]).toBe('rules: FIRING refusal-spike on v2 (1 min 40 s after the demo started)')
  })

  it('says nothing fired while nothing has', () => {
    expect(formatRuleStates([state('canary', 'ok', null)], START).split('\n')[0]).toBe('rules:')
  })
})
