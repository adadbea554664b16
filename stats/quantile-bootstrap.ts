// Percentile bootstrap confidence interval for the difference of two quantiles (candidate p99
// minus baseline p99): the tighter companion of quantileDifferenceBound (quantile-interval.ts)
// for "p99 up by 200 ms with 99 % confidence". Seeded, so the same data and seed always give
// the same interval (a page must be reproducible).

import { quantileSorted, quickselect } from 'simple-statistics'
import { type IntervalSides, tailProbabilities } from './interval.ts'
import { createRng, type Rng } from './random.ts'

export interface QuantileBootstrapInput {
  readonly baseline: readonly number[]
  readonly candidate: readonly number[]
  /** Quantile level, e.g. 0.99. */
  readonly p: number
  /** Default 0.95. */
  readonly confidence?: number
  /** Default 'two-sided'; 'lower' gives "the increase is at least `lower`". */
  readonly sides?: IntervalSides
  /** Bootstrap resamples. Default 2000. */
  readonly resamples?: number
  /** PRNG seed. Default 1. */
  readonly seed?: number
}

export interface QuantileBootstrapResult {
  /** Candidate quantile minus baseline quantile on the original samples. */
  readonly estimate: number
  readonly lower: number
  readonly upper: number
  /** Bootstrap standard error of the difference (sd of the replicates). */
  readonly standardError: number
  readonly resamples: number
  readonly confidence: number
  readonly sides: IntervalSides
}

/**
 * The p-quantile of `scratch` (unsorted; reordered in place) by simple-statistics'
 * quantileSorted rule: R-7 / numpy 'linear', h = (n - 1) p, interpolating between x[⌊h⌋] and
 * x[⌊h⌋ + 1] (0-based), the same as ClickHouse's quantileExactInclusive. Floyd-Rivest selection makes it
 * O(n) per bootstrap replicate instead of a sort, and the replicates estimate the same
 * statistic as the point estimate.
 */
export function selectQuantileInPlace(scratch: number[], p: number): number {
  const h = (scratch.length - 1) * p
  const lower = Math.floor(h)
  const fraction = h - lower
  if (fraction === 0) {
    quickselect(scratch, lower)
    return scratch[lower] as number
  }
  // Select the upper neighbour; everything left of it is <= it, so x_(lower) is their maximum.
  const upper = lower + 1
  quickselect(scratch, upper)
  let below = Number.NEGATIVE_INFINITY
  for (let i = 0; i < upper; i++) if ((scratch[i] as number) > below) below = scratch[i] as number
  const above = scratch[upper] as number
  return below + fraction * (above - below)
}

function resampleQuantile(rng: Rng, values: readonly number[], scratch: number[], p: number): number {
  const n = values.length
  for (let i = 0; i < n; i++) scratch[i] = values[rng.int(n)] as number
  return selectQuantileInPlace(scratch, p)
}

/** Percentile of the sorted replicates at level q by rank q·(B + 1), rounded outward. */
function replicatePercentile(sorted: Float64Array, q: number, side: 'low' | 'high'): number {
  const b = sorted.length
  // Lower end: the floor rank; upper end: the ceil rank. Rounds the interval outward.
  const rank =
    side === 'low' ? Math.max(0, Math.floor(q * (b + 1)) - 1) : Math.min(b - 1, Math.ceil(q * (b + 1)) - 1)
  return sorted[rank] as number
}

/**
 * Percentile bootstrap (Efron & Tibshirani 1993, ch. 13): resample each group with
 * replacement, recompute both quantiles, take percentiles of the differences. Intervals for
 * extreme quantiles from small samples under-cover (the resampled p99 can only take values
 * near the few largest observations): ask for n in the thousands per group for p99.
 */
export function bootstrapQuantileDifference(input: QuantileBootstrapInput): QuantileBootstrapResult {
  const { baseline, candidate, p } = input
  const confidence = input.confidence ?? 0.95
  const sides = input.sides ?? 'two-sided'
  const resamples = input.resamples ?? 2000
  if (baseline.length < 2 || candidate.length < 2)
    throw new RangeError('bootstrap needs at least 2 observations per group')
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`)
  if (!Number.isInteger(resamples) || resamples < 100)
    throw new RangeError(`resamples must be an integer >= 100, got ${resamples}`)
  const tails = tailProbabilities(confidence, sides)
  const rng = createRng(input.seed ?? 1)

  const estimate =
    quantileSorted(
      [...candidate].sort((a, b) => a - b),
      p,
    ) -
    quantileSorted(
      [...baseline].sort((a, b) => a - b),
      p,
    )

  const scratchBase = new Array<number>(baseline.length).fill(0)
  const scratchCand = new Array<number>(candidate.length).fill(0)
  const diffs = new Float64Array(resamples)
  let sum = 0
  let sumSq = 0
  for (let r = 0; r < resamples; r++) {
    const d =
      resampleQuantile(rng, candidate, scratchCand, p) - resampleQuantile(rng, baseline, scratchBase, p)
    diffs[r] = d
    sum += d
    sumSq += d * d
  }
  diffs.sort()
  const meanDiff = sum / resamples
  const variance = Math.max(0, (sumSq - resamples * meanDiff * meanDiff) / (resamples - 1))
  return {
    estimate,
    lower: tails.lower > 0 ? replicatePercentile(diffs, tails.lower, 'low') : Number.NEGATIVE_INFINITY,
    upper: tails.upper > 0 ? replicatePercentile(diffs, 1 - tails.upper, 'high') : Number.POSITIVE_INFINITY,
    standardError: Math.sqrt(variance),
    resamples,
    confidence,
    sides,
  }
}
