// Simulations of continuous monitoring: the rule engine looks at cumulative data every minute.
// With no change (A/A, or a true change exactly at the margin) the share of runs in which the
// mSPRT EVER fires must stay <= α (+ Monte-Carlo tolerance), while a fixed-sample test re-run at
// every look fires far more often. With a real regression the mSPRT must detect it.
// All runs are seeded (stats/random.ts), so the measured rates are reproducible.
import { describe, expect, it } from 'vitest'
import { binomialTest } from '../../stats/binomial-test.ts'
import {
  gaussianMsprtStep,
  initialRateThresholdState,
  initialSequentialState,
  meanDifferenceObservation,
  proportionDifferenceObservation,
  type RateThresholdOptions,
  rateThresholdMsprtStep,
  type SequentialOptions,
} from '../../stats/msprt.ts'
import { normalSf } from '../../stats/normal.ts'
import { createRng } from '../../stats/random.ts'
import { twoProportionZTest } from '../../stats/two-proportion-z-test.ts'

const ALPHA = 0.05
const CONFIDENCE = 1 - ALPHA
/** Upper Monte-Carlo tolerance: α plus 3 binomial standard errors over `runs` runs. */
const tolerance = (runs: number) => ALPHA + 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / runs)

interface SimResult {
  /** Share of runs where the sequential test fired at some look. */
  sequential: number
  /** Share of runs where the fixed-sample test re-run at each look rejected at some look. */
  naive: number
}

/** Canary vs control rates; each look adds `batch` interactions per arm. */
function simulateRates(
  seed: number,
  runs: number,
  looks: number,
  batch: number,
  p1: number,
  p2: number,
  options: SequentialOptions,
): SimResult {
  const rng = createRng(seed)
  const margin = options.margin ?? 0
  let sequential = 0
  let naive = 0
  for (let r = 0; r < runs; r++) {
    let n = 0
    let x1 = 0
    let x2 = 0
    let state = initialSequentialState(options)
    let fired = false
    let naiveFired = false
    for (let l = 0; l < looks; l++) {
      n += batch
      x1 += rng.binomial(batch, p1)
      x2 += rng.binomial(batch, p2)
      const baseline = { n, x: x1 }
      const candidate = { n, x: x2 }
      const look = gaussianMsprtStep(state, proportionDifferenceObservation(baseline, candidate), options)
      state = look.state
      if (look.fire) fired = true
      // What a threshold-and-t-test monitor would do: a one-sided fixed-sample test each look.
      const p =
        margin === 0
          ? twoProportionZTest({ baseline, candidate, alternative: 'greater' }).pValue
          : normalSf(
              (x2 / n - x1 / n - margin) /
                Math.sqrt(((x1 / n) * (1 - x1 / n)) / n + ((x2 / n) * (1 - x2 / n)) / n),
            )
      if (p <= ALPHA) naiveFired = true
    }
    if (fired) sequential++
    if (naiveFired) naive++
  }
  return { sequential: sequential / runs, naive: naive / runs }
}

/** Canary vs control latencies (log-normal, median 800 ms), candidate shifted by `shift` ms. */
function simulateMeans(
  seed: number,
  runs: number,
  looks: number,
  batch: number,
  shift: number,
  options: SequentialOptions,
): SimResult {
  const rng = createRng(seed)
  const margin = options.margin ?? 0
  let sequential = 0
  let naive = 0
  for (let r = 0; r < runs; r++) {
    const acc = { n: 0, s1: 0, ss1: 0, s2: 0, ss2: 0 }
    let state = initialSequentialState(options)
    let fired = false
    let naiveFired = false
    for (let l = 0; l < looks; l++) {
      for (let i = 0; i < batch; i++) {
        const a = rng.logNormal(Math.log(800), 0.6)
        const b = rng.logNormal(Math.log(800), 0.6) + shift
        acc.n++
        acc.s1 += a
        acc.ss1 += a * a
        acc.s2 += b
        acc.ss2 += b * b
      }
      const summary = (s: number, ss: number) => ({
        n: acc.n,
        mean: s / acc.n,
        variance: (ss - (s * s) / acc.n) / (acc.n - 1),
      })
      const obs = meanDifferenceObservation(summary(acc.s1, acc.ss1), summary(acc.s2, acc.ss2))
      const look = gaussianMsprtStep(state, obs, options)
      state = look.state
      if (look.fire) fired = true
      if (normalSf((obs.estimate - margin) / Math.sqrt(obs.variance)) <= ALPHA) naiveFired = true
    }
    if (fired) sequential++
    if (naiveFired) naive++
  }
  return { sequential: sequential / runs, naive: naive / runs }
}

/** One rate against a fixed `above:` threshold; first look at 300 (min_samples), then +100. */
function simulateThreshold(
  seed: number,
  runs: number,
  looks: number,
  rate: number,
  options: RateThresholdOptions,
): SimResult {
  const rng = createRng(seed)
  let sequential = 0
  let naive = 0
  for (let r = 0; r < runs; r++) {
    let n = 0
    let x = 0
    let state = initialRateThresholdState(options)
    let fired = false
    let naiveFired = false
    for (let l = 0; l < looks; l++) {
      const batch = l === 0 ? 300 : 100
      n += batch
      x += rng.binomial(batch, rate)
      const look = rateThresholdMsprtStep(state, { n, x }, options)
      state = look.state
      if (look.fire) fired = true
      if (binomialTest({ x, n, p0: options.threshold }).pValue <= ALPHA) naiveFired = true
    }
    if (fired) sequential++
    if (naiveFired) naive++
  }
  return { sequential: sequential / runs, naive: naive / runs }
}

describe('mSPRT under continuous monitoring (seeded simulations, α = 0.05, 60 looks per run)', () => {
  it('rates, A/A (5 % refusals both arms, margin 0): rarely fires; a z test re-run each look often does', () => {
    // 1,000 runs × 60 looks × 250 interactions per arm per look (15,000 per arm at the end).
    const r = simulateRates(101, 1000, 60, 250, 0.05, 0.05, { confidence: CONFIDENCE, tau: 0.01 })
    expect(r.sequential).toBeLessThanOrEqual(tolerance(1000))
    expect(r.naive).toBeGreaterThan(2 * ALPHA)
  })

  it('rates, true change exactly at the margin (5 % → 6 %, margin 0.01): still <= α', () => {
    const r = simulateRates(102, 1000, 60, 250, 0.05, 0.06, { confidence: CONFIDENCE, margin: 0.01 })
    expect(r.sequential).toBeLessThanOrEqual(tolerance(1000))
    expect(r.naive).toBeGreaterThan(2 * ALPHA)
  })

  it('rates, real regression (5 % → 6.5 %): detected in almost every run', () => {
    const r = simulateRates(103, 500, 60, 250, 0.05, 0.065, { confidence: CONFIDENCE, tau: 0.01 })
    expect(r.sequential).toBeGreaterThan(0.95)
  })

  it('latency means, change exactly at the margin (+200 ms, increase_by 200): <= α; naive re-test is not', () => {
    // 1,000 runs × 60 looks × 50 requests per arm per look.
    const r = simulateMeans(201, 1000, 60, 50, 200, { confidence: CONFIDENCE, margin: 200 })
    expect(r.sequential).toBeLessThanOrEqual(tolerance(1000))
    expect(r.naive).toBeGreaterThan(2 * ALPHA)
  })

  it('latency means, real regression (+350 ms against increase_by 200): detected', () => {
    const r = simulateMeans(202, 400, 60, 50, 350, { confidence: CONFIDENCE, margin: 200 })
    expect(r.sequential).toBeGreaterThan(0.95)
  })

  it('exact rate vs threshold (hallucination rate at exactly 1 %, above: 0.01): <= α; repeated exact tests are not', () => {
    const r = simulateThreshold(301, 1000, 60, 0.01, { confidence: CONFIDENCE, threshold: 0.01 })
    expect(r.sequential).toBeLessThanOrEqual(tolerance(1000))
    expect(r.naive).toBeGreaterThan(2 * ALPHA)
  })

  it('exact rate vs threshold, real regression (1.75 % against above: 0.01): detected', () => {
    const r = simulateThreshold(302, 500, 60, 0.0175, { confidence: CONFIDENCE, threshold: 0.01 })
    expect(r.sequential).toBeGreaterThan(0.95)
  })
})
