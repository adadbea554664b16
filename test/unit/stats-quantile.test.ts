// Quantile confidence intervals (order statistics), the exact conservative bound on a
// difference of quantiles, and the seeded percentile bootstrap.
import { quantileSorted } from 'simple-statistics'
import { describe, expect, it } from 'vitest'
import { normalQuantile } from '../../stats/normal.ts'
import { bootstrapQuantileDifference, selectQuantileInPlace } from '../../stats/quantile-bootstrap.ts'
import { quantileDifferenceBound, quantileInterval, quantileRanks } from '../../stats/quantile-interval.ts'
import { createRng } from '../../stats/random.ts'

const sortAsc = (values: number[]): number[] => values.sort((a, b) => a - b)

describe('quantileRanks', () => {
  // Reference ranks: direct search over the Binomial(n, p) CDF in mpmath (50 digits):
  // l = largest rank with F(l - 1) <= α_lower, u = smallest rank with F(u - 1) >= 1 - α_upper,
  // coverage = F(u - 1) - F(l - 1). n = 100, p = 0.5 gives Conover's textbook ranks 40 and 61.
  it.each([
    [1000, 0.99, 0.95, 'two-sided', 983, 997, 0.9760947634979771],
    [100, 0.5, 0.95, 'two-sided', 40, 61, 0.9647997997822951],
    [5000, 0.95, 0.99, 'lower', 4714, null, 0.9900024948798454],
    [5000, 0.95, 0.99, 'upper', null, 4786, 0.990576573196188],
    [20, 0.5, 0.9, 'two-sided', 6, 15, 0.9586105346679688],
    [2000, 0.99, 0.6826894921370859, 'two-sided', 1976, 1985, 0.6891321487639217],
  ] as const)('n=%i p=%f confidence=%f %s', (n, p, confidence, sides, l, u, coverage) => {
    const r = quantileRanks(n, p, { confidence, sides })
    expect(r.lowerRank).toBe(l)
    expect(r.upperRank).toBe(u)
    expect(r.coverage).toBeCloseTo(coverage, 12)
    expect(r.coverage).toBeGreaterThanOrEqual(confidence)
  })

  it('cannot bound a p99 from above with 300 observations', () => {
    const r = quantileRanks(300, 0.99, { confidence: 0.95 })
    expect(r.lowerRank).toBe(293)
    expect(r.upperRank).toBeNull()
    expect(Number.isNaN(r.coverage)).toBe(true)
  })
})

describe('quantileInterval', () => {
  it('returns the order statistics at the ranks and the simple-statistics point estimate', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1) // x_(k) = k
    const ci = quantileInterval(sorted, 0.99)
    expect(ci.lower).toBe(983)
    expect(ci.upper).toBe(997)
    expect(ci.estimate).toBe(quantileSorted(sorted, 0.99))
    const small = quantileInterval(sorted.slice(0, 300), 0.99)
    expect(small.upper).toBe(Number.POSITIVE_INFINITY)
    expect(() => quantileInterval([3, 1, 2], 0.5)).toThrow(/sorted/)
  })

  it('covers the true p95 of a skewed distribution at least at the nominal rate (simulation)', () => {
    const rng = createRng(95)
    const truth = Math.exp(Math.log(800) + 0.6 * normalQuantile(0.95)) // lognormal p95
    let covered = 0
    const reps = 1000
    for (let r = 0; r < reps; r++) {
      const sample = sortAsc(Array.from({ length: 400 }, () => rng.logNormal(Math.log(800), 0.6)))
      const ci = quantileInterval(sample, 0.95, { confidence: 0.9 })
      if (ci.lower <= truth && truth <= ci.upper) covered++
    }
    // Exact coverage of the chosen ranks is >= 0.9; allow 3 Monte-Carlo standard errors.
    expect(covered / reps).toBeGreaterThan(0.9 - 3 * Math.sqrt((0.9 * 0.1) / reps))
  })
})

describe('difference of two p-quantiles', () => {
  const rngFor = (seed: number) => createRng(seed)
  const p95 = (mu: number, sigma: number) => Math.exp(mu + sigma * normalQuantile(0.95))
  const truthDiff = p95(Math.log(900), 0.6) - p95(Math.log(800), 0.5)

  it('the Bonferroni order-statistic bound is valid (one-sided lower bound, simulation)', () => {
    const rng = rngFor(7)
    let covered = 0
    const reps = 600
    for (let r = 0; r < reps; r++) {
      const base = sortAsc(Array.from({ length: 600 }, () => rng.logNormal(Math.log(800), 0.5)))
      const cand = sortAsc(Array.from({ length: 600 }, () => rng.logNormal(Math.log(900), 0.6)))
      const b = quantileDifferenceBound(base, cand, 0.95, { confidence: 0.9, sides: 'lower' })
      expect(b.upper).toBe(Number.POSITIVE_INFINITY)
      if (b.lower <= truthDiff) covered++
    }
    expect(covered / reps).toBeGreaterThanOrEqual(0.9)
  })

  it('the bootstrap is reproducible from its seed and its interval surrounds the estimate', () => {
    const rng = rngFor(3)
    const baseline = Array.from({ length: 2000 }, () => rng.logNormal(Math.log(800), 0.5))
    const candidate = Array.from({ length: 2000 }, () => rng.logNormal(Math.log(800), 0.5) + 250)
    const a = bootstrapQuantileDifference({ baseline, candidate, p: 0.99, seed: 42, resamples: 500 })
    const b = bootstrapQuantileDifference({ baseline, candidate, p: 0.99, seed: 42, resamples: 500 })
    expect(a).toEqual(b)
    expect(a.lower).toBeLessThan(a.estimate)
    expect(a.upper).toBeGreaterThan(a.estimate)
    const sortedB = sortAsc([...baseline])
    const sortedC = sortAsc([...candidate])
    expect(a.estimate).toBeCloseTo(quantileSorted(sortedC, 0.99) - quantileSorted(sortedB, 0.99), 9)
    // "p99 up by at least X with 99 % confidence": the one-sided bootstrap bound is tighter
    // than the exact Bonferroni bound on the same data.
    const boot = bootstrapQuantileDifference({
      baseline,
      candidate,
      p: 0.99,
      confidence: 0.99,
      sides: 'lower',
      resamples: 500,
    })
    const exact = quantileDifferenceBound(sortedB, sortedC, 0.99, { confidence: 0.99, sides: 'lower' })
    expect(boot.upper).toBe(Number.POSITIVE_INFINITY)
    expect(boot.lower).toBeGreaterThan(exact.lower)
  })

  it('the bootstrap interval covers the true p95 difference near the nominal rate (simulation)', () => {
    const rng = rngFor(11)
    let covered = 0
    const reps = 120
    for (let r = 0; r < reps; r++) {
      const baseline = Array.from({ length: 1000 }, () => rng.logNormal(Math.log(800), 0.5))
      const candidate = Array.from({ length: 1000 }, () => rng.logNormal(Math.log(900), 0.6))
      const ci = bootstrapQuantileDifference({
        baseline,
        candidate,
        p: 0.95,
        confidence: 0.9,
        resamples: 400,
        seed: r + 1,
      })
      if (ci.lower <= truthDiff && truthDiff <= ci.upper) covered++
    }
    // Nominal 0.90; the percentile bootstrap is asymptotic, and 120 runs have an MC sd of 0.027.
    expect(covered / reps).toBeGreaterThan(0.8)
  })
})

describe('selectQuantileInPlace', () => {
  it('equals simple-statistics quantileSorted (R-7) on unsorted data, with ties and small n', () => {
    const rng = createRng(5)
    for (const n of [1, 2, 3, 10, 99, 100, 1001]) {
      const values = Array.from({ length: n }, () => Math.round(rng.exponential(0.01)))
      const sorted = sortAsc([...values])
      for (const p of [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999]) {
        expect(selectQuantileInPlace([...values], p)).toBeCloseTo(quantileSorted(sorted, p), 9)
      }
    }
  })
})
