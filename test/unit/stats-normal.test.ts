// The precise standard normal (CDF, tails, log-CDF, quantile) against mpmath, and the reason
// it exists: simple-statistics' table-based normal functions are too coarse for p-values.
import { cumulativeStdNormalProbability, probit } from 'simple-statistics'
import { describe, expect, it } from 'vitest'
import { erfc, normalCdf, normalLogCdf, normalQuantile, normalSf } from '../../stats/normal.ts'

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

// References: mpmath 1.3, mp.dps = 50: ncdf(-z), log(ncdf(z)); quantiles by 250 bisection
// steps on ncdf in 50-digit arithmetic.

describe('normalSf / normalCdf / erfc', () => {
  it.each([
    [0, 0.5],
    [0.5, 0.3085375387259869],
    [1.959963984540054, 0.025000000000000012],
    [3, 0.0013498980316300946],
    [5, 2.866515718791939e-7],
    [8, 6.220960574271784e-16],
    [10, 7.619853024160525e-24],
    [20, 2.7536241186062337e-89],
    [37, 5.725571222524577e-300],
  ])('sf(%f)', (z, v) => {
    // Relative accuracy holds deep into the tail (1e-13 at z = 37, ~1e-15 to z = 10).
    expect(relErr(normalSf(z), v)).toBeLessThan(z > 10 ? 2e-13 : 2e-14)
    expect(relErr(normalCdf(-z), v)).toBeLessThan(z > 10 ? 2e-13 : 2e-14)
  })

  it('is symmetric and handles infinities', () => {
    for (const z of [0.1, 1, 2.5, 6]) expect(Math.abs(normalCdf(z) + normalCdf(-z) - 1)).toBeLessThan(1e-15)
    expect(normalCdf(Number.NEGATIVE_INFINITY)).toBe(0)
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1)
    expect(erfc(0)).toBe(1)
    expect(erfc(-1) + erfc(1)).toBeCloseTo(2, 15)
  })

  it.each([
    [-100, -5005.524208694205],
    [-50, -1254.8313611394199],
    [-38, -726.5572160188201],
    [-36.9, -685.3328831653506],
    [-20, -203.91715537109727],
    [-5, -15.064998393988725],
    [0, -Math.LN2],
    [3, -0.0013508099647481938],
  ])('logCdf(%f) stays finite where the CDF underflows', (z, v) => {
    expect(relErr(normalLogCdf(z), v)).toBeLessThan(1e-14)
  })
})

describe('normalQuantile', () => {
  it.each([
    [1e-300, -37.0470962993612],
    [1e-20, -9.262340089798407],
    [1e-10, -6.361340902404057],
    [1e-6, -4.753424308822899],
    [0.001, -3.0902323061678136],
    [0.01, -2.326347874040841],
    [0.02425, -1.972961051311885],
    [0.025, -1.9599639845400543],
    [0.1, -1.2815515655446004],
    [0.3, -0.5244005127080408],
    [0.8, 0.8416212335729144],
    [0.95, 1.6448536269514722],
    [0.975, 1.9599639845400538],
    [0.99, 2.3263478740408408],
    [0.995, 2.5758293035489004],
  ])('quantile(%f)', (p, v) => {
    // Acklam alone is 1.15e-9 relative; the Halley step brings it to ~1e-15.
    expect(relErr(normalQuantile(p), v)).toBeLessThan(2e-15)
  })

  it('is exact at the center and infinite at the ends', () => {
    expect(normalQuantile(0.5)).toBe(0)
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY)
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY)
    expect(() => normalQuantile(1.2)).toThrow(RangeError)
  })
})

describe('why not simple-statistics for p-values', () => {
  it('its normal CDF is a table that floors at 0.001 and its probit is off in the 3rd decimal', () => {
    // 1 - Φ(4) is 3.17e-5, the table says 0.001; a page at "p < 1e-4" would never fire.
    expect(cumulativeStdNormalProbability(-4)).toBe(0.001)
    expect(normalSf(4)).toBeCloseTo(3.167124183311992e-5, 18)
    // probit(0.975) should be 1.959964 (the 95 % two-sided critical value).
    expect(Math.abs(probit(0.975) - 1.959963984540054)).toBeGreaterThan(2e-3)
    expect(Math.abs(normalQuantile(0.975) - 1.959963984540054)).toBeLessThan(3e-15)
  })
})
