// Welch's t test: is the candidate's mean (latency, helpfulness score, cost, tokens) different
// from the baseline's when the two variances differ, as they do after a model change? For a
// fixed-size comparison; continuous monitoring of a mean uses msprt.ts.

import { mean, sampleVariance } from 'simple-statistics'
import { studentTCdf, studentTSf } from './distributions.ts'
import type { Alternative } from './interval.ts'

/** Summary statistics of one group, as a ClickHouse `count()`, `avg()`, `varSamp()` returns them. */
export interface MeanSummary {
  readonly n: number
  readonly mean: number
  /** Sample variance (n - 1 denominator). */
  readonly variance: number
}

export interface WelchInput {
  readonly baseline: MeanSummary
  readonly candidate: MeanSummary
  /** 'greater' = candidate mean above baseline mean. Default 'two-sided'. */
  readonly alternative?: Alternative
}

export interface WelchResult {
  /** Candidate mean minus baseline mean. */
  readonly difference: number
  readonly standardError: number
  readonly t: number
  /** Welch–Satterthwaite degrees of freedom (fractional). */
  readonly df: number
  readonly pValue: number
  readonly alternative: Alternative
}

/** Summary of raw observations (mean and Bessel-corrected variance from simple-statistics). */
export function summarize(values: readonly number[]): MeanSummary {
  if (values.length < 2) throw new RangeError(`need at least 2 observations, got ${values.length}`)
  return { n: values.length, mean: mean(values as number[]), variance: sampleVariance(values as number[]) }
}

/**
 * t = (m2 - m1) / sqrt(v1/n1 + v2/n2),
 * df = (v1/n1 + v2/n2)² / ((v1/n1)²/(n1 - 1) + (v2/n2)²/(n2 - 1)),
 * p from Student's t with df degrees of freedom. Same numbers as
 * `scipy.stats.ttest_ind(candidate, baseline, equal_var=False, alternative=...)`.
 */
export function welchTTest(input: WelchInput): WelchResult {
  const { baseline: b, candidate: c } = input
  const alternative = input.alternative ?? 'two-sided'
  for (const [name, s] of [
    ['baseline', b],
    ['candidate', c],
  ] as const) {
    if (!(s.n >= 2)) throw new RangeError(`${name}.n must be >= 2 for a variance, got ${s.n}`)
    if (!(s.variance >= 0)) throw new RangeError(`${name}.variance must be >= 0, got ${s.variance}`)
  }
  const w1 = b.variance / b.n
  const w2 = c.variance / c.n
  const se = Math.sqrt(w1 + w2)
  const difference = c.mean - b.mean
  if (se === 0) {
    // Both groups constant: no evidence either way unless the constants differ, in which case
    // the difference is certain. Report it as such instead of dividing by zero.
    const certain =
      difference !== 0 &&
      (alternative === 'two-sided' || (alternative === 'greater' ? difference > 0 : difference < 0))
    return {
      difference,
      standardError: 0,
      t: difference === 0 ? 0 : Math.sign(difference) * Number.POSITIVE_INFINITY,
      df: b.n + c.n - 2,
      pValue: certain ? 0 : 1,
      alternative,
    }
  }
  const t = difference / se
  const df = (w1 + w2) ** 2 / ((w1 * w1) / (b.n - 1) + (w2 * w2) / (c.n - 1))
  const pValue =
    alternative === 'greater'
      ? studentTSf(t, df)
      : alternative === 'less'
        ? studentTCdf(t, df)
        : Math.min(1, 2 * studentTSf(Math.abs(t), df))
  return { difference, standardError: se, t, df, pValue, alternative }
}
