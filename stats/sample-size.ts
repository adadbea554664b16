// Sample-size and duration planner for a rate comparison, exactly as the Llama A/B-testing
// guide computes it (Cohen's effect size for proportions as the guide writes it, two-sided z
// test, equal allocation, solved like statsmodels NormalIndPower.solve_power). driftwatch uses
// it to tell a user how long a canary must run before a rule can be decided, and to set
// `min_samples`.

import { normalCdf, normalQuantile, normalSf } from './normal.ts'

export interface NormalIndPowerInput {
  /** Standardized effect size d (difference / standard deviation). */
  readonly effectSize: number
  /** Default 0.05. */
  readonly alpha?: number
  /** Sample-size ratio n2 / n1. Default 1. */
  readonly ratio?: number
  /** Default 'two-sided'. */
  readonly alternative?: 'two-sided' | 'larger' | 'smaller'
}

/**
 * Power of the two-sample z test with n1 = nobs1 (statsmodels `NormalIndPower().power`):
 * with m = 1/(1/n1 + 1/n2) and crit = z_{1-α/2}, power = Φ̄(crit - d√m) + Φ(-crit - d√m) for
 * two-sided. The second, tiny term (rejecting in the wrong direction) is kept because
 * statsmodels keeps it: for the guide's example it moves n from 1,871.5447 to 1,871.5401.
 */
export function normalIndPower(input: NormalIndPowerInput & { readonly nobs1: number }): number {
  const alpha = input.alpha ?? 0.05
  const ratio = input.ratio ?? 1
  const alternative = input.alternative ?? 'two-sided'
  const m = 1 / (1 / input.nobs1 + 1 / (input.nobs1 * ratio))
  const shift = input.effectSize * Math.sqrt(m)
  const tailAlpha = alternative === 'two-sided' ? alpha / 2 : alpha
  let power = 0
  if (alternative !== 'smaller') power += normalSf(normalQuantile(1 - tailAlpha) - shift)
  if (alternative !== 'larger') power += normalCdf(normalQuantile(tailAlpha) - shift)
  return power
}

/** nobs1 (fractional) at which normalIndPower reaches `power`; as statsmodels solve_power. */
export function solveNormalIndPowerNobs1(input: NormalIndPowerInput & { readonly power: number }): number {
  const { power } = input
  if (!(input.effectSize !== 0 && Number.isFinite(input.effectSize))) {
    throw new RangeError(`effectSize must be finite and non-zero, got ${input.effectSize}`)
  }
  const alpha = input.alpha ?? 0.05
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`)
  if (!(power > alpha && power < 1)) throw new RangeError(`power must be in (alpha, 1), got ${power}`)
  const f = (n: number): number => normalIndPower({ ...input, nobs1: n }) - power
  // Power rises monotonically with n for the direction being tested; bracket, then bisect to
  // machine precision (60 halvings of a bracket that starts within a factor 2).
  let lo = 1e-6
  let hi = 2
  if (f(lo) > 0) return lo
  while (f(hi) < 0) {
    lo = hi
    hi *= 2
    if (hi > 1e15) throw new RangeError('effect size too small: more than 1e15 observations needed')
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2
    if (f(mid) < 0) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

export interface PlanSampleSizeInput {
  /** Baseline rate p1, e.g. 0.76 task success. */
  readonly baseline: number
  /** Minimum detectable effect, relative: p2 = p1 (1 + mde). 0.05 = +5 %. */
  readonly mde: number
  /** Default 0.05 (two-sided). */
  readonly alpha?: number
  /** Default 0.8. */
  readonly power?: number
  /** Number of variants sharing traffic equally. Default 2. */
  readonly variants?: number
  /** Interactions per day across all variants. */
  readonly daily: number
}

export interface SampleSizePlan {
  /** (p2 - p1) / sqrt(p(1 - p)) with p = (p1 + p2) / 2. */
  readonly effect_size: number
  /** ceil of the solved n per variant. */
  readonly sample_size_per_variant: number
  /** sample_size_per_variant × variants. */
  readonly total_sample: number
  /** ceil(total_sample / daily). */
  readonly duration_days: number
}

/**
 * The guide's planner. baseline 0.76, mde 0.05, alpha 0.05, power 0.8 → effect size 0.0916,
 * n = 1,871.54 → 1,872 per variant (statsmodels 0.13.5+; the guide prints 1,873), total
 * 3,744, 2 days at 2,000 a day.
 */
export function planSampleSize(input: PlanSampleSizeInput): SampleSizePlan {
  const { baseline, mde, daily } = input
  const alpha = input.alpha ?? 0.05
  const power = input.power ?? 0.8
  const variants = input.variants ?? 2
  if (!(baseline > 0 && baseline < 1))
    throw new RangeError(`baseline must be a rate in (0, 1), got ${baseline}`)
  if (!(mde !== 0 && Number.isFinite(mde)))
    throw new RangeError(`mde must be a non-zero relative change, got ${mde}`)
  const p2 = baseline * (1 + mde)
  if (!(p2 > 0 && p2 < 1)) {
    throw new RangeError(`baseline × (1 + mde) = ${p2} is not a rate in (0, 1); use a smaller mde`)
  }
  if (!Number.isInteger(variants) || variants < 2)
    throw new RangeError(`variants must be an integer >= 2, got ${variants}`)
  if (!(daily > 0)) throw new RangeError(`daily traffic must be > 0, got ${daily}`)
  const pMean = (baseline + p2) / 2
  const effectSize = (p2 - baseline) / Math.sqrt(pMean * (1 - pMean))
  // The two-sided power is symmetric in the sign of d, so solve on |d| and report d as computed.
  const n = solveNormalIndPowerNobs1({ effectSize: Math.abs(effectSize), alpha, power, ratio: 1 })
  const perVariant = Math.ceil(n)
  const total = perVariant * variants
  return {
    effect_size: effectSize,
    sample_size_per_variant: perVariant,
    total_sample: total,
    duration_days: Math.ceil(total / daily),
  }
}
