// The quantile tail test (stats/tail-test.ts + the exact rate mSPRT): seeded simulations.
// At the edge of H0 (the candidate's p99 exactly the baseline's p99 + the test margin, with a
// freshly drawn baseline per run, so the baseline's own error is included) it must fire in
// at most α of runs, looking every batch; it must find a shift that lives only in the tail.
import { describe, expect, it } from 'vitest'
import { countAbove, initialRateThresholdState, rateThresholdMsprtStep, tailPlan } from '../../stats/index.ts'
import { createRng, type Rng } from '../../stats/random.ts'

const P = 0.99
const ALPHA = 0.05
const MU = Math.log(800)
const SIGMA = 0.5
const lognormal = (rng: Rng) => Math.exp(MU + SIGMA * rng.normal())
const TRUE_P99 = Math.exp(MU + SIGMA * 2.3263478740408408)

function baselineStats(rng: Rng, n: number) {
  const sorted = Float64Array.from({ length: n }, () => lognormal(rng)).sort()
  const h = 0.005
  const at = (level: number) => sorted[Math.min(n - 1, Math.floor(level * n))]!
  const value = at(P)
  // Siddiqui-Bloch-Gastwirth, as metrics/scope-stats.ts computes it.
  const standardError = (Math.sqrt((P * (1 - P)) / n) * (at(P + h) - at(P - h))) / (2 * h)
  return { value, standardError, n, sorted }
}

/** Runs × looks of `batch` candidate draws each; returns the share of runs that fired and the median look. */
function simulate(
  seed: number,
  runs: number,
  looks: number,
  batch: number,
  draw: (rng: Rng) => number,
  margin: number,
  /** Count above the baseline's point estimate + margin, ignoring its uncertainty. */
  naive = false,
  baselineN = 10_000,
) {
  const rng = createRng(seed)
  let fired = 0
  const firstLooks: number[] = []
  for (let r = 0; r < runs; r++) {
    const base = baselineStats(rng, baselineN)
    const bounded = tailPlan({ p: P, alpha: ALPHA, margin, baseline: base })
    const plan = naive ? { ...bounded, threshold: base.value + margin, testAlpha: ALPHA } : bounded
    let state = initialRateThresholdState({
      confidence: 1 - plan.testAlpha,
      threshold: plan.nullShare,
      tau: plan.tau,
    })
    let n = 0
    let x = 0
    for (let look = 1; look <= looks; look++) {
      for (let i = 0; i < batch; i++) {
        n++
        if (draw(rng) > plan.threshold) x++
      }
      const step = rateThresholdMsprtStep(
        state,
        { x, n },
        { confidence: 1 - plan.testAlpha, threshold: plan.nullShare, tau: state.tau },
      )
      state = step.state
      if (step.fire) {
        fired++
        firstLooks.push(look)
        break
      }
    }
  }
  firstLooks.sort((a, b) => a - b)
  return { rate: fired / runs, medianLook: firstLooks[Math.floor(firstLooks.length / 2)] ?? Infinity }
}

describe('quantile tail test', () => {
  it('fires in at most alpha of A/A runs at the edge of H0, looking every batch', () => {
    // Candidate p99 = baseline p99 + margin exactly: shift the whole distribution by the margin.
    const margin = 50
    const { rate } = simulate(81, 250, 40, 300, (rng) => lognormal(rng) + margin, margin)
    expect(rate).toBeLessThanOrEqual(ALPHA + 0.02)
    // And a plain A/A (no shift) is far inside.
    expect(simulate(82, 100, 40, 300, lognormal, margin).rate).toBeLessThanOrEqual(0.02)
    // Treating the baseline's estimate as the truth (no upper bound) breaks the guarantee.
    // With a small baseline (2,000) the bound still holds and the naive threshold does not.
    const shifted = (rng: Rng) => lognormal(rng) + margin
    expect(simulate(85, 250, 40, 300, shifted, margin, false, 2000).rate).toBeLessThanOrEqual(ALPHA + 0.02)
    expect(simulate(85, 250, 40, 300, shifted, margin, true, 2000).rate).toBeGreaterThan(2 * ALPHA)
  })

  it('detects a shift that lives only in the tail (5 % of requests +1.5 s)', () => {
    const tail = (rng: Rng) => lognormal(rng) + (rng.uniform() < 0.05 ? 1500 : 0)
    const { rate, medianLook } = simulate(83, 100, 60, 300, tail, 50, false, 50_000)
    expect(rate).toBeGreaterThanOrEqual(0.95)
    expect(medianLook).toBeLessThanOrEqual(20)
  })

  it('puts the threshold above the baseline quantile by its always-valid upper bound plus the margin', () => {
    const rng = createRng(84)
    const base = baselineStats(rng, 50_000)
    const plan = tailPlan({ p: P, alpha: 0.01, margin: 50, baseline: base })
    expect(plan.threshold).toBeGreaterThan(base.value + 50)
    expect(plan.threshold - (base.value + 50)).toBeLessThan(5 * base.standardError)
    expect(plan.testAlpha + plan.baselineAlpha).toBeCloseTo(0.01, 12)
    expect(countAbove(base.sorted, TRUE_P99) / base.n).toBeCloseTo(0.01, 2)
    // Absolute rules count above the threshold itself, with the whole alpha.
    const abs = tailPlan({ p: P, alpha: 0.01, margin: 0, absolute: 2000 })
    expect(abs).toMatchObject({ threshold: 2000, nullShare: 1 - P, testAlpha: 0.01, baselineAlpha: 0 })
  })
})
