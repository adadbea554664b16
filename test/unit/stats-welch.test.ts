// Welch's t test against scipy.stats.ttest_ind(candidate, baseline, equal_var=False).
import { describe, expect, it } from 'vitest'
import type { Alternative } from '../../stats/interval.ts'
import { summarize, welchTTest } from '../../stats/welch-t-test.ts'

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

// Latencies drawn once with numpy (default_rng(20240501), lognormal(log 800, 0.4) × 40 and
// lognormal(log 900, 0.6) × 35, rounded to 0.1 ms) and pasted here.
const baseline = [
  701.9, 541.8, 975.0, 948.2, 670.6, 768.7, 388.8, 562.1, 872.4, 1015.2, 797.1, 575.7, 694.1, 987.1, 463.1,
  1295.3, 730.1, 579.8, 527.9, 509.3, 1085.5, 465.3, 571.1, 833.3, 492.5, 503.9, 1571.4, 755.0, 688.9, 1889.6,
  1191.8, 1007.5, 1132.0, 1004.0, 843.1, 314.0, 1037.6, 756.7, 1470.5, 1192.4,
]
const candidate = [
  2032.8, 706.9, 1183.0, 1979.9, 494.8, 830.0, 650.4, 1014.1, 857.1, 730.0, 1483.1, 1227.1, 1477.8, 1336.3,
  408.8, 999.8, 590.7, 2299.7, 859.0, 1759.5, 1343.0, 969.4, 401.3, 760.7, 1141.0, 1595.9, 2560.9, 1194.9,
  3154.5, 722.5, 1079.8, 729.1, 594.2, 324.8, 288.9,
]

describe('welchTTest', () => {
  it('matches scipy on raw samples (t, Welch-Satterthwaite df, p for each alternative)', () => {
    // scipy 1.17.1 ttest_ind(candidate, baseline, equal_var=False, alternative=...):
    // t = 2.4384908273218047, df = 49.40510198386944,
    // p = 0.018388493630916537 (two-sided), 0.009194246815458268 (greater), 0.9908057531845418 (less).
    const expected: Record<Alternative, number> = {
      'two-sided': 0.018388493630916537,
      greater: 0.009194246815458268,
      less: 0.9908057531845418,
    }
    for (const alternative of ['two-sided', 'greater', 'less'] as const) {
      const r = welchTTest({ baseline: summarize(baseline), candidate: summarize(candidate), alternative })
      expect(relErr(r.t, 2.4384908273218047)).toBeLessThan(1e-12)
      expect(relErr(r.df, 49.40510198386944)).toBeLessThan(1e-12)
      expect(relErr(r.pValue, expected[alternative])).toBeLessThan(1e-12)
    }
  })

  it('matches scipy from summary statistics (as ClickHouse count/avg/varSamp return them)', () => {
    // scipy 1.17.1 ttest_ind_from_stats(m2, sqrt(v2), n2, m1, sqrt(v1), n1, equal_var=False, alternative=...)
    const cases: [number, number, number, number, number, number, number, number, number, number][] = [
      // m1, v1, n1, m2, v2, n2, t, p two-sided, p greater, p less
      [
        800,
        250000,
        5000,
        815,
        300000,
        4800,
        Math.SQRT2,
        0.1573315310582153,
        0.07866576552910765,
        0.9213342344708924,
      ],
      [
        3.9, 0.8, 30, 3.6, 1.5, 12, -0.7703288865196428, 0.45238611513803223, 0.7738069424309839,
        0.22619305756901611,
      ],
    ]
    for (const [m1, v1, n1, m2, v2, n2, t, p2, pg, pl] of cases) {
      const input = {
        baseline: { n: n1, mean: m1, variance: v1 },
        candidate: { n: n2, mean: m2, variance: v2 },
      }
      expect(relErr(welchTTest(input).t, t)).toBeLessThan(1e-12)
      expect(relErr(welchTTest(input).pValue, p2)).toBeLessThan(1e-10)
      expect(relErr(welchTTest({ ...input, alternative: 'greater' }).pValue, pg)).toBeLessThan(1e-10)
      expect(relErr(welchTTest({ ...input, alternative: 'less' }).pValue, pl)).toBeLessThan(1e-10)
    }
  })

  it('handles constant groups without dividing by zero', () => {
    const same = { n: 10, mean: 5, variance: 0 }
    expect(welchTTest({ baseline: same, candidate: same }).pValue).toBe(1)
    const r = welchTTest({ baseline: same, candidate: { ...same, mean: 6 }, alternative: 'greater' })
    expect(r.pValue).toBe(0)
  })

  it('rejects groups too small for a variance', () => {
    expect(() =>
      welchTTest({ baseline: { n: 1, mean: 1, variance: 0 }, candidate: { n: 5, mean: 1, variance: 1 } }),
    ).toThrow(RangeError)
  })
})
