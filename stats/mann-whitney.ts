// Mann-Whitney U test (Wilcoxon rank-sum): does the candidate's distribution (latency, token
// count, judge score) sit higher than the baseline's? Rank-based, so robust to the heavy tails
// of latencies and to the many ties of 1-5 judge scores, where a t test is distorted.

import type { Alternative } from './interval.ts'
import { normalSf } from './normal.ts'

export interface MannWhitneyInput {
  readonly baseline: readonly number[]
  readonly candidate: readonly number[]
  /** 'greater' = candidate values tend to be larger. Default 'two-sided'. */
  readonly alternative?: Alternative
  /** Continuity correction of 0.5 on U. Default true (as scipy). */
  readonly continuity?: boolean
}

export interface MannWhitneyResult {
  /** U statistic of the candidate: #(candidate > baseline) + 0.5 #(ties). */
  readonly u: number
  /** Standardized statistic for the chosen alternative (after continuity correction). */
  readonly z: number
  readonly pValue: number
  /** Common-language effect size U / (n1 n2) = P(candidate > baseline) + ½P(tie). */
  readonly probabilityGreater: number
  readonly alternative: Alternative
}

/**
 * Normal approximation with tie correction:
 *   mu = n1 n2 / 2, sigma² = n1 n2 / 12 · ((N + 1) - Σ(t³ - t) / (N (N - 1))).
 * Follows scipy.stats.mannwhitneyu(candidate, baseline, method='asymptotic'): for 'greater'
 * z = (U - mu - 0.5)/sigma; for 'less' the same with the baseline's U; two-sided uses the
 * larger U and doubles the tail.
 */
export function mannWhitneyU(input: MannWhitneyInput): MannWhitneyResult {
  const { baseline, candidate } = input
  const alternative = input.alternative ?? 'two-sided'
  const continuity = input.continuity ?? true
  const n1 = candidate.length
  const n2 = baseline.length
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU needs at least one observation per group')
  const n = n1 + n2
  // Rank the pooled sample once; tag candidate values so their rank sum falls out directly.
  const pooled: { value: number; candidate: boolean }[] = []
  for (const value of candidate) pooled.push({ value, candidate: true })
  for (const value of baseline) pooled.push({ value, candidate: false })
  pooled.sort((a, b) => a.value - b.value)
  let rankSumCandidate = 0
  let tieTerm = 0
  for (let i = 0; i < n; ) {
    let j = i
    while (j + 1 < n && (pooled[j + 1] as { value: number }).value === (pooled[i] as { value: number }).value)
      j++
    const t = j - i + 1
    const midRank = (i + j) / 2 + 1 // average of 1-based ranks i+1..j+1
    for (let k = i; k <= j; k++)
      if ((pooled[k] as { candidate: boolean }).candidate) rankSumCandidate += midRank
    tieTerm += t * t * t - t
    i = j + 1
  }
  const u1 = rankSumCandidate - (n1 * (n1 + 1)) / 2
  const u2 = n1 * n2 - u1
  const mu = (n1 * n2) / 2
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))))
  const u = alternative === 'less' ? u2 : alternative === 'greater' ? u1 : Math.max(u1, u2)
  const shifted = u - mu - (continuity ? 0.5 : 0)
  const z = sigma > 0 ? shifted / sigma : 0
  const tail = sigma > 0 ? normalSf(z) : 1
  const pValue = sigma > 0 ? (alternative === 'two-sided' ? Math.min(1, 2 * tail) : tail) : 1
  return { u: u1, z, pValue, probabilityGreater: u1 / (n1 * n2), alternative }
}
