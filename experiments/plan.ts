// How many observations per variant an experiment needs, from the control arm's measured
// baseline: the guide's planner (stats/sample-size.ts) for rate goals, the same two-sample
// z-test power for means (effect size = MDE x mean / sd) and quantiles (sd from the
// order-statistic standard error). Planned at the per-comparison level alpha / m of the
// analysis (Bonferroni), so the plan is valid for the corrected tests. Pure.

import { quantileSorted } from 'simple-statistics'
import { metricDefinition } from '../metrics/registry.ts'
import { planSampleSize, quantileDifferenceObservation, solveNormalIndPowerNobs1 } from '../stats/index.ts'
import type { ArmSample } from './compare.ts'
import type { Experiment } from './schema.ts'

export interface GoalPlan {
  metric: string
  kind: 'rate' | 'mean' | 'quantile'
  /** Control value pooled over the experiment's scopes (planning only; tests never pool). */
  baseline: number | null
  mde: number
  target: number | null
  effect_size: number | null
  /** null: no control data yet to plan from. */
  sample_size_per_variant: number | null
}

/** Pools one arm's samples over scopes (only for planning). */
export function poolSamples(samples: readonly ArmSample[]): ArmSample | null {
  if (samples.length === 0) return null
  const first = samples[0]!
  if (first.kind === 'rate') {
    let n = 0
    let x = 0
    for (const s of samples) {
      if (s.kind !== 'rate') continue
      n += s.n
      x += s.x
    }
    return { kind: 'rate', n, x }
  }
  if (first.kind === 'mean') {
    // Pooled mean and variance from per-group (n, mean, variance).
    let n = 0
    let sum = 0
    let sumSq = 0
    for (const s of samples) {
      if (s.kind !== 'mean' || s.n === 0) continue
      n += s.n
      sum += s.n * s.mean
      sumSq += (s.n - 1) * s.variance + s.n * s.mean * s.mean
    }
    if (n === 0) return { kind: 'mean', n: 0, mean: 0, variance: 0 }
    const mean = sum / n
    return { kind: 'mean', n, mean, variance: n > 1 ? (sumSq - n * mean * mean) / (n - 1) : 0 }
  }
  const sorted = samples.flatMap((s) => (s.kind === 'quantile' ? [...s.sorted] : [])).sort((a, b) => a - b)
  return { kind: 'quantile', n: sorted.length, sorted }
}

export function planGoal(
  goal: Experiment['goal'][number],
  control: ArmSample | null,
  alpha: number,
  power: number,
): GoalPlan {
  const def = metricDefinition(goal.metric)
  const empty: GoalPlan = {
    metric: goal.metric,
    kind: def.kind,
    baseline: null,
    mde: goal.mde,
    target: null,
    effect_size: null,
    sample_size_per_variant: null,
  }
  if (!control || control.n < 2) return empty
  // The better direction: a goal whose lower value is worse should go up, and vice versa.
  const sign = def.worse === 'lower' ? 1 : -1
  if (control.kind === 'rate') {
    const p = control.x / control.n
    if (!(p > 0 && p < 1)) return { ...empty, baseline: p }
    const mde = sign * goal.mde
    const target = p * (1 + mde)
    if (!(target > 0 && target < 1)) return { ...empty, baseline: p, target }
    const plan = planSampleSize({ baseline: p, mde, alpha, power, daily: 1 })
    return {
      ...empty,
      baseline: p,
      target,
      effect_size: plan.effect_size,
      sample_size_per_variant: plan.sample_size_per_variant,
    }
  }
  let baseline: number
  let sd: number
  if (control.kind === 'mean') {
    baseline = control.mean
    sd = Math.sqrt(control.variance)
  } else {
    const p = (def as { p: number }).p
    baseline = quantileSorted(control.sorted as number[], p)
    try {
      const v = quantileDifferenceObservation(control.sorted, control.sorted, p).variance / 2
      sd = Math.sqrt(v * control.n)
    } catch (error) {
      if (error instanceof RangeError) return { ...empty, baseline }
      throw error
    }
  }
  const target = baseline * (1 + sign * goal.mde)
  if (!(sd > 0) || baseline === 0) return { ...empty, baseline, target }
  const effectSize = (target - baseline) / sd
  const n = solveNormalIndPowerNobs1({ effectSize: Math.abs(effectSize), alpha, power })
  return { ...empty, baseline, target, effect_size: effectSize, sample_size_per_variant: Math.ceil(n) }
}

export function planGoals(
  experiment: Experiment,
  scopes: readonly { metric: string; control: ArmSample }[],
  comparisons: number,
): GoalPlan[] {
  const alpha = experiment.alpha / Math.max(1, comparisons)
  return experiment.goal.map((g) =>
    planGoal(
      g,
      poolSamples(scopes.filter((s) => s.metric === g.metric).map((s) => s.control)),
      alpha,
      experiment.power,
    ),
  )
}

/** The largest per-variant size over the goals; null while a goal has no baseline to plan from. */
export function plannedPerVariant(
  experiment: Experiment,
  scopes: readonly { metric: string; control: ArmSample }[],
  comparisons: number,
): number | null {
  const plans = planGoals(experiment, scopes, comparisons)
  if (plans.some((p) => p.sample_size_per_variant === null)) return null
  return Math.max(...plans.map((p) => p.sample_size_per_variant!))
}
