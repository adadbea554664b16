// Special functions behind every p-value in driftwatch: log-gamma, the regularized incomplete
// gamma P/Q (chi-square, Poisson, normal tails) and the regularized incomplete beta I_x(a, b)
// with its inverse (Student t, binomial, Clopper-Pearson). Pure numerics, no I/O.
//
// Why our own: simple-statistics has a precise `gammaln` (Lanczos, ~1e-15 relative; reused
// here) but no incomplete gamma/beta, and its normal/chi-square helpers are printed tables.
// The algorithms are the classic ones (Numerical Recipes 3rd ed. §6.2 and §6.4, series plus a
// continued fraction evaluated with the modified Lentz method), written so tails are computed
// directly (Q, 1 - I) instead of as 1 - P, which would lose every digit below ~1e-16.

import { gammaln } from 'simple-statistics'

const EPS = 1e-16
// Lentz needs a tiny number to replace exact zeros in the recurrences (NR's FPMIN).
const TINY = 1e-300

/** ln Γ(x) for x > 0 (simple-statistics' Lanczos approximation, relative error ~1e-15). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`)
  // gammaln(1) and gammaln(2) come out as -2.2e-16; exact zeros keep log-factorials exact.
  if (x === 1 || x === 2) return 0
  return gammaln(x)
}

// Stirling remainder ln Γ(x) - [(x - ½) ln x - x + ½ ln 2π] for x >= 10, from the asymptotic
// series with Bernoulli numbers (terms up to x⁻¹⁵ reach 1e-17 at x = 10).
function stirlingCorrection(x: number): number {
  const r = 1 / x
  const r2 = r * r
  return (
    r *
    (1 / 12 +
      r2 *
        (-1 / 360 +
          r2 *
            (1 / 1260 +
              r2 *
                (-1 / 1680 +
                  r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156 + r2 * (-3617 / 122400))))))))
  )
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI)

/**
 * ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b). The naive sum cancels catastrophically when
 * one argument is large (b = 1e6: three terms of 1e7 leave ~2e-9 relative error in every
 * binomial tail for n = 1e6), so large arguments use Stirling's series with the big
 * logarithms combined analytically (the approach of R's lbeta, Morris 1992 / TOMS 708).
 */
export function logBeta(a: number, b: number): number {
  const p = Math.min(a, b)
  const q = Math.max(a, b)
  if (!(p > 0)) throw new RangeError(`logBeta needs a, b > 0, got a=${a} b=${b}`)
  if (p >= 10) {
    const corr = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p + q)
    return (
      LOG_SQRT_2PI -
      0.5 * Math.log(q) +
      corr +
      (p - 0.5) * Math.log(p / (p + q)) +
      q * Math.log1p(-p / (p + q))
    )
  }
  if (q >= 10) {
    const corr = stirlingCorrection(q) - stirlingCorrection(p + q)
    return logGamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q))
  }
  return logGamma(p) + logGamma(q) - logGamma(p + q)
}

/** ln C(n, k) for real n >= k >= 0 (used for binomial and hypergeometric masses). */
export function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY
  if (k === 0 || k === n) return 0
  // Via ln B rather than three ln Γ of size n ln n, which cancel to ~1e-10 for n = 1e5.
  return -Math.log(n + 1) - logBeta(k + 1, n - k + 1)
}

/** log(exp(a) + exp(b)) without overflow or underflow. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b
  if (b === Number.NEGATIVE_INFINITY) return a
  const m = Math.max(a, b)
  return m + Math.log1p(Math.exp(-Math.abs(a - b)))
}

function maxIterations(scale: number): number {
  // Both the series and the continued fractions need O(sqrt(max parameter)) terms; counts in
  // driftwatch reach 1e7+, so the cap grows with the parameters instead of being a constant.
  return 1000 + Math.ceil(20 * Math.sqrt(scale))
}

// ln of x^a e^-x / Γ(a): the common prefactor of both gamma expansions. For a >= 10 the
// terms a ln x, x and ln Γ(a) are each ~a ln a and cancel (1e-11 lost at a = 1e4); rewriting
// with Stirling's series leaves only -a (t - ln(1 + t)), t = (x - a)/a, which does not cancel.
function logGammaPrefactor(a: number, x: number): number {
  if (a < 10) return a * Math.log(x) - x - logGamma(a)
  const t = (x - a) / a
  return -a * (t - Math.log1p(t)) + 0.5 * Math.log(a) - LOG_SQRT_2PI - stirlingCorrection(a)
}

// Series for P(a, x), good for x < a + 1 (NR gser).
function gammaPSeries(a: number, x: number): number {
  let ap = a
  let term = 1 / a
  let sum = term
  const limit = maxIterations(a + x)
  for (let i = 0; i < limit; i++) {
    ap += 1
    term *= x / ap
    sum += term
    if (Math.abs(term) < Math.abs(sum) * EPS) break
  }
  return sum * Math.exp(logGammaPrefactor(a, x))
}

// Continued fraction for Q(a, x), good for x >= a + 1 (NR gcf, modified Lentz).
function gammaQContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  const limit = maxIterations(a + x)
  for (let i = 1; i <= limit; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < TINY) d = TINY
    c = b + an / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return Math.exp(logGammaPrefactor(a, x)) * h
}

/** Regularized lower incomplete gamma P(a, x) = γ(a, x) / Γ(a), a > 0, x >= 0. */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0))
    throw new RangeError(`regularizedGammaP needs a > 0 and x >= 0, got a=${a} x=${x}`)
  if (x === 0) return 0
  if (x === Number.POSITIVE_INFINITY) return 1
  return x < a + 1 ? gammaPSeries(a, x) : 1 - gammaQContinuedFraction(a, x)
}

/** Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x), accurate deep in the tail. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0))
    throw new RangeError(`regularizedGammaQ needs a > 0 and x >= 0, got a=${a} x=${x}`)
  if (x === 0) return 1
  if (x === Number.POSITIVE_INFINITY) return 0
  return x < a + 1 ? 1 - gammaPSeries(a, x) : gammaQContinuedFraction(a, x)
}

// Continued fraction for I_x(a, b) (NR betacf, modified Lentz); converges fast for
// x < (a + 1) / (a + b + 2).
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  if (Math.abs(d) < TINY) d = TINY
  d = 1 / d
  let h = d
  const limit = maxIterations(Math.max(a, b))
  for (let m = 1; m <= limit; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return h
}

// ln of x^a (1-x)^b / (a B(a, b)), the prefactor of the beta continued fraction, from the
// logarithms of x and 1 - x computed once from the caller's x: after the symmetry swap the
// rounded 1 - x would otherwise be raised to a power of 1e6 (1e-10 relative error).
function logBetaPrefactor(a: number, b: number, logX: number, log1mX: number): number {
  return a * logX + b * log1mX - logBeta(a, b) - Math.log(a)
}

/**
 * Regularized incomplete beta I_x(a, b) (the Beta(a, b) CDF at x), a, b > 0, 0 <= x <= 1.
 * With `upper: true` returns 1 - I_x(a, b) computed directly (no cancellation in the tail).
 */
export function regularizedBeta(x: number, a: number, b: number, upper = false): number {
  if (!(a > 0) || !(b > 0)) throw new RangeError(`regularizedBeta needs a, b > 0, got a=${a} b=${b}`)
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedBeta needs 0 <= x <= 1, got ${x}`)
  if (x === 0) return upper ? 1 : 0
  if (x === 1) return upper ? 0 : 1
  // Use the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) so the fraction is always in its fast region,
  // and return whichever side was asked for without subtracting from 1 when avoidable.
  const logX = Math.log(x)
  const log1mX = Math.log1p(-x)
  if (x < (a + 1) / (a + b + 2)) {
    const lower = Math.exp(logBetaPrefactor(a, b, logX, log1mX)) * betaContinuedFraction(a, b, x)
    return upper ? 1 - lower : lower
  }
  const tail = Math.exp(logBetaPrefactor(b, a, log1mX, logX)) * betaContinuedFraction(b, a, 1 - x)
  return upper ? tail : 1 - tail
}

// Initial guess for the inverse (NR invbetai, after Abramowitz & Stegun 26.5.22 / 26.2.23).
function inverseBetaGuess(p: number, a: number, b: number): number {
  if (a >= 1 && b >= 1) {
    const pp = p < 0.5 ? p : 1 - p
    const t = Math.sqrt(-2 * Math.log(pp))
    let z = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t
    if (p < 0.5) z = -z
    const al = (z * z - 3) / 6
    const h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1))
    const w = (z * Math.sqrt(al + h)) / h - (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (al + 5 / 6 - 2 / (3 * h))
    return a / (a + b * Math.exp(2 * w))
  }
  const lna = Math.log(a / (a + b))
  const lnb = Math.log(b / (a + b))
  const t = Math.exp(a * lna) / a
  const u = Math.exp(b * lnb) / b
  const w = t + u
  return p < t / w ? (a * w * p) ** (1 / a) : 1 - (b * w * (1 - p)) ** (1 / b)
}

/**
 * Inverse of the regularized incomplete beta: the x in [0, 1] with I_x(a, b) = p.
 * Newton steps on the log-density, kept inside a shrinking bisection bracket so it never
 * diverges. The root is solved for in whichever of x and 1 - x is small (by symmetry
 * I_x(a, b) = 1 - I_{1-x}(b, a)), so a Clopper-Pearson bound of 1e-7 keeps its relative
 * precision instead of being 1 minus a number next to 1.
 */
export function inverseRegularizedBeta(p: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new RangeError(`inverseRegularizedBeta needs a, b > 0, got a=${a} b=${b}`)
  if (!(p >= 0 && p <= 1)) throw new RangeError(`inverseRegularizedBeta needs 0 <= p <= 1, got ${p}`)
  if (p === 0) return 0
  if (p === 1) return 1
  const guess = inverseBetaGuess(p, a, b)
  // I_x(a, b) = p  <=>  I_{1-x}(b, a) = 1 - p: the flipped problem's upper-tail target is p
  // itself, passed through exactly rather than as 1 - (1 - p).
  if (guess > 0.5) return 1 - solveBeta(1 - p, p, b, a, 1 - guess)
  return solveBeta(p, 1 - p, a, b, guess)
}

// Root of I_x(a, b) = lowerTarget (= 1 - upperTarget) for a root expected in [0, 0.5]. The
// residual is formed from the tail that is small at the target (I against lowerTarget, or
// 1 - I against upperTarget) so it keeps its relative precision, and the bracket gives
// relative precision in x.
function solveBeta(lowerTarget: number, upperTarget: number, a: number, b: number, guess: number): number {
  const logB = logBeta(a, b)
  const residual = (x: number): number =>
    lowerTarget <= upperTarget
      ? regularizedBeta(x, a, b) - lowerTarget
      : upperTarget - regularizedBeta(x, a, b, true)
  let lo = 0
  let hi = 1
  let x = guess > 0 && guess < 1 ? guess : 0.5
  for (let i = 0; i < 400; i++) {
    const f = residual(x)
    if (f === 0) return x
    if (f < 0) lo = x
    else hi = x
    // Beta(a, b) density at x in log space, so large a, b do not overflow.
    const logPdf = (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logB
    let next = x - f / Math.exp(logPdf)
    if (!(next > lo && next < hi) || !Number.isFinite(next)) {
      // Newton left the bracket: bisect, geometrically when the bracket spans decades near 0.
      next = lo > 0 && hi / lo > 1e3 ? Math.sqrt(lo * hi) : lo === 0 && hi < 1e-3 ? hi / 1e3 : (lo + hi) / 2
    }
    if (Math.abs(next - x) <= 4e-16 * next || hi - lo <= 4e-16 * hi) return next
    x = next
  }
  return x
}
