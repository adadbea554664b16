// A tail test for quantile rules ("p99 above 2 s", "p99 up by 200 ms vs last stable") with the
// power of a rate test: count the candidate's observations above a threshold t and test the
// share above it. If the candidate's p-quantile is at most t, then P(value > t) <= 1 - p for
// any distribution, so "share above t <= 1 - p" is a null on a Bernoulli rate and the exact
// always-valid Beta-mixture mSPRT of the rate rules applies (rateThresholdMsprtStep), valid
// from the first observation — no asymptotics on the quantile estimate, whose variance at p99
// needs thousands of observations to settle.
//
// For a change rule the threshold is the baseline's quantile plus the margin. The baseline's
// quantile is itself estimated: the threshold uses its ALWAYS-VALID upper confidence bound at
// level α_b (the normal-mixture boundary on the quantile estimate, time-uniform over looks),
// recomputed at every look as the baseline grows. With probability >= 1 - α_b every threshold
// used is at or above the true baseline quantile plus the margin, hence (under H0) above the
// candidate's quantile t_min; the count above a look's threshold is at most the count above
// t_min, a Bernoulli process with rate <= 1 - p, and the mixture likelihood ratio increases with
// the count, so Ville's inequality still bounds the test's error by α_test: in all, α_b + α_test
// (α_b = α/10). The prior (τ) is fixed when a test starts.

import { gaussianMixtureBoundary } from './msprt.ts'

export interface TailPlanInput {
  /** The quantile's level, e.g. 0.99. */
  readonly p: number
  /** Overall false-alarm level of the rule, 1 - confidence. */
  readonly alpha: number
  /** The rule's margin inside the null (metric units, e.g. 50 ms); 0 for absolute rules. */
  readonly margin: number
  /**
   * Absolute rules: the threshold itself (`above: 2000`). Change rules: the baseline's quantile
   * estimate, its standard error and n (from metrics/scope-stats.ts).
   */
  readonly absolute?: number
  readonly baseline?: { readonly value: number; readonly standardError: number; readonly n: number }
  /** The worsening beyond the margin the test is tuned to (metric units); default: see tailTau. */
  readonly tuneTo?: number
}

export interface TailPlan {
  /** Count candidate observations strictly above this value. */
  readonly threshold: number
  /** H0: share above threshold <= nullShare (= 1 - p). */
  readonly nullShare: number
  /** Level of the sequential test on the share (alpha, or 0.9 alpha with a baseline). */
  readonly testAlpha: number
  /** Level spent on the baseline's upper bound (0 for absolute rules). */
  readonly baselineAlpha: number
  /** Prior scale of the share under H1 (share units). */
  readonly tau: number
}

/**
 * The threshold and levels of a tail test. Default tau: absolute rules, 1 - p (a doubling of
 * the tail share); change rules, the rise of the tail share a worsening of `tuneTo` beyond the
 * margin would cause, from the baseline's density at the quantile: Δshare ≈ tuneTo · f(ξ_p),
 * with f(ξ_p) = sqrt(p(1-p)/n) / SE (the inverse of the Siddiqui-Bloch-Gastwirth estimate the
 * standard error was built from), kept within [(1-p)/4, 1-p].
 */
export function tailPlan(input: TailPlanInput): TailPlan {
  const { p, alpha, margin } = input
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile level must be in (0, 1), got ${p}`)
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`)
  const nullShare = 1 - p
  if (input.absolute !== undefined) {
    return {
      threshold: input.absolute + margin,
      nullShare,
      testAlpha: alpha,
      baselineAlpha: 0,
      tau: nullShare,
    }
  }
  const b = input.baseline
  if (!b) throw new RangeError('a change tail test needs the baseline quantile')
  // A 7-day baseline has ~100x the candidate's data: its bound costs little even at α/10,
  // while every nat of α kept for the sequential test shortens its delay.
  const baselineAlpha = alpha / 10
  const se = Number.isFinite(b.standardError) && b.standardError > 0 ? b.standardError : 0
  // Time-uniform: the prior scale is the margin (metric units, fixed for the rule), not the SE.
  const scale = margin > 0 ? margin : se
  const upper = se > 0 ? b.value + gaussianMixtureBoundary(se * se, scale, baselineAlpha) : b.value
  const density = se > 0 && b.n > 0 ? Math.sqrt((p * (1 - p)) / b.n) / se : Number.POSITIVE_INFINITY
  const tuneTo = input.tuneTo ?? 3 * margin
  const raw = tuneTo * density
  const tau = Math.min(nullShare, Math.max(nullShare / 4, Number.isFinite(raw) ? raw : nullShare))
  return { threshold: upper + margin, nullShare, testAlpha: alpha - baselineAlpha, baselineAlpha, tau }
}

/** Number of values in an ascending array strictly greater than t (binary search). */
export function countAbove(sorted: ArrayLike<number>, t: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as number) <= t) lo = mid + 1
    else hi = mid
  }
  return sorted.length - lo
}
