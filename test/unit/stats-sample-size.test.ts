// The A/B-testing guide's sample-size and duration planner against statsmodels.
import { describe, expect, it } from 'vitest'
import { normalIndPower, planSampleSize, solveNormalIndPowerNobs1 } from '../../stats/sample-size.ts'

describe('planSampleSize', () => {
  it('reproduces the guide: baseline 0.76, MDE 5 %, alpha 0.05, power 0.8 → 1,872 per variant, 2 days', () => {
    const plan = planSampleSize({
      baseline: 0.76,
      mde: 0.05,
      alpha: 0.05,
      power: 0.8,
      variants: 2,
      daily: 2000,
    })
    // effect size (0.798 - 0.76) / sqrt(0.779 × 0.221), computed with numpy: 0.0915838150994437
    expect(plan.effect_size).toBeCloseTo(0.0915838150994437, 14)
    expect(plan).toEqual({
      effect_size: plan.effect_size,
      sample_size_per_variant: 1872,
      total_sample: 3744,
      duration_days: 2,
    })
    // statsmodels 0.15.0 zt_ind_solve_power(effect_size=es, alpha=0.05, power=0.8, ratio=1,
    // alternative='two-sided') = 1871.5401340901687 (NOTES.md: same with 0.13.5). Without the
    // second tail term the root would be 1871.5447177088688 (brentq on the one-tail power).
    const n = solveNormalIndPowerNobs1({ effectSize: plan.effect_size, alpha: 0.05, power: 0.8 })
    expect(Math.abs(n - 1871.5401340901687)).toBeLessThan(1e-5)
    expect(Math.abs(n - 1871.5447177088688)).toBeGreaterThan(1e-3)
  })

  it('uses the defaults alpha 0.05, power 0.8, 2 variants', () => {
    expect(planSampleSize({ baseline: 0.76, mde: 0.05, daily: 2000 })).toEqual(
      planSampleSize({ baseline: 0.76, mde: 0.05, alpha: 0.05, power: 0.8, variants: 2, daily: 2000 }),
    )
  })

  it('matches statsmodels for other plans (negative MDE, three variants)', () => {
    // statsmodels 0.15.0 zt_ind_solve_power with the guide's effect size:
    const cases: [number, number, number, number, number, number][] = [
      // baseline, mde, alpha, power, effect size, n
      [0.05, 0.2, 0.05, 0.8, 0.04386344633065124, 8158.890499726944],
      [0.3, -0.1, 0.01, 0.9, -0.06645777603549005, 6737.882489144313],
      [0.9, 0.02, 0.05, 0.8, 0.06258494390829095, 4007.715385623393],
    ]
    for (const [baseline, mde, alpha, power, es, n] of cases) {
      const plan = planSampleSize({ baseline, mde, alpha, power, variants: 3, daily: 1000 })
      expect(plan.effect_size).toBeCloseTo(es, 14)
      expect(plan.sample_size_per_variant).toBe(Math.ceil(n))
      expect(plan.total_sample).toBe(3 * Math.ceil(n))
      expect(plan.duration_days).toBe(Math.ceil((3 * Math.ceil(n)) / 1000))
      expect(
        Math.abs(solveNormalIndPowerNobs1({ effectSize: Math.abs(es), alpha, power }) - n) / n,
      ).toBeLessThan(1e-8)
    }
  })

  it('power function matches statsmodels NormalIndPower().power', () => {
    // statsmodels 0.15.0 NormalIndPower().power(d, nobs1, 0.05, ratio=1, alternative='two-sided')
    expect(normalIndPower({ effectSize: 0.1, nobs1: 500 })).toBeCloseTo(0.3526080824447023, 13)
    expect(normalIndPower({ effectSize: 0.05, nobs1: 3000 })).toBeCloseTo(0.4906855676699689, 13)
    expect(normalIndPower({ effectSize: 0.3, nobs1: 50 })).toBeCloseTo(0.32304115977680475, 13)
  })

  it('explains impossible inputs', () => {
    expect(() => planSampleSize({ baseline: 0.99, mde: 0.05, daily: 100 })).toThrow(/smaller mde/)
    expect(() => planSampleSize({ baseline: 0.5, mde: 0, daily: 100 })).toThrow(RangeError)
    expect(() => planSampleSize({ baseline: 0.5, mde: 0.1, daily: 0 })).toThrow(/daily/)
  })
})
