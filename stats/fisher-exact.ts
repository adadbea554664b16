// Fisher's exact test for two rates: the fixed-sample test to use when events are rare
// (unsafe answers, timeouts at 0.1 %) and the z test's normal approximation is poor.
// Conditional on the total number of events, the candidate's event count is hypergeometric;
// the p-value sums hypergeometric masses in log space so n in the millions does not overflow.

import { hypergeometricLogPmf } from './distributions.ts'
import type { Alternative } from './interval.ts'
import { logAddExp } from './special.ts'
import type { TwoProportionInput } from './two-proportion-z-test.ts'

export interface FisherExactResult {
  /** Sample odds ratio (x2 (n1 - x1)) / (x1 (n2 - x2)); Infinity or NaN when a cell is 0. */
  readonly oddsRatio: number
  readonly pValue: number
  readonly alternative: Alternative
}

/**
 * Fisher's exact test on the 2x2 table [[x2, n2 - x2], [x1, n1 - x1]] (candidate first), so
 * 'greater' means the candidate's rate is higher. Same p-values as
 * `scipy.stats.fisher_exact([[x2, n2 - x2], [x1, n1 - x1]], alternative)`; the two-sided
 * p-value sums every table no more likely than the observed one (scipy's rule, with its
 * relative tolerance 1e-7 for ties in probability).
 */
export function fisherExactTest(input: TwoProportionInput): FisherExactResult {
  const { baseline, candidate } = input
  const alternative = input.alternative ?? 'two-sided'
  for (const [name, c] of [
    ['baseline', baseline],
    ['candidate', candidate],
  ] as const) {
    if (!Number.isInteger(c.n) || c.n < 1)
      throw new RangeError(`${name}.n must be an integer >= 1, got ${c.n}`)
    if (!Number.isInteger(c.x) || c.x < 0 || c.x > c.n)
      throw new RangeError(`${name}.x must be in 0..n, got ${c.x}`)
  }
  const total = baseline.n + candidate.n
  const events = baseline.x + candidate.x
  const draws = candidate.n
  const observed = candidate.x
  const lowK = Math.max(0, draws - (total - events))
  const highK = Math.min(events, draws)
  const logPmf = (k: number): number => hypergeometricLogPmf(k, total, events, draws)

  const sumLog = (from: number, to: number): number => {
    let acc = Number.NEGATIVE_INFINITY
    for (let k = from; k <= to; k++) acc = logAddExp(acc, logPmf(k))
    return acc
  }

  let logP: number
  if (alternative === 'greater') logP = sumLog(observed, highK)
  else if (alternative === 'less') logP = sumLog(lowK, observed)
  else {
    // Tables at most as likely as the observed one. The pmf is unimodal, so walk in from both
    // ends while masses stay below the observed mass instead of scanning the whole support.
    const threshold = logPmf(observed) + Math.log1p(1e-7)
    let acc = Number.NEGATIVE_INFINITY
    let k = lowK
    while (k <= highK) {
      const lp = logPmf(k)
      if (lp > threshold) break
      acc = logAddExp(acc, lp)
      k++
    }
    for (let j = highK; j >= k; j--) {
      const lp = logPmf(j)
      if (lp > threshold) break
      acc = logAddExp(acc, lp)
    }
    logP = acc
  }
  const a = candidate.x
  const b = candidate.n - candidate.x
  const c = baseline.x
  const d = baseline.n - baseline.x
  const oddsRatio = b * c === 0 ? (a * d === 0 ? Number.NaN : Number.POSITIVE_INFINITY) : (a * d) / (b * c)
  return { oddsRatio, pValue: Math.min(1, Math.exp(logP)), alternative }
}
