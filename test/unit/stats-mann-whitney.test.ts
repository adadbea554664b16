// Mann-Whitney U (normal approximation, tie and continuity corrections) against
// scipy.stats.mannwhitneyu(candidate, baseline, method='asymptotic', use_continuity=True).
import { describe, expect, it } from 'vitest'
import { mannWhitneyU } from '../../stats/mann-whitney.ts'

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

describe('mannWhitneyU', () => {
  it('matches scipy with many ties (1-5 judge scores)', () => {
    // Scores drawn once with numpy integers(1, 6, 30) and integers(2, 6, 25).
    const baseline = [
      5, 3, 2, 5, 1, 2, 3, 3, 1, 1, 5, 1, 2, 5, 2, 3, 3, 1, 3, 4, 3, 3, 5, 5, 2, 2, 4, 2, 3, 5,
    ]
    const candidate = [2, 5, 4, 3, 4, 5, 3, 3, 2, 4, 5, 4, 3, 3, 3, 2, 2, 4, 5, 3, 4, 5, 2, 2, 2]
    // scipy 1.17.1: U = 439.5; p = 0.26577645286087126 / 0.13288822643043563 / 0.8708102927303136
    const expected = {
      'two-sided': 0.26577645286087126,
      greater: 0.13288822643043563,
      less: 0.8708102927303136,
    }
    for (const alternative of ['two-sided', 'greater', 'less'] as const) {
      const r = mannWhitneyU({ baseline, candidate, alternative })
      expect(r.u).toBe(439.5)
      expect(relErr(r.pValue, expected[alternative])).toBeLessThan(1e-12)
    }
  })

  it('matches scipy on continuous latencies', () => {
    // The Welch test's samples (numpy default_rng(20240501) lognormals, see stats-welch.test.ts).
    const baseline = [
      701.9, 541.8, 975.0, 948.2, 670.6, 768.7, 388.8, 562.1, 872.4, 1015.2, 797.1, 575.7, 694.1, 987.1,
      463.1, 1295.3, 730.1, 579.8, 527.9, 509.3, 1085.5, 465.3, 571.1, 833.3, 492.5, 503.9, 1571.4, 755.0,
      688.9, 1889.6, 1191.8, 1007.5, 1132.0, 1004.0, 843.1, 314.0, 1037.6, 756.7, 1470.5, 1192.4,
    ]
    const candidate = [
      2032.8, 706.9, 1183.0, 1979.9, 494.8, 830.0, 650.4, 1014.1, 857.1, 730.0, 1483.1, 1227.1, 1477.8,
      1336.3, 408.8, 999.8, 590.7, 2299.7, 859.0, 1759.5, 1343.0, 969.4, 401.3, 760.7, 1141.0, 1595.9, 2560.9,
      1194.9, 3154.5, 722.5, 1079.8, 729.1, 594.2, 324.8, 288.9,
    ]
    // scipy 1.17.1: U = 891; p = 0.04306406832551896 / 0.02153203416275948 / 0.9790094751740481
    const expected = {
      'two-sided': 0.04306406832551896,
      greater: 0.02153203416275948,
      less: 0.9790094751740481,
    }
    for (const alternative of ['two-sided', 'greater', 'less'] as const) {
      const r = mannWhitneyU({ baseline, candidate, alternative })
      expect(r.u).toBe(891)
      expect(relErr(r.pValue, expected[alternative])).toBeLessThan(1e-12)
      expect(r.probabilityGreater).toBeCloseTo(891 / (40 * 35), 15)
    }
  })

  it('returns p = 1 when every value is tied', () => {
    expect(mannWhitneyU({ baseline: [3, 3, 3], candidate: [3, 3] }).pValue).toBe(1)
  })
})
