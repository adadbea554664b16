// Two-proportion z test with the pooled variance: is the candidate's rate (refusals, errors,
// hallucinations) different from / greater than the baseline's, in one fixed-size comparison?
// For windows evaluated once (a daily report, a finished canary). Re-running it every minute on
// growing data inflates false alarms: continuous monitoring uses msprt.ts instead.

import type { Alternative } from './interval.ts'
import { normalCdf, normalSf } from './normal.ts'
import type { ProportionCount } from './proportion-interval.ts'

export interface TwoProportionInput {
  readonly baseline: ProportionCount
  readonly candidate: ProportionCount
  /** 'greater' = candidate rate above baseline rate. Default 'two-sided'. */
  readonly alternative?: Alternative
}

export interface TwoProportionZTestResult {
  /** Candidate rate minus baseline rate. */
  readonly difference: number
  readonly baselineRate: number
  readonly candidateRate: number
  /** Pooled rate (x1 + x2) / (n1 + n2) used in the standard error under H0: p1 = p2. */
  readonly pooledRate: number
  readonly standardError: number
  readonly z: number
  readonly pValue: number
  readonly alternative: Alternative
}

/**
 * z = (p2 - p1) / sqrt(p(1 - p)(1/n1 + 1/n2)) with p the pooled rate. Same statistic as
 * statsmodels `proportions_ztest(count, nobs)` (whose default also pools). When no events at
 * all were seen (or only events), the standard error is 0: z = 0 and p = 1, because the data
 * cannot show any difference.
 */
export function twoProportionZTest(input: TwoProportionInput): TwoProportionZTestResult {
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
  const p1 = baseline.x / baseline.n
  const p2 = candidate.x / candidate.n
  const pooled = (baseline.x + candidate.x) / (baseline.n + candidate.n)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / baseline.n + 1 / candidate.n))
  const z = se > 0 ? (p2 - p1) / se : 0
  const pValue =
    se === 0
      ? 1
      : alternative === 'greater'
        ? normalSf(z)
        : alternative === 'less'
          ? normalCdf(z)
          : Math.min(1, 2 * normalSf(Math.abs(z)))
  return {
    difference: p2 - p1,
    baselineRate: p1,
    candidateRate: p2,
    pooledRate: pooled,
    standardError: se,
    z,
    pValue,
    alternative,
  }
}
