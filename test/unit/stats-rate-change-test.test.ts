// The exact rate-change test (stats/rate-change-test.ts + the Beta-mixture mSPRT): seeded
// simulations. At the edge of H0 (candidate rate = baseline rate + the margin, with a freshly
// drawn baseline per run so the baseline's own error is included) it must fire in at most α
// of runs, looking every batch; it must need fewer samples than the normal mixture on the
// difference that change rules ran before (the same data, the same α).
import { describe, expect, it } from 'vitest'
import {
  gaussianMsprtStep,
  initialRateThresholdState,
  initialSequentialState,
  proportionDifferenceObservation,
  rateChangePlan,
  rateThresholdMsprtStep,
} from '../../stats/index.ts'
import { createRng } from '../../stats/random.ts'

const ALPHA = 0.05
const BASE = 0.02
const MARGIN = 0.00125
const LIMIT = 0.005

function run(seed: number, runs: number, looks: number, batch: number, candidateRate: number) {
  const rng = createRng(seed)
  let exactFired = 0
  let gaussianFired = 0
  const exactFirst: number[] = []
  const gaussianFirst: number[] = []
  for (let r = 0; r < runs; r++) {
    const baseline = { n: 100_000, x: rng.binomial(100_000, BASE) }
    const plan = rateChangePlan({ baseline, alpha: ALPHA, margin: MARGIN, worse: 'higher' })
    let exact = initialRateThresholdState({
      confidence: 1 - plan.testAlpha,
      threshold: plan.nullRate,
      tau: LIMIT,
    })
    let gauss = initialSequentialState({ confidence: 1 - ALPHA, margin: MARGIN, tau: LIMIT - MARGIN })
    let n = 0
    let x = 0
    let e = -1
    let g = -1
    for (let look = 1; look <= looks; look++) {
      n += batch
      x += rng.binomial(batch, candidateRate)
      const a = rateThresholdMsprtStep(
        exact,
        { x, n },
        { confidence: 1 - plan.testAlpha, threshold: plan.nullRate, tau: LIMIT },
      )
      exact = a.state
      if (e < 0 && a.fire) e = look
      const b = gaussianMsprtStep(gauss, proportionDifferenceObservation(baseline, { x, n }), {
        confidence: 1 - ALPHA,
        margin: MARGIN,
        tau: LIMIT - MARGIN,
      })
      gauss = b.state
      if (g < 0 && b.fire) g = look
    }
    if (e > 0) {
      exactFired++
      exactFirst.push(e)
    }
    if (g > 0) {
      gaussianFired++
      gaussianFirst.push(g)
    }
  }
  const median = (v: number[]) =>
    [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.POSITIVE_INFINITY
  return {
    exactShare: exactFired / runs,
    gaussianShare: gaussianFired / runs,
    exactMedian: median(exactFirst),
    gaussianMedian: median(gaussianFirst),
  }
}

describe('exact rate-change test', () => {
  it('fires in at most alpha of A/A runs at the edge of H0, looking every batch', () => {
    const r = run(81, 400, 60, 200, BASE + MARGIN)
    expect(r.exactShare).toBeLessThanOrEqual(ALPHA)
  })

  it('detects a change at twice the limit sooner than the normal mixture on the difference', () => {
    const r = run(82, 100, 60, 200, BASE + 2 * LIMIT)
    expect(r.exactShare).toBeGreaterThan(0.9)
    expect(r.exactMedian).toBeLessThan(r.gaussianMedian)
  })
})
