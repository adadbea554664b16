// driftwatch plan: flag text to planner numbers, and refusals that name the flag to fix.
import { describe, expect, it } from 'vitest'
import { computePlan, planInput, renderPlan } from '../../cli/commands/plan.ts'
import { ConfigError } from '../../lib/errors.ts'

const guide = { baseline: '0.76', mde: '0.05', daily: '2000' }

describe('plan: numbers', () => {
  it('gives the A/B-testing guide example: 1,872 per variant, 3,744 in total, 2 days', () => {
    const plan = computePlan(guide)
    expect(plan).toMatchObject({
      sample_size_per_variant: 1872,
      total_sample: 3744,
      duration_days: 2,
      alpha: 0.05,
      power: 0.8,
      variants: 2,
    })
    expect(plan.effect_size).toBeCloseTo(0.09158, 5)
    expect(plan.target_rate).toBeCloseTo(0.798, 12)
  })

  it('scales the total and the duration with the variants and the daily traffic', () => {
    const plan = computePlan({ ...guide, variants: '3', daily: '1000' })
    expect(plan.sample_size_per_variant).toBe(1872)
    expect(plan.total_sample).toBe(5616)
    expect(plan.duration_days).toBe(6)
  })

  it('needs more samples for a stricter alpha or a higher power', () => {
    const base = computePlan(guide).sample_size_per_variant
    expect(computePlan({ ...guide, alpha: '0.01' }).sample_size_per_variant).toBeGreaterThan(base)
    expect(computePlan({ ...guide, power: '0.9' }).sample_size_per_variant).toBeGreaterThan(base)
  })

  it('renders a table with thousands separators', () => {
    expect(renderPlan(computePlan(guide))).toMatch(
      /^sample_size_per_variant\s+1,872\ntotal_sample\s+3,744\nduration_days\s+2\n/,
    )
  })
})

describe('plan: refusals name the flag', () => {
  const refusal = (flags: Record<string, string>) => {
    try {
      planInput(flags)
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      return (error as ConfigError).message
    }
    throw new Error('no error')
  }
  it.each([
    [{ mde: '0.05', daily: '2000' }, /--baseline is required/],
    [{ baseline: '0.76', daily: '2000' }, /--mde is required/],
    [{ baseline: '0.76', mde: '0.05' }, /--daily is required/],
    [{ ...guide, baseline: '1.2' }, /--baseline must be a rate strictly between 0 and 1/],
    [{ ...guide, baseline: 'abc' }, /--baseline must be a number, got "abc"/],
    [{ ...guide, mde: '0' }, /--mde must be > 0/],
    [{ ...guide, mde: '-0.05' }, /--mde must be > 0/],
    [
      { ...guide, baseline: '0.96' },
      /--mde 0.05 is too large for --baseline 0.96: baseline × \(1 \+ mde\) = 1.008/,
    ],
    [{ ...guide, daily: '0' }, /--daily must be > 0/],
    [{ ...guide, alpha: '1' }, /--alpha must be strictly between 0 and 1/],
    [{ ...guide, power: '0.01' }, /--power must be between --alpha \(0.05\) and 1/],
    [{ ...guide, variants: '1.5' }, /--variants must be an integer >= 2/],
  ])('%o', (flags, message) => {
    expect(refusal(flags)).toMatch(message)
  })
})
