// Cohen's kappa and weighted kappa against answers worked out by hand.
import { describe, expect, it } from 'vitest'
import { cohensKappa, describeKappa } from '../../review/kappa.ts'

const repeat = (pair: [number, number], n: number) => Array.from({ length: n }, () => pair)

describe("Cohen's kappa", () => {
  it('matches the textbook example: 50 items, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → 0.4', () => {
    // p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4
    const pairs = [...repeat([1, 1], 20), ...repeat([1, 0], 5), ...repeat([0, 1], 10), ...repeat([0, 0], 15)]
    const k = cohensKappa(pairs, [0, 1])
    expect(k.n).toBe(50)
    expect(k.observed).toBeCloseTo(0.7, 12)
    expect(k.expected).toBeCloseTo(0.5, 12)
    expect(k.kappa).toBeCloseTo(0.4, 12)
  })

  it('is 1 for perfect agreement, 0 at chance, negative below it', () => {
    expect(
      cohensKappa(
        [
          [0, 0],
          [1, 1],
          [0, 0],
          [1, 1],
        ],
        [0, 1],
      ).kappa,
    ).toBeCloseTo(1, 12)
    expect(
      cohensKappa(
        [
          [0, 0],
          [0, 1],
          [1, 0],
          [1, 1],
        ],
        [0, 1],
      ).kappa,
    ).toBeCloseTo(0, 12)
    expect(
      cohensKappa(
        [
          [0, 1],
          [1, 0],
        ],
        [0, 1],
      ).kappa,
    ).toBeCloseTo(-1, 12)
  })

  it('weights near misses on an ordinal scale (worked example: 0.25 plain, 0.4 linear, 4/7 quadratic)', () => {
    // rows (model) 2,2,2; columns (human) 1,3,2; three exact agreements, three misses by one.
    const pairs: [number, number][] = [
      [1, 1],
      [2, 2],
      [3, 3],
      [1, 2],
      [2, 3],
      [3, 2],
    ]
    expect(cohensKappa(pairs, [1, 2, 3]).kappa).toBeCloseTo(0.25, 12)
    expect(cohensKappa(pairs, [1, 2, 3], 'linear').kappa).toBeCloseTo(0.4, 12)
    expect(cohensKappa(pairs, [1, 2, 3], 'quadratic').kappa).toBeCloseTo(4 / 7, 12)
  })

  it('is undefined (null) with no items or when both raters always gave the same single category', () => {
    expect(cohensKappa([], [0, 1]).kappa).toBeNull()
    expect(cohensKappa(repeat([1, 1], 10), [0, 1]).kappa).toBeNull()
    expect(describeKappa(null)).toMatch(/undefined/)
  })

  it('rejects a value outside the scale', () => {
    expect(() => cohensKappa([[0, 7]], [0, 1])).toThrow(RangeError)
  })

  it('describes strength in Landis & Koch terms', () => {
    expect([-0.1, 0.1, 0.3, 0.5, 0.7, 0.9].map(describeKappa)).toEqual([
      'worse than chance',
      'slight',
      'fair',
      'moderate',
      'substantial',
      'almost perfect',
    ])
  })
})
