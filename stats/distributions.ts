// Reference distributions for driftwatch's tests, built on the incomplete gamma and beta in
// special.ts: Student t (Welch), chi-square (sample ratio mismatch), binomial (exact rate
// tests, order-statistic intervals) and hypergeometric (Fisher's exact test).
// Upper tails are computed directly, never as 1 - CDF, so small p-values keep their digits.

import { logChoose, regularizedBeta, regularizedGammaP, regularizedGammaQ } from './special.ts'

/** P(T <= t) for Student's t with df > 0 degrees of freedom (df may be fractional, as in Welch). */
export function studentTCdf(t: number, df: number): number {
  return studentTSf(-t, df)
}

/** P(T > t) for Student's t with df > 0 degrees of freedom. */
export function studentTSf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTSf needs df > 0, got ${df}`)
  if (Number.isNaN(t)) return Number.NaN
  if (t === Number.POSITIVE_INFINITY) return 0
  if (t === Number.NEGATIVE_INFINITY) return 1
  // P(|T| > |t|) = I_x(df/2, 1/2) with x = df/(df+t²). For small |t| that x is a rounded
  // number next to 1, so use the complementary form 1 - I_y(1/2, df/2), y = t²/(df+t²), whose
  // argument keeps full precision.
  const t2 = t * t
  const x = df / (df + t2)
  const twoSided =
    x <= 0.5 ? regularizedBeta(x, df / 2, 0.5) : regularizedBeta(t2 / (df + t2), 0.5, df / 2, true)
  return t > 0 ? 0.5 * twoSided : 1 - 0.5 * twoSided
}

/** P(X <= x) for a chi-square with k > 0 degrees of freedom. */
export function chiSquareCdf(x: number, k: number): number {
  if (x <= 0) return 0
  return regularizedGammaP(k / 2, x / 2)
}

/** P(X > x) for a chi-square with k > 0 degrees of freedom (the goodness-of-fit p-value). */
export function chiSquareSf(x: number, k: number): number {
  if (x <= 0) return 1
  return regularizedGammaQ(k / 2, x / 2)
}

function checkBinomial(n: number, p: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial needs an integer n >= 0, got ${n}`)
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial needs 0 <= p <= 1, got ${p}`)
}

/** ln P(X = k) for X ~ Binomial(n, p). */
export function binomialLogPmf(k: number, n: number, p: number): number {
  checkBinomial(n, p)
  if (!Number.isInteger(k) || k < 0 || k > n) return Number.NEGATIVE_INFINITY
  if (p === 0) return k === 0 ? 0 : Number.NEGATIVE_INFINITY
  if (p === 1) return k === n ? 0 : Number.NEGATIVE_INFINITY
  return logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p)
}

/** P(X <= k) for X ~ Binomial(n, p), via P(X <= k) = I_{1-p}(n - k, k + 1). */
export function binomialCdf(k: number, n: number, p: number): number {
  checkBinomial(n, p)
  const kk = Math.floor(k)
  if (kk < 0) return 0
  if (kk >= n) return 1
  if (p === 0) return 1
  if (p === 1) return 0
  return regularizedBeta(p, kk + 1, n - kk, true)
}

/** P(X >= k) for X ~ Binomial(n, p), via P(X >= k) = I_p(k, n - k + 1). */
export function binomialSfInclusive(k: number, n: number, p: number): number {
  checkBinomial(n, p)
  const kk = Math.ceil(k)
  if (kk <= 0) return 1
  if (kk > n) return 0
  if (p === 0) return 0
  if (p === 1) return 1
  return regularizedBeta(p, kk, n - kk + 1)
}

/**
 * ln P(X = k) for the hypergeometric X = successes in `draws` draws without replacement from a
 * population of `total` items of which `successes` are successes.
 */
export function hypergeometricLogPmf(k: number, total: number, successes: number, draws: number): number {
  if (k < Math.max(0, draws - (total - successes)) || k > Math.min(successes, draws))
    return Number.NEGATIVE_INFINITY
  return logChoose(successes, k) + logChoose(total - successes, draws - k) - logChoose(total, draws)
}
