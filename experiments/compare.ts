// One comparison of an A/B experiment: a metric in one segment x modality, control against
// treatment, with the fixed-sample test that fits the metric's kind and, for guardrails, the
// always-valid sequential test that may stop an experiment early. Pure: no I/O, no clock.
//
// Tests per kind:
//  - mean (judge 1-5 scores, cost, tokens): Welch's t test, CI diff ± t_{df} · se;
//  - rate: two-proportion z test, or Fisher's exact test when an expected cell count is
//    below 5 (rare events: unsafe answers); CI by the unpooled normal approximation;
//  - quantile (p95 / p99 latency): exceedance test — the share of each arm above the pooled
//    p-quantile compared by the same rate test (under H0 both arms share it) — and the
//    distribution-free order-statistic bound on the difference of the two quantiles as CI.

import { quantileSorted } from 'simple-statistics'
import type { MetricDefinition } from '../metrics/registry.ts'
import {
  type Alternative,
  fisherExactTest,
  type GaussianObservation,
  gaussianMsprtStep,
  initialSequentialState,
  type MeanSummary,
  meanDifferenceObservation,
  normalQuantile,
  type ProportionCount,
  proportionDifferenceObservation,
  quantileDifferenceBound,
  quantileDifferenceObservation,
  studentTCdf,
  tauForHorizon,
  twoProportionZTest,
  welchTTest,
} from '../stats/index.ts'

/** What one arm contributes to one comparison, as the store measured it. */
export type ArmSample =
  | { readonly kind: 'rate'; readonly n: number; readonly x: number }
  | { readonly kind: 'mean'; readonly n: number; readonly mean: number; readonly variance: number }
  /** Quantiles need the values: sorted ascending. */
  | { readonly kind: 'quantile'; readonly n: number; readonly sorted: readonly number[] }

export type TestName = 'welch' | 'two_proportion_z' | 'fisher_exact' | 'quantile_exceedance' | 'none'

export interface FixedTest {
  readonly test: TestName
  /** Treatment minus control. */
  readonly diff: number
  readonly ciLow: number
  readonly ciHigh: number
  /** Two-sided p-value. */
  readonly pTwoSided: number
  /** One-sided p-value for "treatment is worse" (the metric's worse direction). */
  readonly pWorse: number
  /** One-sided p-value for "treatment is better". */
  readonly pBetter: number
}

export function armValue(s: ArmSample, metric: MetricDefinition): number {
  if (s.kind === 'rate') return s.n > 0 ? s.x / s.n : Number.NaN
  if (s.kind === 'mean') return s.n > 0 ? s.mean : Number.NaN
  return s.n > 0 ? quantileSorted(s.sorted as number[], (metric as { p: number }).p) : Number.NaN
}

/** Enough data for the fixed test of this kind? */
export function testable(c: ArmSample, t: ArmSample, metric: MetricDefinition): boolean {
  if (c.kind === 'rate') return c.n >= 1 && t.n >= 1
  if (c.kind === 'mean') return c.n >= 2 && t.n >= 2
  // The exceedance test needs values above the quantile in both arms: n (1 - p) >= 5 each.
  const p = (metric as { p: number }).p
  return c.n * (1 - p) >= 5 && t.n * (1 - p) >= 5
}

/** Student t quantile by bisection on the CDF (df fractional, from Welch-Satterthwaite). */
export function studentTQuantile(prob: number, df: number): number {
  if (!(prob > 0 && prob < 1)) throw new RangeError(`prob must be in (0, 1), got ${prob}`)
  if (df > 1e7) return normalQuantile(prob)
  let lo = -1
  let hi = 1
  while (studentTCdf(lo, df) > prob) lo *= 2
  while (studentTCdf(hi, df) < prob) hi *= 2
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2
    if (studentTCdf(mid, df) < prob) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

function orient(
  pGreater: number,
  pLess: number,
  metric: MetricDefinition,
): { pWorse: number; pBetter: number } {
  return metric.worse === 'higher'
    ? { pWorse: pGreater, pBetter: pLess }
    : { pWorse: pLess, pBetter: pGreater }
}

function rateTest(
  control: ProportionCount,
  treatment: ProportionCount,
): { test: TestName; p: (alt: Alternative) => number } {
  const pooled = (control.x + treatment.x) / (control.n + treatment.n)
  const minExpected = Math.min(control.n, treatment.n) * Math.min(pooled, 1 - pooled)
  if (minExpected < 5) {
    return {
      test: 'fisher_exact',
      p: (alternative) => fisherExactTest({ baseline: control, candidate: treatment, alternative }).pValue,
    }
  }
  return {
    test: 'two_proportion_z',
    p: (alternative) => twoProportionZTest({ baseline: control, candidate: treatment, alternative }).pValue,
  }
}

/** The fixed-sample test for one comparison; the CI is two-sided at `confidence`. */
export function fixedTest(
  metric: MetricDefinition,
  control: ArmSample,
  treatment: ArmSample,
  confidence: number,
): FixedTest {
  const z = normalQuantile(1 - (1 - confidence) / 2)
  if (control.kind === 'mean' && treatment.kind === 'mean') {
    const b: MeanSummary = control
    const c: MeanSummary = treatment
    const two = welchTTest({ baseline: b, candidate: c })
    const greater = welchTTest({ baseline: b, candidate: c, alternative: 'greater' }).pValue
    const less = welchTTest({ baseline: b, candidate: c, alternative: 'less' }).pValue
    const half =
      two.standardError === 0 ? 0 : studentTQuantile(1 - (1 - confidence) / 2, two.df) * two.standardError
    return {
      test: 'welch',
      diff: two.difference,
      ciLow: two.difference - half,
      ciHigh: two.difference + half,
      pTwoSided: two.pValue,
      ...orient(greater, less, metric),
    }
  }
  if (control.kind === 'rate' && treatment.kind === 'rate') {
    const { test, p } = rateTest(control, treatment)
    const p1 = control.x / control.n
    const p2 = treatment.x / treatment.n
    const diff = p2 - p1
    const se = Math.sqrt((p1 * (1 - p1)) / control.n + (p2 * (1 - p2)) / treatment.n)
    return {
      test,
      diff,
      ciLow: diff - z * se,
      ciHigh: diff + z * se,
      pTwoSided: p('two-sided'),
      ...orient(p('greater'), p('less'), metric),
    }
  }
  if (control.kind === 'quantile' && treatment.kind === 'quantile') {
    const q = (metric as { p: number }).p
    const merged = [...control.sorted, ...treatment.sorted].sort((a, b) => a - b)
    const threshold = quantileSorted(merged, q)
    const above = (sorted: readonly number[]) => sorted.length - upperBoundIndex(sorted, threshold)
    const c: ProportionCount = { n: control.n, x: above(control.sorted) }
    const t: ProportionCount = { n: treatment.n, x: above(treatment.sorted) }
    const { p } = rateTest(c, t)
    const bound = quantileDifferenceBound(control.sorted, treatment.sorted, q, { confidence })
    return {
      test: 'quantile_exceedance',
      diff: bound.estimate,
      ciLow: bound.lower,
      ciHigh: bound.upper,
      pTwoSided: p('two-sided'),
      // More of the treatment above the pooled quantile = a higher treatment quantile.
      ...orient(p('greater'), p('less'), metric),
    }
  }
  throw new RangeError(`control and treatment samples of ${metric.name} are of different kinds`)
}

/** Index of the first element > x in an ascending array. */
function upperBoundIndex(sorted: readonly number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((sorted[mid] as number) <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The estimate of the worsening (in the metric's worse direction) with its variance. */
export function worseningObservation(
  metric: MetricDefinition,
  control: ArmSample,
  treatment: ArmSample,
): GaussianObservation {
  if (control.kind === 'mean' && treatment.kind === 'mean')
    return meanDifferenceObservation(control, treatment, metric.worse)
  if (control.kind === 'rate' && treatment.kind === 'rate')
    return proportionDifferenceObservation(control, treatment, metric.worse)
  if (control.kind === 'quantile' && treatment.kind === 'quantile')
    return quantileDifferenceObservation(
      control.sorted,
      treatment.sorted,
      (metric as { p: number }).p,
      metric.worse,
    )
  throw new RangeError(`control and treatment samples of ${metric.name} are of different kinds`)
}

/**
 * Always-valid p-value (Gaussian mixture SPRT, stats/msprt.ts) for H0: worsening <= limit,
 * from one look at the cumulative data. The mixture is tuned (tau) to the standard error the
 * experiment will have at its planned size, so the test has its power where the design does.
 */
export function sequentialWorseningPValue(
  metric: MetricDefinition,
  control: ArmSample,
  treatment: ArmSample,
  limit: number,
  alpha: number,
  plannedPerVariant: number | null,
): number {
  let observation: GaussianObservation
  try {
    observation = worseningObservation(metric, control, treatment)
  } catch (error) {
    if (error instanceof RangeError) return 1 // too few observations for a quantile's error
    throw error
  }
  if (!(observation.variance > 0)) return 1
  const nNow = Math.min(control.n, treatment.n)
  const horizon = plannedPerVariant && plannedPerVariant > nNow ? plannedPerVariant : nNow
  const seAtHorizon = Math.sqrt((observation.variance * nNow) / horizon)
  const confidence = 1 - alpha
  const tau = Math.max(tauForHorizon(seAtHorizon, confidence), limit > 0 ? limit / 4 : 0)
  const options = { confidence, margin: limit, tau }
  return gaussianMsprtStep(initialSequentialState(options), observation, options).pValue
}
