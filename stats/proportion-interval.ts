// Confidence intervals for one rate (x events out of n): hallucination, refusal, unsafe, error
// rate of a scope. Wilson score for everyday windows; Clopper-Pearson exact when events are
// rare or n is small, because it never under-covers (Wilson can, a little, near 0 and 1) and an
// `above: 0.01` trigger should not page on a Wald interval that collapses to [0, 0] at x = 0.

import { type ConfidenceInterval, type IntervalSides, tailProbabilities } from './interval.ts'
import { normalQuantile } from './normal.ts'
import { inverseRegularizedBeta } from './special.ts'

export interface ProportionCount {
  /** Events (e.g. hallucinated answers), integer 0..n. */
  readonly x: number
  /** Trials (scored interactions), integer >= 1. */
  readonly n: number
}

export interface ProportionIntervalOptions {
  /** Default 0.95. */
  readonly confidence?: number
  /** Default 'two-sided'. */
  readonly sides?: IntervalSides
}

function checkCount({ x, n }: ProportionCount): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`)
  if (!Number.isInteger(x) || x < 0 || x > n)
    throw new RangeError(`x must be an integer in 0..n (${n}), got ${x}`)
}

/**
 * Wilson score interval (Wilson 1927): inverts the score test, so it stays inside [0, 1] and
 * is not degenerate at x = 0. Matches statsmodels `proportion_confint(method='wilson')`.
 */
export function wilsonInterval(
  count: ProportionCount,
  options: ProportionIntervalOptions = {},
): ConfidenceInterval {
  checkCount(count)
  const confidence = options.confidence ?? 0.95
  const sides = options.sides ?? 'two-sided'
  const tails = tailProbabilities(confidence, sides)
  const { x, n } = count
  const phat = x / n
  const bound = (tail: number, sign: 1 | -1): number => {
    const z = normalQuantile(1 - tail)
    const z2 = z * z
    const center = (phat + z2 / (2 * n)) / (1 + z2 / n)
    const half = (z / (1 + z2 / n)) * Math.sqrt((phat * (1 - phat)) / n + z2 / (4 * n * n))
    return Math.min(1, Math.max(0, center + sign * half))
  }
  return {
    lower: tails.lower > 0 ? bound(tails.lower, -1) : 0,
    upper: tails.upper > 0 ? bound(tails.upper, 1) : 1,
    confidence,
    sides,
  }
}

/**
 * Clopper-Pearson "exact" interval (1934): the bounds are Beta quantiles,
 * lower = B⁻¹(α_l; x, n - x + 1), upper = B⁻¹(1 - α_u; x + 1, n - x). Coverage is at least the
 * nominal level for every true rate. Matches statsmodels `proportion_confint(method='beta')`.
 */
export function clopperPearsonInterval(
  count: ProportionCount,
  options: ProportionIntervalOptions = {},
): ConfidenceInterval {
  checkCount(count)
  const confidence = options.confidence ?? 0.95
  const sides = options.sides ?? 'two-sided'
  const tails = tailProbabilities(confidence, sides)
  const { x, n } = count
  const lower = tails.lower > 0 && x > 0 ? inverseRegularizedBeta(tails.lower, x, n - x + 1) : 0
  const upper = tails.upper > 0 && x < n ? inverseRegularizedBeta(1 - tails.upper, x + 1, n - x) : 1
  return { lower, upper, confidence, sides }
}
