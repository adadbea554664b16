// The seeded PRNG: same seed → same stream; uniform, normal and binomial draws have the right
// moments; the binomial sampler matches the exact pmf (chi-square goodness of fit).
import { describe, expect, it } from 'vitest'
import { binomialLogPmf, chiSquareSf } from '../../stats/distributions.ts'
import { createRng, mulberry32 } from '../../stats/random.ts'

describe('mulberry32 / createRng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const c = mulberry32(43)
    const sa = Array.from({ length: 5 }, a)
    expect(Array.from({ length: 5 }, b)).toEqual(sa)
    expect(Array.from({ length: 5 }, c)).not.toEqual(sa)
    for (const u of sa) expect(u >= 0 && u < 1).toBe(true)
  })

  it('matches the reference mulberry32 stream', () => {
    // First outputs of the canonical mulberry32 (bryc/code, PRNGs.md) for seed 1, × 2^32,
    // computed with that reference implementation in Node.
    const next = mulberry32(1)
    expect(Math.round(next() * 4294967296)).toBe(2693262067)
    expect(Math.round(next() * 4294967296)).toBe(11749833)
  })

  it('uniform, normal, lognormal and exponential draws have the expected moments', () => {
    const rng = createRng(7)
    const n = 200_000
    let su = 0
    let sn = 0
    let snn = 0
    let se = 0
    for (let i = 0; i < n; i++) {
      su += rng.uniform()
      const z = rng.normal(10, 2)
      sn += z
      snn += z * z
      se += rng.exponential(4)
    }
    expect(su / n).toBeCloseTo(0.5, 2)
    const mean = sn / n
    expect(mean).toBeCloseTo(10, 1)
    expect(Math.sqrt(snn / n - mean * mean)).toBeCloseTo(2, 1)
    expect(se / n).toBeCloseTo(0.25, 2)
    const ln = Array.from({ length: 20_001 }, () => rng.logNormal(Math.log(800), 0.5)).sort((x, y) => x - y)
    expect(ln[10_000]! / 800).toBeCloseTo(1, 1) // median of a lognormal is exp(mu)
  })

  it('binomial draws follow the exact binomial pmf (small, rare, p > 0.5 and split-large n)', () => {
    const rng = createRng(11)
    for (const [n, p] of [
      [20, 0.3],
      [250, 0.01],
      [40, 0.9],
    ] as const) {
      const draws = 40_000
      const counts = new Map<number, number>()
      for (let i = 0; i < draws; i++) {
        const k = rng.binomial(n, p)
        expect(Number.isInteger(k) && k >= 0 && k <= n).toBe(true)
        counts.set(k, (counts.get(k) ?? 0) + 1)
      }
      // Pearson chi-square over cells with expected count >= 5, the rest pooled into one cell.
      let chi = 0
      let cells = 0
      let pooledObserved = draws
      let pooledExpected = draws
      for (let k = 0; k <= n; k++) {
        const e = draws * Math.exp(binomialLogPmf(k, n, p))
        if (e < 5) continue
        const o = counts.get(k) ?? 0
        chi += ((o - e) * (o - e)) / e
        cells++
        pooledObserved -= o
        pooledExpected -= e
      }
      if (pooledExpected > 1) {
        chi += ((pooledObserved - pooledExpected) * (pooledObserved - pooledExpected)) / pooledExpected
        cells++
      }
      expect(chiSquareSf(chi, cells - 1)).toBeGreaterThan(0.001)
    }
    // Large n·p takes the split path; check mean and variance.
    let s = 0
    let ss = 0
    const m = 2000
    for (let i = 0; i < m; i++) {
      const k = rng.binomial(20_000, 0.3)
      s += k
      ss += k * k
    }
    const mean = s / m
    expect(Math.abs(mean - 6000)).toBeLessThan(5 * Math.sqrt(4200 / m))
    expect((ss / m - mean * mean) / 4200).toBeCloseTo(1, 0)
  })

  it('rejects invalid binomial parameters and handles the edges', () => {
    const rng = createRng(1)
    expect(() => rng.binomial(-1, 0.5)).toThrow(RangeError)
    expect(() => rng.binomial(10, 1.5)).toThrow(RangeError)
    expect(rng.binomial(0, 0.5)).toBe(0)
    expect(rng.binomial(10, 0)).toBe(0)
    expect(rng.binomial(10, 1)).toBe(10)
  })
})
