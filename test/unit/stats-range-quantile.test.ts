import { describe, expect, it } from 'vitest'
import { createRng } from '../../stats/random.ts'
import { rangeQuantile } from '../../stats/range-quantile.ts'

describe('rangeQuantile (wavelet matrix)', () => {
  it('gives the k-th smallest and the count above a threshold of any range, as sorting the range does', () => {
    const rng = createRng(11)
    // Ties (rounded values) and a non-power-of-two number of distinct values.
    const values = Array.from({ length: 997 }, () => Math.round(rng.uniform() * 300) / 3)
    const rq = rangeQuantile(values)
    for (let i = 0; i < 500; i++) {
      const l = Math.floor(rng.uniform() * values.length)
      const r = l + 1 + Math.floor(rng.uniform() * (values.length - l))
      const slice = values.slice(l, r).sort((a, b) => a - b)
      const k = Math.floor(rng.uniform() * slice.length)
      expect(rq.kth(l, r, k)).toBe(slice[k])
      const t = i % 5 === 0 ? slice[k]! : rng.uniform() * 110 - 5
      expect(rq.countAbove(l, r, t)).toBe(slice.filter((v) => v > t).length)
    }
    expect(rq.countAbove(0, 0, 1)).toBe(0)
    expect(() => rq.kth(3, 3, 0)).toThrow(RangeError)
  })

  it('handles a single distinct value', () => {
    const rq = rangeQuantile([5, 5, 5])
    expect(rq.kth(0, 3, 2)).toBe(5)
    expect(rq.countAbove(0, 3, 4.9)).toBe(3)
    expect(rq.countAbove(0, 3, 5)).toBe(0)
  })
})
