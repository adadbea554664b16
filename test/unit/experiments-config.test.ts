// driftwatch.yaml `experiments:`: the shape of the issue parses; mistakes name the key.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'

const valid = {
  name: 'support-prompt-v2',
  control: { variant_id: 'A' },
  treatment: { variant_id: 'B' },
  where: { segment: 'support_chat' },
  goal: [{ metric: 'helpfulness_mean', mde: 0.05 }],
  guardrails: [
    { metric: 'unsafe_rate', max_increase: 0 },
    { metric: 'latency_p95_ms', max_increase_pct: 15 },
    { metric: 'cost_per_interaction', max_increase_pct: 20 },
  ],
  alpha: 0.05,
  power: 0.8,
  started_at: '2026-11-01T00:00:00Z',
}

const errorOf = (experiments: unknown[]): string => {
  try {
    parseConfig({ experiments })
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected a config error')
}

describe('experiments config', () => {
  it("parses the issue's example with defaults", () => {
    const [e] = parseConfig({ experiments: [valid] }).experiments
    expect(e!.started_at.toISOString()).toBe('2026-11-01T00:00:00.000Z')
    expect(e!.split).toEqual({ control: 1, treatment: 1 })
  })

  it('names the key of each mistake', () => {
    expect(errorOf([{ ...valid, goal: [{ metric: 'helpfulness', mde: 0.05 }] }])).toMatch(
      /experiments\.0\.goal\.0\.metric: unknown metric/,
    )
    expect(errorOf([{ ...valid, control: { variant_id: 'A', model_version: 'v1' } }])).toMatch(
      /experiments\.0\.control: name exactly one of/,
    )
    expect(errorOf([{ ...valid, treatment: { model_version: 'v2' } }])).toMatch(
      /experiments\.0\.treatment: control is chosen by variant_id but treatment by model_version/,
    )
    expect(errorOf([{ ...valid, guardrails: [{ metric: 'unsafe_rate' }] }])).toMatch(
      /experiments\.0\.guardrails\.0: set exactly one of max_increase/,
    )
    expect(errorOf([valid, valid])).toMatch(
      /experiments\.1\.name: duplicate experiment name support-prompt-v2/,
    )
    expect(errorOf([{ ...valid, started_at: 'soon' }])).toMatch(/experiments\.0\.started_at/)
  })
})
