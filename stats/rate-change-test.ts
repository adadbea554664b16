// An exact test for rate change rules ("hallucinations up by 0.5 points vs last stable") with
// the power of the Bernoulli likelihood instead of a normal approximation on the difference.
//
// H0: candidate rate - baseline rate <= m (the test's margin). The baseline's rate is replaced
// by its ALWAYS-VALID upper confidence bound U_b at level α_b (normal-mixture boundary, so it
// holds at whichever look the test starts), and the null rate p0 = U_b + m is FIXED when the
// test starts. With probability >= 1 - α_b, p0 >= baseline rate + m >= candidate rate under H0,
// so the exact Beta-mixture mSPRT of "candidate rate <= p0" (rateThresholdMsprtStep, valid from
// the first observation, Ville's inequality) keeps the total error at α_b + α_test.
//
// Why it is faster than the normal mixture on p̂_c - p̂_b: that statistic's variance uses the
// candidate's own (worse) rate, p_c(1-p_c)/n, while the likelihood ratio weighs the evidence
// against the null rate p0, whose variance is smaller; with a 7-day baseline (~100x the
// candidate's data) U_b costs little. The worse direction 'lower' tests the complement (the
// share of outcomes that are not good rises).

import { gaussianMixtureBoundary } from './msprt.ts'
import type { ProportionCount } from './proportion-interval.ts'

export interface RateChangePlanInput {
  readonly baseline: ProportionCount
  /** Overall false-alarm level of the rule, 1 - confidence. */
  readonly alpha: number
  /** H0: worsening <= margin (absolute rate units). */
  readonly margin: number
  readonly worse: 'higher' | 'lower'
}

export interface RateChangePlan {
  /** H0: the candidate's worse-outcome rate <= nullRate (x counts worse outcomes). */
  readonly nullRate: number
  /** Level of the sequential test on the candidate (0.9 α). */
  readonly testAlpha: number
  /** Level spent on the baseline's bound (α/10). */
  readonly baselineAlpha: number
}

export function rateChangePlan(input: RateChangePlanInput): RateChangePlan {
  const { baseline, alpha, margin, worse } = input
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`)
  if (!(baseline.n >= 1) || !(baseline.x >= 0 && baseline.x <= baseline.n)) {
    throw new RangeError(
      `baseline counts must satisfy 0 <= x <= n, n >= 1; got x=${baseline.x} n=${baseline.n}`,
    )
  }
  const baselineAlpha = alpha / 10
  const bad = worse === 'higher' ? baseline.x : baseline.n - baseline.x
  // Smoothed as in proportionDifferenceObservation so a baseline with no events has a spread.
  const q = (bad + 1) / (baseline.n + 2)
  const variance = (q * (1 - q)) / baseline.n
  const scale = margin > 0 ? margin : Math.sqrt(variance)
  const upper = bad / baseline.n + gaussianMixtureBoundary(variance, scale, baselineAlpha)
  const nullRate = Math.min(1 - 1e-9, Math.max(1e-9, upper + margin))
  return { nullRate, testAlpha: alpha - baselineAlpha, baselineAlpha }
}
