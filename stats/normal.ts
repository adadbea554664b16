// The standard normal distribution to full double precision: CDF, survival function, log-CDF
// and quantile. Every z-test, Wilson interval, sample-size plan and mSPRT in driftwatch uses it.
//
// Why not simple-statistics: its `cumulativeStdNormalProbability` is a 4-decimal table that
// floors at 0.001 (so every z > 3.1 gets p = 0.001), its `errorFunction` is a Chebyshev fit
// with 1.2e-7 relative error and its `probit` is off in the third decimal (probit(0.975) =
// 1.9572 instead of 1.95996). Pages and rollbacks hang on p-values around 1e-3..1e-6, so:
//   - tails come from erfc(x) = Q(1/2, x²) (regularized upper incomplete gamma, special.ts),
//     which keeps relative precision far out (Φ(-20) ≈ 2.75e-89 is exact to ~1e-14);
//   - the quantile is Acklam's rational approximation (relative error 1.15e-9) polished by one
//     Halley step against that precise CDF, which brings it to ~1e-15.

import { regularizedGammaP, regularizedGammaQ } from './special.ts'

/** erfc(x) = 1 - erf(x), accurate in the far tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN
  if (x >= 0) return regularizedGammaQ(0.5, x * x)
  return 1 + regularizedGammaP(0.5, x * x)
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  if (z === Number.NEGATIVE_INFINITY) return 0
  if (z === Number.POSITIVE_INFINITY) return 1
  return 0.5 * erfc(-z / Math.SQRT2)
}

/** Standard normal survival function 1 - Φ(z), computed without cancellation. */
export function normalSf(z: number): number {
  return normalCdf(-z)
}

/** ln Φ(z); stays finite far below z = -38 where Φ(z) underflows to 0. */
export function normalLogCdf(z: number): number {
  // Φ(-37) ≈ 5.7e-300 is still a normal double computed to full relative precision.
  if (z > -37) return Math.log(normalCdf(z))
  // Asymptotic series of the Mills ratio: Φ(z) = φ(z)/|z| · Σ (-1)^k (2k-1)!! / z^(2k); at
  // |z| >= 37 the terms fall below 1e-17 by k = 6.
  const r = 1 / (z * z)
  const series = 1 + r * (-1 + r * (3 + r * (-15 + r * (105 + r * (-945 + r * 10395)))))
  return -0.5 * z * z - Math.log(-z) - 0.5 * Math.log(2 * Math.PI) + Math.log(series)
}

/** Standard normal density φ(z). */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)
}

// Acklam's coefficients (P. J. Acklam, "An algorithm for computing the inverse normal
// cumulative distribution function", 2003).
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
]
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
]
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
]
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
const P_LOW = 0.02425

function acklam(p: number): number {
  const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number]
  const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number]
  const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number]
  const [d0, d1, d2, d3] = D as [number, number, number, number]
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    )
  }
  if (p <= 1 - P_LOW) {
    const q = p - 0.5
    const r = q * q
    return (
      ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
      (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
    )
  }
  const q = Math.sqrt(-2 * Math.log1p(-p))
  return (
    -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
  )
}

/** Standard normal quantile Φ⁻¹(p), 0 <= p <= 1 (±Infinity at the ends). */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile needs 0 <= p <= 1, got ${p}`)
  if (p === 0) return Number.NEGATIVE_INFINITY
  if (p === 1) return Number.POSITIVE_INFINITY
  // Polish in the tail that holds p's precision: upper-tail inputs are reflected so that
  // normalQuantile(1 - 1e-12) is computed from 1e-12 rather than from a rounded 1 - p.
  if (p > 0.5) return -normalQuantile(1 - p)
  const x = acklam(p)
  // One Halley step (Acklam's refinement): e = Φ(x) - p, u = e·√(2π)·exp(x²/2).
  const e = normalCdf(x) - p
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2)
  return x - u / (1 + (x * u) / 2)
}
