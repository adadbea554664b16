// Distribution-free confidence intervals for a latency quantile (p50/p95/p99) from order
// statistics, and a conservative, equally distribution-free bound on the DIFFERENCE of two
// quantiles ("p99 up by at least 200 ms with 99 % confidence"). No resampling, so every bound
// is a specific sorted element whose rank a SQL query can reproduce.
//
// Why order statistics: latencies are skewed and heavy-tailed; a normal-theory interval for
// p99 needs a density estimate at the tail and is wrong exactly when it matters. The number of
// observations below the true quantile ξ_p is Binomial(n, p) for any continuous distribution,
// which gives exact coverage (at least the nominal level) with no assumptions.

import { quantileSorted } from 'simple-statistics'
import { binomialCdf } from './distributions.ts'
import { type IntervalSides, tailProbabilities } from './interval.ts'

export interface QuantileIntervalOptions {
  /** Default 0.95. */
  readonly confidence?: number
  /** Default 'two-sided'. */
  readonly sides?: IntervalSides
}

export interface QuantileInterval {
  /** The quantile level, e.g. 0.99. */
  readonly p: number
  /** Point estimate: simple-statistics `quantileSorted` (R-7, as numpy's default and ClickHouse's quantileExactInclusive). */
  readonly estimate: number
  /** x_(lowerRank), or -Infinity when the sample is too small for a lower bound. */
  readonly lower: number
  /** x_(upperRank), or +Infinity when the sample is too small for an upper bound (two-sided 95 % for p99 needs n >= 368). */
  readonly upper: number
  /** 1-based rank of the lower bound in the sorted sample, or null when unbounded. */
  readonly lowerRank: number | null
  /** 1-based rank of the upper bound in the sorted sample, or null when unbounded. */
  readonly upperRank: number | null
  /** Exact coverage P(x_(l) <= ξ_p <= x_(u)) for continuous data; >= confidence when bounded. */
  readonly coverage: number
  readonly confidence: number
  readonly sides: IntervalSides
}

function isSortedAscending(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) if ((values[i] as number) < (values[i - 1] as number)) return false
  return true
}

/** Largest j in [-1, n] with F(j) <= target, F the Binomial(n, p) CDF (F(-1) = 0). */
function largestRankWithCdfAtMost(n: number, p: number, target: number): number {
  let lo = -1 // F(-1) = 0 <= target always
  let hi = n // F(n) = 1 > target for target < 1
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (binomialCdf(mid, n, p) <= target) lo = mid
    else hi = mid
  }
  return lo
}

/** Order-statistic ranks (1-based) bounding ξ_p; null where the sample cannot bound it. */
export function quantileRanks(
  n: number,
  p: number,
  options: QuantileIntervalOptions = {},
): { lowerRank: number | null; upperRank: number | null; coverage: number } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`)
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`)
  const tails = tailProbabilities(options.confidence ?? 0.95, options.sides ?? 'two-sided')
  // P(x_(l) <= ξ) = P(B >= l) = 1 - F(l - 1): the largest l with F(l - 1) <= α_lower.
  let lowerRank: number | null = null
  if (tails.lower > 0) {
    const l = largestRankWithCdfAtMost(n, p, tails.lower) + 1
    lowerRank = l >= 1 ? l : null
  }
  // P(ξ <= x_(u)) = P(B <= u - 1) = F(u - 1): the smallest u with F(u - 1) >= 1 - α_upper.
  let upperRank: number | null = null
  if (tails.upper > 0) {
    const j = largestRankWithCdfAtMost(n, p, 1 - tails.upper) + 1 // smallest j with F(j) > 1 - α
    // F(j) may equal 1 - α exactly only with measure zero; treat ">" as ">=" for the search.
    const u = j + 1
    upperRank = u <= n ? u : null
  }
  const below = lowerRank === null ? 0 : binomialCdf(lowerRank - 1, n, p)
  const above = upperRank === null ? 0 : 1 - binomialCdf(upperRank - 1, n, p)
  const unbounded = (tails.lower > 0 && lowerRank === null) || (tails.upper > 0 && upperRank === null)
  return { lowerRank, upperRank, coverage: unbounded ? Number.NaN : 1 - below - above }
}

/**
 * Confidence interval for the p-quantile of the distribution behind `sorted` (ascending).
 * The interval is [x_(l), x_(u)] with l, u from the Binomial(n, p) distribution (Conover,
 * Practical Nonparametric Statistics, 3rd ed., §3.2): equal-tailed, conservative.
 */
export function quantileInterval(
  sorted: readonly number[],
  p: number,
  options: QuantileIntervalOptions = {},
): QuantileInterval {
  if (sorted.length === 0) throw new RangeError('quantileInterval needs at least one observation')
  if (!isSortedAscending(sorted)) throw new RangeError('quantileInterval needs the sample sorted ascending')
  const confidence = options.confidence ?? 0.95
  const sides = options.sides ?? 'two-sided'
  const { lowerRank, upperRank, coverage } = quantileRanks(sorted.length, p, { confidence, sides })
  return {
    p,
    estimate: quantileSorted(sorted as number[], p),
    lower: lowerRank === null ? Number.NEGATIVE_INFINITY : (sorted[lowerRank - 1] as number),
    upper: upperRank === null ? Number.POSITIVE_INFINITY : (sorted[upperRank - 1] as number),
    lowerRank,
    upperRank,
    coverage,
    confidence,
    sides,
  }
}

export interface QuantileDifferenceBound {
  /** Candidate quantile minus baseline quantile (point estimates). */
  readonly estimate: number
  readonly lower: number
  readonly upper: number
  readonly confidence: number
  readonly sides: IntervalSides
}

/**
 * Conservative distribution-free bounds for ξ_p(candidate) - ξ_p(baseline) (independent
 * samples). Bonferroni over the two order-statistic intervals: with each one-sided bound at
 * 1 - α/2, P(ξ2 - ξ1 >= L2 - U1) >= 1 - α. For 'two-sided' each of the four ends gets α/4.
 * Valid for any continuous distributions at any n, but wider than the bootstrap (use
 * quantile-bootstrap.ts when power matters more than exactness).
 */
export function quantileDifferenceBound(
  baselineSorted: readonly number[],
  candidateSorted: readonly number[],
  p: number,
  options: QuantileIntervalOptions = {},
): QuantileDifferenceBound {
  const confidence = options.confidence ?? 0.95
  const sides = options.sides ?? 'two-sided'
  const alpha = 1 - confidence
  // Split α between the two samples (each gets 1 - α/2). For a lower bound on ξ2 - ξ1 we need
  // a lower bound on ξ2 and an upper bound on ξ1, hence the flipped sides for the baseline.
  const flip = (s: IntervalSides): IntervalSides => (s === 'lower' ? 'upper' : s === 'upper' ? 'lower' : s)
  const cand = quantileInterval(candidateSorted, p, { confidence: 1 - alpha / 2, sides })
  const base = quantileInterval(baselineSorted, p, { confidence: 1 - alpha / 2, sides: flip(sides) })
  return {
    estimate: cand.estimate - base.estimate,
    lower: sides === 'upper' ? Number.NEGATIVE_INFINITY : cand.lower - base.upper,
    upper: sides === 'lower' ? Number.POSITIVE_INFINITY : cand.upper - base.lower,
    confidence,
    sides,
  }
}
