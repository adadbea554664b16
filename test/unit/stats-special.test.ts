// Special functions (log-gamma, log-beta, incomplete gamma and beta, inverse beta) against
// 50-digit mpmath values, and the distributions built on them.
import { describe, expect, it } from 'vitest'
import {
  binomialCdf,
  binomialSfInclusive,
  chiSquareCdf,
  chiSquareSf,
  studentTCdf,
  studentTSf,
} from '../../stats/distributions.ts'
import {
  inverseRegularizedBeta,
  logBeta,
  logChoose,
  logGamma,
  regularizedBeta,
  regularizedGammaP,
  regularizedGammaQ,
} from '../../stats/special.ts'

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

// All references: mpmath 1.3 with mp.dps = 50 (loggamma, log(beta), gammainc(regularized=True),
// betainc(regularized=True), ncdf), rounded to double. Inverse beta: 6 Newton steps in 50-digit
// arithmetic from scipy.special.betaincinv's value.

describe('logGamma / logBeta / logChoose', () => {
  it.each([
    [0.5, 0.5723649429247001],
    [1.5, -0.12078223763524522],
    [3, Math.LN2],
    [10.25, 13.368023671476045],
    [171.5, 709.1431630309282],
    [1e6, 12815504.569147611],
  ])('logGamma(%f)', (x, v) => {
    expect(relErr(logGamma(x), v)).toBeLessThan(5e-15)
  })

  it.each([
    [0.5, 0.5, 1.1447298858494002],
    [1, 1e6, -13.815510557964274],
    [3, 7, -5.529429087511423],
    [9.5, 10.5, -13.709925546998463],
    [2, 50, -7.843848638152472],
    [1e4, 1.02e4, -14003.927503956727],
    // scipy.special.betaln gives -216.58022406697273 here (7e-11 off): the naive ln Γ sum.
    [15, 1e7, -216.58022408163103],
    [0.001, 5, 6.905672657062075],
    [12, 9.99, -15.067836733377124],
  ])('logBeta(%f, %f)', (a, b, v) => {
    expect(relErr(logBeta(a, b), v)).toBeLessThan(5e-15)
  })

  it('logChoose is exact for small n and symmetric', () => {
    expect(Math.exp(logChoose(10, 3))).toBeCloseTo(120, 10)
    expect(logChoose(5, 0)).toBe(0)
    expect(logChoose(5, 6)).toBe(Number.NEGATIVE_INFINITY)
    expect(relErr(logChoose(1e6, 300), logChoose(1e6, 1e6 - 300))).toBeLessThan(1e-14)
  })
})

describe('regularized incomplete gamma', () => {
  it.each([
    [0.5, 0.1, 0.345279153981423, 0.654720846018577],
    [0.5, 50, 1.0, 1.523970604832105e-23],
    [1, 1, 0.6321205588285577, 0.36787944117144233],
    [2.5, 1, 0.15085496391539036, 0.8491450360846097],
    [10, 3, 0.0011024881301154798, 0.9988975118698845],
    [10, 30, 0.9999928782491372, 7.121750862815577e-6],
    [100, 90, 0.15822098918643016, 0.8417790108135699],
    [100, 130, 0.9972495916326934, 0.002750408367306526],
    [1e4, 1.01e4, 0.8413487504471796, 0.15865124955282037],
    [0.1, 5, 0.9998560610341533, 0.000143938965846734],
    [3, 400, 1.0, 1.5398155074540276e-169],
  ])('P/Q(a=%f, x=%f)', (a, x, p, q) => {
    expect(relErr(regularizedGammaP(a, x), p)).toBeLessThan(1e-13)
    // Q deep in the tail keeps relative precision (no 1 - P).
    expect(relErr(regularizedGammaQ(a, x), q)).toBeLessThan(1e-13)
  })
})

describe('regularized incomplete beta and its inverse', () => {
  it.each([
    [0.5, 1, 1, 0.5, 0.5],
    [0.3, 2, 5, 0.5798249999999999, 0.420175],
    [0.01, 0.5, 0.5, 0.06376856085851985, 0.9362314391414801],
    [0.9, 50, 3, 0.09663328513725221, 0.9033667148627478],
    [0.0001, 3, 1e5, 0.9972319660398864, 0.0027680339601136097],
    [0.2, 200, 800, 0.5063088533798631, 0.4936911466201369],
    [0.999, 0.5, 10, 1.0, 1.7627719667501475e-31],
    [0.05, 30, 5, 3.541944385506219e-35, 1.0],
  ])('I_%f(%f, %f)', (x, a, b, lower, upper) => {
    expect(relErr(regularizedBeta(x, a, b), lower)).toBeLessThan(1e-13)
    // b = 1e5 with x above the switch point: the continued fraction runs on the rounded 1 - x,
    // which costs ~1e-12 relative; every other case is at ~1e-15.
    expect(relErr(regularizedBeta(x, a, b, true), upper)).toBeLessThan(5e-12)
  })

  it.each([
    [0.025, 1, 99, 0.00025570273666596153],
    [0.975, 2, 3, 0.8058795503167566],
    [1e-10, 5, 5, 0.0038109291304125187],
    [0.5, 0.5, 0.5, 0.5],
    [0.999, 3, 1e6, 1.1228797970142036e-5],
    [0.025, 1, 1e6, 2.5317807663794178e-8],
    [0.3, 0.2, 7, 0.00024032522824386822],
    [0.9, 1000, 2000, 0.34438611178643086],
    [0.975, 2, 999999, 5.571630655172243e-6],
    [0.01, 40, 2, 0.8487844053823631],
  ])('inverse I^-1(%f; %f, %f)', (p, a, b, x) => {
    expect(relErr(inverseRegularizedBeta(p, a, b), x)).toBeLessThan(2e-11)
  })

  it('inverts itself across a grid, to within a few ulps of the root, near 0 and 1 too', () => {
    // Near 1 the root may not be representable (Beta(0.3, 0.3) at p = 1 - 1e-9 has
    // 1 - x ≈ 1e-30), so check that p is bracketed by I at x ∓ 8 ulps rather than I(x) = p.
    const ulp = (x: number) => Math.max(Math.abs(x) * Number.EPSILON, Number.MIN_VALUE)
    for (const [a, b] of [
      [0.3, 0.3],
      [1, 50],
      [50, 1],
      [7.5, 2.5],
      [400, 9000],
    ] as const) {
      for (const p of [1e-12, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.99, 1 - 1e-9]) {
        const x = inverseRegularizedBeta(p, a, b)
        const below = Math.max(0, x - 8 * ulp(x))
        const above = Math.min(1, x + 8 * ulp(x))
        expect(regularizedBeta(below, a, b)).toBeLessThanOrEqual(p * (1 + 1e-12))
        expect(regularizedBeta(above, a, b)).toBeGreaterThanOrEqual(p * (1 - 1e-12))
      }
    }
    expect(inverseRegularizedBeta(0, 2, 3)).toBe(0)
    expect(inverseRegularizedBeta(1, 2, 3)).toBe(1)
  })

  it('rejects arguments outside the domain', () => {
    expect(() => regularizedBeta(1.5, 1, 1)).toThrow(RangeError)
    expect(() => regularizedGammaP(0, 1)).toThrow(RangeError)
    expect(() => inverseRegularizedBeta(0.5, -1, 1)).toThrow(RangeError)
  })
})

describe('Student t, chi-square and binomial distributions', () => {
  it.each([
    // t, df, P(T > t): mpmath ½ I_{df/(df+t²)}(df/2, ½)
    [0.0001, 5, 0.4999620393310937],
    [1, 1, 0.25],
    [2.5, 3.7, 0.03591101145591338],
    [-1.3, 12.2, 0.8911870347640991],
    [10, 4, 0.00028100181135799556],
    [50, 30, 9.357708829611357e-31],
    [3, 1000, 0.0013833545221190963],
    [0.01, 2, 0.4964645544791005],
  ])('Student t sf(%f; df=%f)', (t, df, v) => {
    expect(relErr(studentTSf(t, df), v)).toBeLessThan(1e-13)
    expect(Math.abs(studentTCdf(t, df) - (1 - v))).toBeLessThan(1e-15)
  })

  it.each([
    // x, k, P(X > x): mpmath gammainc(k/2, x/2, inf, regularized=True)
    [3.841458820694124, 1, 0.05000000000000006],
    [10, 2, 0.006737946999085467],
    [30, 3, 1.3800570312932547e-6],
    [1, 10, 0.9998278843700441],
    [200, 100, 1.1784500720979422e-8],
    [0.01, 1, 0.920344325445942],
  ])('chi-square sf(%f; k=%i)', (x, k, v) => {
    expect(relErr(chiSquareSf(x, k), v)).toBeLessThan(1e-13)
    expect(Math.abs(chiSquareCdf(x, k) - (1 - v))).toBeLessThan(1e-15)
  })

  it.each([
    // k, n, p, P(X <= k), P(X >= k): exact sums of binomial terms in mpmath
    [0, 10, 0.1, 0.3486784401, 1.0],
    [3, 300, 0.01, 0.64723377464254, 0.5779360824602557],
    [10, 300, 0.01, 0.9997351562946678, 0.0010230948508502592],
    [50, 100, 0.5, 0.5397946186935894, 0.5397946186935894],
    [9900, 10000, 0.99, 0.5134992717167584, 0.5265625340581553],
    [120, 10000, 0.01, 0.977885512162539, 0.02759725630206632],
  ])('binomial k=%i n=%i p=%f', (k, n, p, cdf, sf) => {
    expect(relErr(binomialCdf(k, n, p), cdf)).toBeLessThan(1e-12)
    expect(relErr(binomialSfInclusive(k, n, p), sf)).toBeLessThan(1e-12)
  })
})
