// Shared vocabulary for confidence intervals: which sides are bounded, and how a one-sided
// confidence level maps to the tail probability on each side.

/**
 * 'two-sided': both ends at (1 - confidence) / 2 each.
 * 'lower': only a lower bound (upper end is the parameter's maximum), all of 1 - confidence
 *   in the lower tail: "the rate is at least `lower` with `confidence`".
 * 'upper': only an upper bound.
 */
export type IntervalSides = 'two-sided' | 'lower' | 'upper'

/** A confidence interval. One-sided intervals carry the parameter's natural limit on the open side. */
export interface ConfidenceInterval {
  readonly lower: number
  readonly upper: number
  readonly confidence: number
  readonly sides: IntervalSides
}

/** Tail probabilities (below lower, above upper) for a confidence level and sides. */
export function tailProbabilities(
  confidence: number,
  sides: IntervalSides,
): { lower: number; upper: number } {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`)
  }
  const alpha = 1 - confidence
  if (sides === 'two-sided') return { lower: alpha / 2, upper: alpha / 2 }
  if (sides === 'lower') return { lower: alpha, upper: 0 }
  return { lower: 0, upper: alpha }
}

/** Alternative hypothesis of a two-sample test: candidate greater than baseline, less, or different. */
export type Alternative = 'greater' | 'less' | 'two-sided'
