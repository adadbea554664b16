// Exact one-sided binomial test of one rate against a fixed threshold: "is the hallucination
// rate above 0.01?" for an `above:` rule evaluated once on a window. Exact because such
// thresholds sit where events are rare and n is a few hundred, where z tests are unreliable.

import { binomialCdf, binomialSfInclusive } from './distributions.ts'
import type { ProportionCount } from './proportion-interval.ts'

export interface BinomialTestInput extends ProportionCount {
  /** Rate under the null hypothesis (the rule's threshold). */
  readonly p0: number
  /** 'greater': H1 rate > p0 (default). 'less': H1 rate < p0. */
  readonly alternative?: 'greater' | 'less'
}

export interface BinomialTestResult {
  readonly rate: number
  readonly pValue: number
  readonly alternative: 'greater' | 'less'
}

/** P(X >= x | p0) for 'greater', P(X <= x | p0) for 'less'; as scipy.stats.binomtest. */
export function binomialTest(input: BinomialTestInput): BinomialTestResult {
  const { x, n, p0 } = input
  const alternative = input.alternative ?? 'greater'
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`)
  if (!Number.isInteger(x) || x < 0 || x > n) throw new RangeError(`x must be an integer in 0..n, got ${x}`)
  if (!(p0 > 0 && p0 < 1)) throw new RangeError(`p0 must be in (0, 1), got ${p0}`)
  const pValue = alternative === 'greater' ? binomialSfInclusive(x, n, p0) : binomialCdf(x, n, p0)
  return { rate: x / n, pValue, alternative }
}
