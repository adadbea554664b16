// Fixed-sample tests of rates: pooled two-proportion z test, Fisher's exact test and the exact
// one-sided binomial test, against scipy / statsmodels.
import { describe, expect, it } from 'vitest'
import { binomialTest } from '../../stats/binomial-test.ts'
import { fisherExactTest } from '../../stats/fisher-exact.ts'
import type { Alternative } from '../../stats/interval.ts'
import { twoProportionZTest } from '../../stats/two-proportion-z-test.ts'

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

describe('twoProportionZTest', () => {
  // statsmodels 0.15.0: proportions_ztest([x2, x1], [n2, n1], alternative=...) with
  // 'larger'/'smaller' for 'greater'/'less' (pooled variance is its default).
  const cases: [number, number, number, number, number, number, number, number][] = [
    // x1, n1, x2, n2, z, p two-sided, p greater, p less
    [50, 1000, 70, 1000, 1.883108942886774, 0.059685605532426224, 0.029842802766213112, 0.9701571972337869],
    [3, 300, 9, 320, 1.637069298520345, 0.10161599068725945, 0.050807995343629724, 0.9491920046563703],
    [400, 5000, 380, 5000, -0.7457911643079289, 0.4557935782390994, 0.7721032108804503, 0.2278967891195497],
    [
      1200, 20000, 1300, 20000, 2.065591117977291, 0.03886710381241703, 0.019433551906208515,
      0.9805664480937915,
    ],
  ]
  it.each(cases)('x1=%i n1=%i x2=%i n2=%i matches statsmodels', (x1, n1, x2, n2, z, p2, pg, pl) => {
    const run = (alternative: Alternative) =>
      twoProportionZTest({ baseline: { x: x1, n: n1 }, candidate: { x: x2, n: n2 }, alternative })
    expect(relErr(run('two-sided').z, z)).toBeLessThan(1e-12)
    expect(relErr(run('two-sided').pValue, p2)).toBeLessThan(1e-12)
    expect(relErr(run('greater').pValue, pg)).toBeLessThan(1e-12)
    expect(relErr(run('less').pValue, pl)).toBeLessThan(1e-12)
    expect(run('greater').difference).toBeCloseTo(x2 / n2 - x1 / n1, 15)
  })

  it('gives p = 1 when no events were seen at all', () => {
    const r = twoProportionZTest({
      baseline: { x: 0, n: 100 },
      candidate: { x: 0, n: 100 },
      alternative: 'greater',
    })
    expect(r.pValue).toBe(1)
    expect(r.z).toBe(0)
  })

  it('keeps tiny p-values (no 0.001 floor as with a table)', () => {
    const r = twoProportionZTest({
      baseline: { x: 100, n: 10000 },
      candidate: { x: 300, n: 10000 },
      alternative: 'greater',
    })
    expect(r.pValue).toBeGreaterThan(0)
    expect(r.pValue).toBeLessThan(1e-20)
  })

  it('rejects impossible counts', () => {
    expect(() => twoProportionZTest({ baseline: { x: 5, n: 3 }, candidate: { x: 0, n: 3 } })).toThrow(
      RangeError,
    )
  })
})

describe('fisherExactTest', () => {
  // p-values: exact rational arithmetic in Python (fractions.Fraction over math.comb, summing
  // hypergeometric masses; two-sided = tables with mass <= observed × (1 + 1e-7), scipy's rule),
  // rounded to double. scipy 1.17.1 fisher_exact([[x2, n2 - x2], [x1, n1 - x1]]) agrees to
  // 1e-11 and gives the odds ratios.
  const cases: [number, number, number, number, number, number, number, number][] = [
    // x1, n1, x2, n2, odds ratio, p two-sided, p greater, p less
    [1, 1000, 8, 1000, 8.056451612903226, 0.038641154951822444, 0.019320577475911222, 0.9980818642057542],
    [0, 500, 4, 480, Number.POSITIVE_INFINITY, 0.0571848307994926, 0.0571848307994926, 1.0],
    [30, 10000, 45, 10000, 1.502260170768458, 0.10469011276183422, 0.05234505638091711, 0.9682732954712352],
    [12, 40, 5, 38, 0.35353535353535354, 0.10050248794538737, 0.9822276633600105, 0.0624801443044406],
    [2, 100000, 9, 100000, 4.500315028352552, 0.06542243655969789, 0.03271121827984894, 0.9941416991757803],
    [7, 20, 7, 20, 1.0, 1.0, 0.6294731884275822, 0.6294731884275822],
  ]
  it.each(cases)('x1=%i n1=%i x2=%i n2=%i matches exact arithmetic', (x1, n1, x2, n2, odds, p2, pg, pl) => {
    const run = (alternative: Alternative) =>
      fisherExactTest({ baseline: { x: x1, n: n1 }, candidate: { x: x2, n: n2 }, alternative })
    // Log-space masses carry ~1e-11 relative error at n = 1e5 (ln C(2e5, 1e5) ≈ 1.4e5).
    expect(relErr(run('two-sided').pValue, p2)).toBeLessThan(1e-10)
    expect(relErr(run('greater').pValue, pg)).toBeLessThan(1e-10)
    expect(relErr(run('less').pValue, pl)).toBeLessThan(1e-10)
    expect(run('greater').oddsRatio).toBeCloseTo(odds, 10)
  })

  it('handles millions of interactions without overflow', () => {
    const r = fisherExactTest({
      baseline: { x: 1000, n: 2_000_000 },
      candidate: { x: 1300, n: 2_000_000 },
      alternative: 'greater',
    })
    expect(r.pValue).toBeGreaterThan(1e-12)
    expect(r.pValue).toBeLessThan(1e-8)
  })
})

describe('binomialTest', () => {
  // scipy 1.17.1: binomtest(x, n, p0, alternative=...).pvalue
  const cases: [number, number, number, number, number][] = [
    // x, n, p0, p greater, p less
    [7, 300, 0.01, 0.032750946402779035, 0.9885259213651223],
    [3, 300, 0.01, 0.577936082460257, 0.6472337746425397],
    [0, 300, 0.01, 1.0, 0.049040894071285854],
    [25, 1000, 0.015, 0.01060899405204981, 0.9941838681536027],
    [130, 10000, 0.01, 0.002175091348918592, 0.9983781815542435],
  ]
  it.each(cases)('x=%i n=%i p0=%f matches scipy', (x, n, p0, pg, pl) => {
    expect(relErr(binomialTest({ x, n, p0 }).pValue, pg)).toBeLessThan(1e-10)
    expect(relErr(binomialTest({ x, n, p0, alternative: 'less' }).pValue, pl)).toBeLessThan(1e-10)
  })
})
