// Wilson and Clopper-Pearson intervals against statsmodels, plus a coverage check.
import { describe, expect, it } from 'vitest'
import { clopperPearsonInterval, wilsonInterval } from '../../stats/proportion-interval.ts'
import { createRng } from '../../stats/random.ts'

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

// statsmodels 0.15.0 proportion_confint(x, n, alpha, method='wilson' | 'beta'); a one-sided
// 99 % bound equals the corresponding end of the two-sided 98 % interval (alpha = 0.02).
const cases: [number, number, [number, number], [number, number], [number, number], [number, number]][] = [
  // x, n, wilson 95, beta 95, wilson 98, beta 98
  [
    0,
    50,
    [0.0, 0.07134759913335874],
    [0.0, 0.07112173646419767],
    [0.0, 0.0976666559882379],
    [0.0, 0.08798916064409025],
  ],
  [
    3,
    300,
    [0.0034066184377152826, 0.028983493362339838],
    [0.0020670072350923163, 0.02894451125569261],
    [0.002845534617107768, 0.03452005146235167],
    [0.0014572881867993492, 0.03309274220691033],
  ],
  [
    17,
    1000,
    [0.01064068985681633, 0.027055958840229932],
    [0.009933512592716534, 0.027079496864851366],
    [0.009765714434774541, 0.029434035090127254],
    [0.00892638837589177, 0.02912922472764841],
  ],
  [
    500,
    1000,
    [0.4690696003681042, 0.5309303996318958],
    [0.46854917297179194, 0.5314508270282081],
    [0.4633163405474072, 0.5366836594525928],
    [0.46277806676099753, 0.5372219332390025],
  ],
  [
    99,
    100,
    [0.9455138038212946, 0.9982325679358593],
    [0.9455406146079194, 0.9997468539670226],
    [0.9310624706844355, 0.9986238851954301],
    [0.9354572679514184, 0.9998995016917583],
  ],
  [
    1,
    1_000_000,
    [1.7652457674537176e-7, 5.664911804311445e-6],
    [2.5317807663794178e-8, 5.571630655166941e-6],
    [1.374678948637129e-7, 7.274386424017515e-6],
    [1.0050335802996816e-8, 6.638333353341805e-6],
  ],
  [
    12,
    25,
    [0.30031285954112963, 0.6650148304964323],
    [0.27796800966994656, 0.6869429555429677],
    [0.2727753131654316, 0.6943428154908722],
    [0.24786248088238133, 0.7185920578458239],
  ],
]

describe('wilsonInterval / clopperPearsonInterval', () => {
  it.each(cases)('x=%i n=%i matches statsmodels', (x, n, w95, b95, w98, b98) => {
    const close = (a: number, b: number, tol: number) =>
      b === 0 ? expect(a).toBe(0) : expect(relErr(a, b)).toBeLessThan(tol)
    const w = wilsonInterval({ x, n })
    close(w.lower, w95[0], 1e-13)
    close(w.upper, w95[1], 1e-13)
    // Clopper-Pearson goes through the inverse incomplete beta; statsmodels (scipy's
    // betaincinv) itself is only good to ~1e-11 at n = 1e6.
    const b = clopperPearsonInterval({ x, n })
    close(b.lower, b95[0], 5e-11)
    close(b.upper, b95[1], 5e-11)
    close(wilsonInterval({ x, n }, { confidence: 0.99, sides: 'lower' }).lower, w98[0], 1e-13)
    close(wilsonInterval({ x, n }, { confidence: 0.99, sides: 'upper' }).upper, w98[1], 1e-13)
    close(clopperPearsonInterval({ x, n }, { confidence: 0.99, sides: 'lower' }).lower, b98[0], 5e-11)
    close(clopperPearsonInterval({ x, n }, { confidence: 0.99, sides: 'upper' }).upper, b98[1], 5e-11)
  })

  it('one-sided intervals are open on the other side', () => {
    const lower = clopperPearsonInterval({ x: 3, n: 300 }, { confidence: 0.99, sides: 'lower' })
    expect(lower.upper).toBe(1)
    expect(lower.sides).toBe('lower')
    const upper = wilsonInterval({ x: 3, n: 300 }, { confidence: 0.99, sides: 'upper' })
    expect(upper.lower).toBe(0)
  })

  it('Clopper-Pearson covers at least the nominal level; Wilson close to it (simulation)', () => {
    // 4,000 seeded binomial draws at a rare rate, the regime of `above: 0.01` rules.
    const rng = createRng(2024)
    const p = 0.01
    const n = 400
    let cp = 0
    let wi = 0
    const draws = 4000
    for (let i = 0; i < draws; i++) {
      const x = rng.binomial(n, p)
      const b = clopperPearsonInterval({ x, n })
      const w = wilsonInterval({ x, n })
      if (b.lower <= p && p <= b.upper) cp++
      if (w.lower <= p && p <= w.upper) wi++
    }
    expect(cp / draws).toBeGreaterThanOrEqual(0.95 - 0.01)
    expect(wi / draws).toBeGreaterThan(0.92)
  })

  it('rejects impossible counts', () => {
    expect(() => wilsonInterval({ x: 4, n: 3 })).toThrow(RangeError)
    expect(() => clopperPearsonInterval({ x: 1, n: 0 })).toThrow(RangeError)
    expect(() => wilsonInterval({ x: 1, n: 10 }, { confidence: 1 })).toThrow(RangeError)
  })
})
