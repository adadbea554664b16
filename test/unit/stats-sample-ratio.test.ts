// Sample ratio mismatch: Pearson chi-square goodness of fit against scipy.stats.chisquare.
import { describe, expect, it } from 'vitest'
import { sampleRatioMismatch } from '../../stats/sample-ratio-mismatch.ts'

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

describe('sampleRatioMismatch', () => {
  // scipy 1.17.1: chisquare(observed, f_exp=weights / sum(weights) * sum(observed))
  const cases: [number[], number[], number, number, boolean][] = [
    [[5000, 5100], [1, 1], 0.9900990099009901, 0.3197181768128675, false],
    [[50500, 49000], [1, 1], 22.613065326633166, 1.9813263332735096e-6, true],
    [[9000, 1060], [9, 1], 3.220675944333996, 0.072713598112211, false],
    [[3300, 3350, 3200], [1, 1, 1], 3.5532994923857872, 0.16920407533549506, false],
    [[8000, 1500, 500], [80, 15, 5], 0, 1, false],
  ]
  it.each(cases)('observed %j with weights %j', (observed, expectedWeights, chi, p, mismatch) => {
    const r = sampleRatioMismatch({ observed, expectedWeights })
    expect(r.df).toBe(observed.length - 1)
    expect(relErr(r.chiSquare, chi)).toBeLessThan(1e-12)
    expect(relErr(r.pValue, p)).toBeLessThan(1e-12)
    expect(r.mismatch).toBe(mismatch)
  })

  it('flags a broken 90/10 canary split that a table lookup would floor', () => {
    const r = sampleRatioMismatch({ observed: [9000, 1400], expectedWeights: [90, 10] })
    expect(r.pValue).toBeLessThan(1e-20)
    expect(r.mismatch).toBe(true)
  })

  it('names the problem in its errors', () => {
    expect(() => sampleRatioMismatch({ observed: [1, 2], expectedWeights: [1] })).toThrow(/variants/)
    expect(() => sampleRatioMismatch({ observed: [1, 2], expectedWeights: [1, 0] })).toThrow(/weights/)
  })
})
