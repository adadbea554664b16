// Sequential tests for continuous monitoring: mixture sequential probability ratio tests
// (mSPRT, Robbins 1970; Johari, Koomen, Pekelis & Walsh 2017, "Peeking at A/B tests: why it
// matters, and what to do about it" / "Always valid inference") giving ALWAYS-VALID p-values.
// driftwatch evaluates every rule every minute on cumulative counts since the change started;
// a fixed-sample test re-run at each look fires on a healthy canary with probability growing
// towards 1 with the number of looks (20-30 % within 60 looks at α = 0.05 in our simulations).
// With an always-valid p-value, P(p_t <= α at ANY look) <= α, however often and long we look.
//
// Every test here is one-sided with the rule's margin inside the null hypothesis:
//   H0: δ <= margin   vs   H1: δ > margin,
// δ = the worsening (candidate - baseline, or rate for a threshold rule). The mixture puts a
// half-normal (or truncated Beta) prior on δ - margin > 0. For any true δ <= margin the
// mixture likelihood ratio Λ_t is a non-negative supermartingale, so by Ville's inequality
// P(sup_t Λ_t >= 1/α) <= α, and p_t = min(1, min_{s<=t} 1/Λ_s) is always valid.
//
// The API is pure and incremental: a look takes the previous SequentialState (a small JSON
// object the caller persists per rule × scope × version) and the cumulative data, and returns
// the next state plus the numbers for the alert payload. Nothing here keeps hidden state.

import { quantileSorted } from 'simple-statistics'
import { normalLogCdf, normalQuantile } from './normal.ts'
import type { ProportionCount } from './proportion-interval.ts'
import { quantileRanks } from './quantile-interval.ts'
import { logBeta, regularizedBeta } from './special.ts'
import type { MeanSummary } from './welch-t-test.ts'

/** Running state of one sequential test. Persist it between looks; start from `initialSequentialState`. */
export interface SequentialState {
  /** Looks taken so far. */
  readonly looks: number
  /** Always-valid p-value for H0: δ <= margin: running minimum of 1/Λ, never increases. */
  readonly pValue: number
  /**
   * Always-valid lower confidence bound for δ at the test's confidence: running maximum;
   * null until a look has produced one (null rather than -Infinity so the state survives JSON).
   */
  readonly lowerBound: number | null
  /** The margin and tau the state was built with; a look with other values is refused. */
  readonly margin: number
  readonly tau: number
}

export function initialSequentialState(options: SequentialOptions): SequentialState {
  const { margin, tau } = resolveOptions(options)
  return { looks: 0, pValue: 1, lowerBound: null, margin, tau }
}

export interface SequentialOptions {
  /** The rule's confidence, e.g. 0.99: fires when the always-valid p-value <= 1 - confidence. */
  readonly confidence: number
  /** H0: δ <= margin, in the metric's units (absolute rate, ms). Default 0. */
  readonly margin?: number
  /**
   * Scale of the prior on δ - margin under H1, in the metric's units: the size of worsening
   * beyond the margin the test is tuned to find. Fixed for the life of a test (changing it
   * mid-run voids the guarantee). Default: the margin when it is > 0; with margin 0 it must be
   * given (see tauForHorizon).
   */
  readonly tau?: number
}

function resolveOptions(options: SequentialOptions): { alpha: number; margin: number; tau: number } {
  const { confidence } = options
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`)
  const margin = options.margin ?? 0
  if (!Number.isFinite(margin)) throw new RangeError(`margin must be finite, got ${margin}`)
  const tau = options.tau ?? (margin > 0 ? margin : Number.NaN)
  if (!(tau > 0 && Number.isFinite(tau))) {
    throw new RangeError(
      `tau must be a positive number in the metric's units (got ${options.tau}); with margin 0 there is no default: pass tau, e.g. tauForHorizon(...)`,
    )
  }
  return { alpha: 1 - confidence, margin, tau }
}

/** An asymptotically normal estimate of δ with its variance, at one look. */
export interface GaussianObservation {
  /** Estimate of δ (the worsening), e.g. candidate rate - baseline rate. */
  readonly estimate: number
  /** Variance of that estimate, e.g. p1(1-p1)/n1 + p2(1-p2)/n2. */
  readonly variance: number
}

/** Result of one look. */
export interface SequentialLook {
  readonly state: SequentialState
  readonly estimate: number
  readonly standardError: number
  readonly margin: number
  /** ln Λ at this look (0 when the look carries no information). */
  readonly logLikelihoodRatio: number
  /** Always-valid p-value (running minimum), = state.pValue. */
  readonly pValue: number
  /** Always-valid lower confidence bound on δ (running maximum); -Infinity while there is none (state.lowerBound null). */
  readonly lowerBound: number
  /** pValue <= 1 - confidence AND the current estimate exceeds the margin. */
  readonly fire: boolean
}

/**
 * ln Λ for the one-sided normal mixture: δ̂ ~ N(δ, s²), prior δ - m ~ half-normal(τ), d = δ̂ - m:
 *   Λ = 2 Φ(d τ / (s √(s² + τ²))) · √(s² / (s² + τ²)) · exp(τ² d² / (2 s² (s² + τ²))).
 * Without the 2Φ(·) factor this is Johari et al.'s two-sided normal mixture in terms of the
 * estimator variance (their n²τ²(x̄ - θ0)²/(2σ²(σ² + nτ²)) with s² = σ²/n).
 */
export function gaussianMixtureLogLR(d: number, variance: number, tau: number): number {
  const s2 = variance
  const t2 = tau * tau
  const z = (d * tau) / Math.sqrt(s2 * (s2 + t2))
  return Math.LN2 + normalLogCdf(z) + 0.5 * Math.log(s2 / (s2 + t2)) + (t2 * d * d) / (2 * s2 * (s2 + t2))
}

/**
 * The d* > 0 at which the one-sided mixture crosses 1/α for a given variance: the estimate
 * must exceed margin + d* to reject. d* depends only on s, τ and α, which makes the
 * always-valid lower bound simply δ̂ - d*.
 */
export function gaussianMixtureBoundary(variance: number, tau: number, alpha: number): number {
  const target = -Math.log(alpha)
  const s = Math.sqrt(variance)
  let lo = 0
  let hi = s * Math.max(4, normalQuantile(1 - alpha))
  while (gaussianMixtureLogLR(hi, variance, tau) < target) {
    lo = hi
    hi *= 2
  }
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2
    if (gaussianMixtureLogLR(mid, variance, tau) < target) lo = mid
    else hi = mid
  }
  return hi
}

/**
 * A τ that makes the test sharpest when the estimate's standard error reaches
 * `standardErrorAtHorizon` (e.g. at the planned sample size): τ = s_H · √ρ*, with ρ* = τ²/s²
 * minimizing the rejection boundary d* / s at level α. Use it when the margin is 0.
 */
export function tauForHorizon(standardErrorAtHorizon: number, confidence: number): number {
  if (!(standardErrorAtHorizon > 0))
    throw new RangeError(`standardErrorAtHorizon must be > 0, got ${standardErrorAtHorizon}`)
  const alpha = 1 - confidence
  const boundaryAt = (logRho: number): number => gaussianMixtureBoundary(1, Math.exp(logRho / 2), alpha)
  // Golden-section search on ln ρ in [-5, 12]; the boundary is smooth and unimodal in ln ρ.
  let a = -5
  let b = 12
  const g = (Math.sqrt(5) - 1) / 2
  for (let i = 0; i < 80; i++) {
    const c = b - g * (b - a)
    const d = a + g * (b - a)
    if (boundaryAt(c) < boundaryAt(d)) b = d
    else a = c
  }
  const rho = Math.exp((a + b) / 2)
  return standardErrorAtHorizon * Math.sqrt(rho)
}

function advance(
  state: SequentialState,
  options: SequentialOptions,
  estimate: number,
  standardError: number,
  logLR: number,
  lowerBoundNow: number | null,
): SequentialLook {
  const { alpha, margin, tau } = resolveOptions(options)
  if (state.margin !== margin || state.tau !== tau) {
    throw new RangeError(
      `sequential state was built with margin ${state.margin} and tau ${state.tau} but this look uses margin ${margin} and tau ${tau}; start a new state when a rule changes`,
    )
  }
  const pNow = Math.min(1, Math.exp(-logLR))
  const pValue = Math.min(state.pValue, pNow)
  const lowerBound =
    state.lowerBound === null
      ? lowerBoundNow
      : lowerBoundNow === null
        ? state.lowerBound
        : Math.max(state.lowerBound, lowerBoundNow)
  const next: SequentialState = { looks: state.looks + 1, pValue, lowerBound, margin, tau }
  return {
    state: next,
    estimate,
    standardError,
    margin,
    logLikelihoodRatio: logLR,
    pValue,
    lowerBound: lowerBound ?? Number.NEGATIVE_INFINITY,
    fire: pValue <= alpha && estimate > margin,
  }
}

/** One look of the Gaussian mSPRT on any asymptotically normal estimate of δ. */
export function gaussianMsprtStep(
  state: SequentialState,
  observation: GaussianObservation,
  options: SequentialOptions,
): SequentialLook {
  const { alpha, margin, tau } = resolveOptions(options)
  const { estimate, variance } = observation
  if (!Number.isFinite(estimate)) throw new RangeError(`estimate must be finite, got ${estimate}`)
  if (!(variance >= 0) || !Number.isFinite(variance))
    throw new RangeError(`variance must be finite and >= 0, got ${variance}`)
  if (variance === 0) {
    // No spread, no information about uncertainty: the look leaves the evidence unchanged
    // rather than claiming infinite certainty from degenerate data.
    return advance(state, options, estimate, 0, 0, null)
  }
  const logLR = gaussianMixtureLogLR(estimate - margin, variance, tau)
  const lowerNow = estimate - gaussianMixtureBoundary(variance, tau, alpha)
  return advance(state, options, estimate, Math.sqrt(variance), logLR, lowerNow)
}

/** Which direction of change is a regression: up (latency, refusals) or down (helpfulness). */
export type Worse = 'higher' | 'lower'

/**
 * δ̂ = candidate rate - baseline rate (negated when lower is worse), variance from the
 * unpooled rates smoothed as (x + 1)/(n + 2) so that a window with zero events still has a
 * variance (the raw plug-in would claim certainty at x = 0 and fire on the first event).
 */
export function proportionDifferenceObservation(
  baseline: ProportionCount,
  candidate: ProportionCount,
  worse: Worse = 'higher',
): GaussianObservation {
  for (const c of [baseline, candidate]) {
    if (!(c.n >= 1) || !(c.x >= 0 && c.x <= c.n))
      throw new RangeError(`counts must satisfy 0 <= x <= n, n >= 1; got x=${c.x} n=${c.n}`)
  }
  const p1 = baseline.x / baseline.n
  const p2 = candidate.x / candidate.n
  const q1 = (baseline.x + 1) / (baseline.n + 2)
  const q2 = (candidate.x + 1) / (candidate.n + 2)
  const variance = (q1 * (1 - q1)) / baseline.n + (q2 * (1 - q2)) / candidate.n
  return { estimate: worse === 'higher' ? p2 - p1 : p1 - p2, variance }
}

/** δ̂ = candidate mean - baseline mean (negated when lower is worse), variance v1/n1 + v2/n2. */
export function meanDifferenceObservation(
  baseline: MeanSummary,
  candidate: MeanSummary,
  worse: Worse = 'higher',
): GaussianObservation {
  for (const s of [baseline, candidate]) {
    if (!(s.n >= 2) || !(s.variance >= 0))
      throw new RangeError(`summaries need n >= 2 and variance >= 0; got n=${s.n} variance=${s.variance}`)
  }
  const d = candidate.mean - baseline.mean
  return {
    estimate: worse === 'higher' ? d : -d,
    variance: baseline.variance / baseline.n + candidate.variance / candidate.n,
  }
}

/**
 * δ̂ = candidate p-quantile - baseline p-quantile (sorted samples), with each quantile's
 * standard error taken from its distribution-free order-statistic interval at ±1 sd
 * (half the width of the 68.27 % interval; Conover §3.2, the "binomial section" estimator).
 * Asymptotic: quantile estimates are approximately normal with independent increments
 * (Bahadur representation), so the Gaussian mixture applies once each group has enough
 * observations above the quantile (p99: thousands).
 */
export function quantileDifferenceObservation(
  baselineSorted: readonly number[],
  candidateSorted: readonly number[],
  p: number,
  worse: Worse = 'higher',
): GaussianObservation {
  const oneSd = 0.6826894921370859 // P(|Z| <= 1)
  const part = (sorted: readonly number[]): { q: number; variance: number } => {
    const n = sorted.length
    const { lowerRank, upperRank } = quantileRanks(n, p, { confidence: oneSd })
    if (lowerRank === null || upperRank === null) {
      throw new RangeError(`${n} observations cannot bound the ${p} quantile; wait for more data`)
    }
    const q = quantileSorted(sorted as number[], p)
    const half = ((sorted[upperRank - 1] as number) - (sorted[lowerRank - 1] as number)) / 2
    return { q, variance: half * half }
  }
  const b = part(baselineSorted)
  const c = part(candidateSorted)
  const d = c.q - b.q
  return { estimate: worse === 'higher' ? d : -d, variance: b.variance + c.variance }
}

/** Starting state for rateThresholdMsprtStep (margin = threshold, tau as resolved there). */
export function initialRateThresholdState(options: RateThresholdOptions): SequentialState {
  return initialSequentialState({
    confidence: options.confidence,
    margin: options.threshold,
    tau: options.tau ?? options.threshold,
  })
}

export interface RateThresholdOptions {
  /** The rule's confidence, e.g. 0.99. */
  readonly confidence: number
  /** H0: rate <= threshold (the rule's `above:` value). */
  readonly threshold: number
  /**
   * Prior for the rate under H1: a Beta with mean threshold + tau and standard deviation tau,
   * truncated to (threshold, 1). Default tau = threshold ("tuned to a doubling").
   */
  readonly tau?: number
}

/** The Beta(a, b) prior (before truncation) used by rateThresholdMsprtStep. */
export function rateThresholdPrior(threshold: number, tau: number = threshold): { a: number; b: number } {
  const mean = Math.min(threshold + tau, (1 + threshold) / 2)
  // Beta moments: var = μ(1-μ)/(k+1) → k = μ(1-μ)/τ² - 1, kept >= 2 so the prior is proper and unimodal-ish.
  const k = Math.max(2, (mean * (1 - mean)) / (tau * tau) - 1)
  return { a: mean * k, b: (1 - mean) * k }
}

/**
 * One look of an EXACT mSPRT for one rate against a fixed threshold p0 (rules like
 * `above: 0.01`): Bernoulli likelihood, prior Beta(a, b) truncated to (p0, 1):
 *   Λ_n = B(a + x, b + n - x) · (1 - I_{p0}(a + x, b + n - x))
 *         / [B(a, b) · (1 - I_{p0}(a, b)) · p0^x (1 - p0)^(n - x)].
 * No normal approximation, so it is valid from the first interaction, which matters for rare
 * events (1 % hallucinations) where the Gaussian version would need large n. The lower
 * bound stays null (the rule compares the rate with the threshold directly).
 */
export function rateThresholdMsprtStep(
  state: SequentialState,
  count: ProportionCount,
  options: RateThresholdOptions,
): SequentialLook {
  const { threshold: p0 } = options
  if (!(p0 > 0 && p0 < 1)) throw new RangeError(`threshold must be a rate in (0, 1), got ${p0}`)
  const tau = options.tau ?? p0
  const { x, n } = count
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(x) || x < 0 || x > n) {
    throw new RangeError(`counts must be integers with 0 <= x <= n; got x=${x} n=${n}`)
  }
  const { a, b } = rateThresholdPrior(p0, tau)
  const posteriorTail = regularizedBeta(p0, a + x, b + n - x, true)
  const priorTail = regularizedBeta(p0, a, b, true)
  const logLR =
    posteriorTail > 0
      ? logBeta(a + x, b + n - x) +
        Math.log(posteriorTail) -
        logBeta(a, b) -
        Math.log(priorTail) -
        x * Math.log(p0) -
        (n - x) * Math.log1p(-p0)
      : Number.NEGATIVE_INFINITY
  const rate = n > 0 ? x / n : 0
  const standardError = n > 0 ? Math.sqrt((p0 * (1 - p0)) / n) : Number.POSITIVE_INFINITY
  return advance(state, { confidence: options.confidence, margin: p0, tau }, rate, standardError, logLR, null)
}
