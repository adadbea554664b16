// The mSPRT building blocks: closed-form mixture likelihood ratios against numerical
// integration, the running state (non-increasing p, non-decreasing bound), firing semantics
// and input checks. The false-alarm and power simulations are in stats-msprt-simulation.test.ts.
import { describe, expect, it } from 'vitest'
import {
  gaussianMixtureBoundary,
  gaussianMixtureLogLR,
  gaussianMsprtStep,
  initialRateThresholdState,
  initialSequentialState,
  meanDifferenceObservation,
  proportionDifferenceObservation,
  quantileDifferenceObservation,
  rateThresholdMsprtStep,
  tauForHorizon,
} from '../../stats/msprt.ts'
import { normalCdf } from '../../stats/normal.ts'

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

describe('gaussianMixtureLogLR', () => {
  // ln ∫_0^∞ exp(u d/s² - u²/(2 s²)) · 2 φ(u/τ)/τ du by mpmath quad (50 digits): the one-sided
  // (half-normal prior) mixture of normal likelihood ratios, integrated numerically.
  it.each([
    [0.01, 1e-5, 0.01, 4.038368848282875],
    [-0.01, 1e-5, 0.01, -2.617797233154299],
    [0, 4e-6, 0.01, -1.629048269010741],
    [250, 900, 200, 32.74306543372227],
    [30, 900, 200, -0.9020589681361618],
    [2.5, 1, 0.5, 1.0652695969425694],
    [-3, 1, 3, -2.5214327798097624],
  ])('d=%f s²=%f τ=%f matches numerical integration', (d, s2, tau, v) => {
    expect(relErr(gaussianMixtureLogLR(d, s2, tau), v)).toBeLessThan(1e-13)
  })

  it('equals the two-sided Johari et al. mixture times 2Φ(·)', () => {
    // Johari et al.: Λ = sqrt(σ²/(σ² + nτ²)) exp(n²τ²(x̄ - θ0)² / (2σ²(σ² + nτ²))).
    const sigma2 = 4
    const n = 500
    const tau = 0.1
    const diff = 0.12
    const twoSided =
      0.5 * Math.log(sigma2 / (sigma2 + n * tau * tau)) +
      (n * n * tau * tau * diff * diff) / (2 * sigma2 * (sigma2 + n * tau * tau))
    const s2 = sigma2 / n
    const factor = Math.log(2 * normalCdf((diff * tau) / Math.sqrt(s2 * (s2 + tau * tau))))
    expect(gaussianMixtureLogLR(diff, s2, tau)).toBeCloseTo(twoSided + factor, 12)
  })

  it('the boundary d* is where Λ crosses 1/α, and tauForHorizon minimizes it', () => {
    const dStar = gaussianMixtureBoundary(2.5, 3, 0.01)
    expect(gaussianMixtureLogLR(dStar, 2.5, 3)).toBeCloseTo(Math.log(100), 9)
    const tau = tauForHorizon(1, 0.95)
    const best = gaussianMixtureBoundary(1, tau, 0.05)
    for (const other of [tau / 2, tau * 2])
      expect(gaussianMixtureBoundary(1, other, 0.05)).toBeGreaterThan(best)
    // Peeking costs: at its best the always-valid boundary is ~1.7 z-units above the fixed
    // one-sided z of 1.645 (2.77 standard errors at α = 0.05).
    expect(best).toBeGreaterThan(2.7)
    expect(best).toBeLessThan(2.85)
  })
})

describe('gaussianMsprtStep', () => {
  const options = { confidence: 0.95, margin: 0.01 }

  it('keeps a non-increasing p-value and a non-decreasing lower bound across looks', () => {
    let state = initialSequentialState(options)
    expect(state).toEqual({ looks: 0, pValue: 1, lowerBound: null, margin: 0.01, tau: 0.01 })
    const looks = [
      { estimate: 0.03, variance: 1e-4 },
      { estimate: 0.035, variance: 4e-5 },
      { estimate: 0.02, variance: 2e-5 }, // worse evidence: p must not go back up
      { estimate: 0.03, variance: 1e-5 },
    ]
    let previousP = 1
    let previousBound = Number.NEGATIVE_INFINITY
    for (const obs of looks) {
      // Persisted and reloaded between looks, as the rule engine does.
      const look = gaussianMsprtStep(JSON.parse(JSON.stringify(state)), obs, options)
      expect(look.pValue).toBeLessThanOrEqual(previousP)
      expect(look.lowerBound).toBeGreaterThanOrEqual(previousBound)
      expect(look.lowerBound).toBe(look.state.lowerBound)
      expect(look.pValue).toBe(Math.min(previousP, Math.min(1, Math.exp(-look.logLikelihoodRatio))))
      previousP = look.pValue
      previousBound = look.lowerBound
      state = look.state
    }
    expect(state.looks).toBe(4)
    expect(JSON.parse(JSON.stringify(state))).toEqual(state)
  })

  it('fires only when p <= 1 - confidence and the estimate exceeds the margin; bound > margin agrees', () => {
    const state = initialSequentialState(options)
    const strong = gaussianMsprtStep(state, { estimate: 0.05, variance: 1e-5 }, options)
    expect(strong.pValue).toBeLessThan(0.05)
    expect(strong.lowerBound).toBeGreaterThan(0.01)
    expect(strong.fire).toBe(true)
    // Evidence already banked, but the current estimate is back under the margin: no fire.
    const dropped = gaussianMsprtStep(strong.state, { estimate: 0.005, variance: 1e-5 }, options)
    expect(dropped.pValue).toBe(strong.pValue)
    expect(dropped.fire).toBe(false)
    const weak = gaussianMsprtStep(state, { estimate: 0.015, variance: 1e-4 }, options)
    expect(weak.fire).toBe(false)
    expect(weak.lowerBound).toBeLessThan(0.01)
  })

  it('a degenerate look (zero variance) leaves the evidence unchanged', () => {
    const state = initialSequentialState(options)
    const look = gaussianMsprtStep(state, { estimate: 1, variance: 0 }, options)
    expect(look.pValue).toBe(1)
    expect(look.lowerBound).toBe(Number.NEGATIVE_INFINITY)
    expect(look.state.lowerBound).toBeNull() // null, not -Infinity, so the state survives JSON
    expect(look.fire).toBe(false)
  })

  it('refuses a look whose margin or tau differ from the state (the guarantee would be void)', () => {
    const state = initialSequentialState(options)
    expect(() =>
      gaussianMsprtStep(state, { estimate: 0, variance: 1 }, { confidence: 0.95, margin: 0.02 }),
    ).toThrow(/start a new state/)
  })

  it('needs tau when the margin is 0', () => {
    expect(() => initialSequentialState({ confidence: 0.95 })).toThrow(/tauForHorizon/)
    expect(initialSequentialState({ confidence: 0.95, tau: 0.02 }).tau).toBe(0.02)
  })
})

describe('observations', () => {
  it('proportion difference: estimate p2 - p1, smoothed variance, sign flip when lower is worse', () => {
    const o = proportionDifferenceObservation({ x: 10, n: 1000 }, { x: 30, n: 1000 })
    expect(o.estimate).toBeCloseTo(0.02, 15)
    const q1 = 11 / 1002
    const q2 = 31 / 1002
    expect(o.variance).toBeCloseTo((q1 * (1 - q1)) / 1000 + (q2 * (1 - q2)) / 1000, 18)
    expect(proportionDifferenceObservation({ x: 0, n: 300 }, { x: 0, n: 300 }).variance).toBeGreaterThan(0)
    expect(
      proportionDifferenceObservation({ x: 10, n: 1000 }, { x: 30, n: 1000 }, 'lower').estimate,
    ).toBeCloseTo(-0.02, 15)
  })

  it('mean difference: m2 - m1 and v1/n1 + v2/n2', () => {
    const o = meanDifferenceObservation(
      { n: 100, mean: 800, variance: 250_000 },
      { n: 200, mean: 1000, variance: 360_000 },
    )
    expect(o).toEqual({ estimate: 200, variance: 2500 + 1800 })
  })

  it('quantile difference: order-statistic standard errors, refuses samples too small', () => {
    const base = Array.from({ length: 2000 }, (_, i) => i + 1)
    const cand = base.map((v) => v + 100)
    const o = quantileDifferenceObservation(base, cand, 0.99)
    expect(o.estimate).toBeCloseTo(100, 9)
    // ±1 sd ranks for n = 2000, p = 0.99 are 1976 and 1985 (see stats-quantile.test.ts): half-width 4.5.
    expect(o.variance).toBeCloseTo(2 * 4.5 * 4.5, 12)
    expect(() => quantileDifferenceObservation(base.slice(0, 50), cand.slice(0, 50), 0.99)).toThrow(
      /wait for more data/,
    )
  })
})

describe('rateThresholdMsprtStep (exact Beta mixture)', () => {
  // ln of ∫_{p0}^1 (p/p0)^x ((1-p)/(1-p0))^(n-x) Beta(p; a, b) dp / ∫_{p0}^1 Beta(p; a, b) dp,
  // mpmath quad at 50 digits, with (a, b) from mean p0 + τ and sd τ as in rateThresholdPrior.
  it.each([
    [3, 300, 0.01, 0.01, -0.8351448670684483],
    [9, 300, 0.01, 0.01, 3.2517330882528297],
    [0, 500, 0.01, 0.01, -2.377569759658652],
    [60, 3000, 0.01, 0.01, 10.478374506476223],
    [30, 3000, 0.01, 0.01, -2.1430732204552005],
    [25, 400, 0.05, 0.02, 0.0651749567208546],
  ])('x=%i n=%i threshold=%f τ=%f matches numerical integration', (x, n, threshold, tau, v) => {
    const options = { confidence: 0.95, threshold, tau }
    const look = rateThresholdMsprtStep(initialRateThresholdState(options), { x, n }, options)
    expect(Math.abs(look.logLikelihoodRatio - v)).toBeLessThan(1e-11)
  })

  it('fires on a hallucination rate clearly above 1 % and not on one at 1 %', () => {
    const options = { confidence: 0.99, threshold: 0.01 }
    const high = rateThresholdMsprtStep(initialRateThresholdState(options), { x: 60, n: 3000 }, options)
    expect(high.fire).toBe(true)
    expect(high.pValue).toBeLessThan(0.01)
    const atThreshold = rateThresholdMsprtStep(
      initialRateThresholdState(options),
      { x: 30, n: 3000 },
      options,
    )
    expect(atThreshold.fire).toBe(false)
  })
})
