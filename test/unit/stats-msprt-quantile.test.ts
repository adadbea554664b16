// Continuous monitoring of a p99 latency difference ("p99 up by 200 ms"): the Gaussian mSPRT
// fed with quantileDifferenceObservation (order-statistic standard errors). Seeded simulation:
// at a true difference exactly at the margin it must fire in <= α of runs (plus Monte-Carlo
// tolerance), a z test re-run every look must not; a real regression must be detected.
import { describe, expect, it } from 'vitest'
import {
  gaussianMsprtStep,
  initialSequentialState,
  quantileDifferenceObservation,
  type SequentialOptions,
} from '../../stats/msprt.ts'
import { normalSf } from '../../stats/normal.ts'
import { createRng } from '../../stats/random.ts'

const ALPHA = 0.05

/** Merges a new batch into a sorted array (the sample grows by a batch per look). */
function mergeSorted(sorted: number[], batch: number[]): number[] {
  batch.sort((a, b) => a - b)
  const out = new Array<number>(sorted.length + batch.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < sorted.length && j < batch.length)
    out[k++] = sorted[i]! <= batch[j]! ? sorted[i++]! : batch[j++]!
  while (i < sorted.length) out[k++] = sorted[i++]!
  while (j < batch.length) out[k++] = batch[j++]!
  return out
}

/** 40 looks: the first at 1,000 requests per arm (p99 needs that many), then +200 per look. */
function simulateP99(seed: number, runs: number, shift: number, options: SequentialOptions) {
  const rng = createRng(seed)
  const margin = options.margin ?? 0
  let sequential = 0
  let naive = 0
  for (let r = 0; r < runs; r++) {
    let base: number[] = []
    let cand: number[] = []
    let state = initialSequentialState(options)
    let fired = false
    let naiveFired = false
    for (let l = 0; l < 40; l++) {
      const batch = l === 0 ? 1000 : 200
      base = mergeSorted(
        base,
        Array.from({ length: batch }, () => rng.logNormal(Math.log(800), 0.6)),
      )
      cand = mergeSorted(
        cand,
        Array.from({ length: batch }, () => rng.logNormal(Math.log(800), 0.6) + shift),
      )
      const obs = quantileDifferenceObservation(base, cand, 0.99)
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

describe('p99 latency difference under continuous monitoring (α = 0.05, 40 looks, 1,000 → 8,800 per arm)', () => {
  it('a shift of exactly the margin (+200 ms, increase_by 200) fires in <= α of runs; naive re-testing does not', () => {
    const runs = 400
    const r = simulateP99(401, runs, 200, { confidence: 1 - ALPHA, margin: 200 })
    expect(r.sequential).toBeLessThanOrEqual(ALPHA + 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / runs))
    expect(r.naive).toBeGreaterThan(2 * ALPHA)
  })

  it('a real regression (+700 ms at p99 against increase_by 200) is detected', () => {
    const r = simulateP99(402, 150, 700, { confidence: 1 - ALPHA, margin: 200 })
    expect(r.sequential).toBeGreaterThan(0.9)
  })
})
