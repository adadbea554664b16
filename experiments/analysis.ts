// The analysis of one A/B experiment from its measurements: assignment check, sample ratio
// mismatch, the planned size, one comparison per metric x segment x modality (never pooled
// across modalities) with a multiple-comparison correction, and the decision. Pure: the
// measurements come in (experiments/measure.ts reads them from the store), the report goes out.

import { type MetricDefinition, metricDefinition } from '../metrics/registry.ts'
import { sampleRatioMismatch } from '../stats/index.ts'
import {
  type ArmSample,
  armValue,
  fixedTest,
  sequentialWorseningPValue,
  type TestName,
  testable,
} from './compare.ts'
import { type Decision, type DecisionRow, decide, type Verdict } from './decision.ts'
import { plannedPerVariant } from './plan.ts'
import type { Experiment } from './schema.ts'

export const SRM_THRESHOLD = 0.001

/** One metric in one segment x modality, both arms. */
export interface ScopeMeasurement {
  readonly metric: string
  readonly segment: string
  readonly modality: string
  readonly control: ArmSample
  readonly treatment: ArmSample
}

export interface ExperimentMeasurements {
  /** Distinct users per arm (the unit of assignment; SRM is tested on them). */
  readonly users: { readonly control: number; readonly treatment: number }
  readonly interactions: { readonly control: number; readonly treatment: number }
  /** Distinct users seen in both arms. */
  readonly usersInBoth: number
  readonly scopes: readonly ScopeMeasurement[]
}

export interface MetricResult {
  metric: string
  role: 'goal' | 'guardrail'
  segment: string
  modality: string
  control: { n: number; value: number | null }
  treatment: { n: number; value: number | null }
  diff: number | null
  rel_diff: number | null
  ci_low: number | null
  ci_high: number | null
  p_value: number | null
  verdict: Verdict
  /** Holm-adjusted p-value (the one compared with alpha). */
  p_adjusted: number | null
  test: TestName
  /** Guardrails: the largest acceptable worsening, in the metric's unit. */
  limit?: number
  /** Guardrails: always-valid p-value for "worsening > limit" (used before the planned size). */
  sequential_p_value?: number
}

export interface ExperimentReport {
  experiment: string
  decision: Decision
  reason: string
  /** The decision-matrix rule that decided (experiments/decision.ts). */
  rule: string
  srm: {
    p_value: number
    flagged: boolean
    chi_square: number
    users: { control: number; treatment: number }
  }
  assignment: { users_in_both: number; share_in_both: number }
  planned_per_variant: number | null
  observed_per_variant: number
  correction: { method: 'holm'; comparisons: number; alpha: number; ci_level: number }
  metrics: MetricResult[]
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null)

/** Holm-Bonferroni adjusted p-values (same order as the input). */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p)
  const adjusted = new Array<number>(m)
  let running = 0
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p))
    adjusted[i] = running
  })
  return adjusted
}

function guardrailLimit(g: Experiment['guardrails'][number], controlValue: number): number {
  if (g.max_increase !== undefined) return g.max_increase
  return (Math.abs(controlValue) * (g.max_increase_pct ?? 0)) / 100
}

export function analyzeExperiment(experiment: Experiment, m: ExperimentMeasurements): ExperimentReport {
  const alpha = experiment.alpha
  const srm =
    m.users.control + m.users.treatment > 0
      ? sampleRatioMismatch({
          observed: [m.users.control, m.users.treatment],
          expectedWeights: [experiment.split.control, experiment.split.treatment],
          threshold: SRM_THRESHOLD,
        })
      : { pValue: 1, mismatch: false, chiSquare: 0 }
  const totalUsers = m.users.control + m.users.treatment - m.usersInBoth

  const roles: { metric: string; role: 'goal' | 'guardrail' }[] = [
    ...experiment.goal.map((g) => ({ metric: g.metric, role: 'goal' as const })),
    ...experiment.guardrails.map((g) => ({ metric: g.metric, role: 'guardrail' as const })),
  ]
  // Comparisons with data enough for their test: the family the correction covers.
  const candidates = roles.flatMap(({ metric, role }) =>
    m.scopes
      .filter((s) => s.metric === metric)
      .map((s) => ({ s, role, def: metricDefinition(metric) }))
      .sort((a, b) => a.s.segment.localeCompare(b.s.segment) || a.s.modality.localeCompare(b.s.modality)),
  )
  const tested = candidates.filter((c) => testable(c.s.control, c.s.treatment, c.def))
  const comparisons = Math.max(1, tested.length)
  const ciLevel = 1 - alpha / comparisons // Bonferroni-simultaneous intervals

  const planned = plannedPerVariant(experiment, m.scopes, comparisons)
  const goalN = experiment.goal.map((g) => {
    const scopes = m.scopes.filter((s) => s.metric === g.metric)
    const sum = (arm: 'control' | 'treatment') => scopes.reduce((acc, s) => acc + s[arm].n, 0)
    return Math.min(sum('control'), sum('treatment'))
  })
  const observed = goalN.length ? Math.min(...goalN) : 0
  const beforePlan = planned === null || observed < planned

  const fixed = tested.map((c) => {
    const test = fixedTest(c.def, c.s.control, c.s.treatment, ciLevel)
    // Goals: two-sided (better or worse); guardrails: one-sided, only a worsening counts.
    return { ...c, test, p: c.role === 'goal' ? test.pTwoSided : test.pWorse }
  })
  const adjusted = holmAdjust(fixed.map((f) => f.p))

  const results: MetricResult[] = candidates.map((c) => {
    const controlValue = armValue(c.s.control, c.def)
    const treatmentValue = armValue(c.s.treatment, c.def)
    const base: MetricResult = {
      metric: c.s.metric,
      role: c.role,
      segment: c.s.segment,
      modality: c.s.modality,
      control: { n: c.s.control.n, value: finite(controlValue) },
      treatment: { n: c.s.treatment.n, value: finite(treatmentValue) },
      diff: null,
      rel_diff: null,
      ci_low: null,
      ci_high: null,
      p_value: null,
      p_adjusted: null,
      verdict: 'insufficient_data',
      test: 'none',
    }
    const limit =
      c.role === 'guardrail'
        ? guardrailLimit(experiment.guardrails.find((g) => g.metric === c.s.metric)!, controlValue)
        : undefined
    if (limit !== undefined) base.limit = limit
    const k = fixed.findIndex((f) => f.s === c.s && f.role === c.role)
    if (k < 0) return base
    const f = fixed[k]!
    const pAdj = adjusted[k]!
    const diff = f.test.diff
    const worsening = c.def.worse === 'higher' ? diff : -diff
    base.diff = diff
    base.rel_diff = controlValue !== 0 ? finite(diff / Math.abs(controlValue)) : null
    base.ci_low = finite(f.test.ciLow)
    base.ci_high = finite(f.test.ciHigh)
    base.p_value = f.p
    base.p_adjusted = pAdj
    base.test = f.test.test
    if (c.role === 'goal') {
      base.verdict = pAdj < alpha ? (worsening > 0 ? 'worse' : 'better') : 'no_difference'
    } else {
      const seqP = sequentialWorseningPValue(
        c.def,
        c.s.control,
        c.s.treatment,
        limit!,
        alpha / comparisons,
        planned,
      )
      base.sequential_p_value = seqP
      // Before the planned size only the always-valid test may fail a guardrail (peeking at
      // the fixed test would inflate false alarms); from then on the fixed test decides.
      const fails = beforePlan ? seqP <= alpha / comparisons : pAdj < alpha && worsening > limit!
      base.verdict = fails ? 'fail' : 'ok'
    }
    return base
  })

  const rows: DecisionRow[] = results.map((r) => ({
    metric: r.metric,
    role: r.role,
    segment: r.segment,
    modality: r.modality,
    rel_diff: r.rel_diff,
    verdict: r.verdict,
    mde: experiment.goal.find((g) => g.metric === r.metric)?.mde,
    early: r.role === 'guardrail' && r.verdict === 'fail' && beforePlan,
  }))
  const { decision, rule, reason } = decide({
    srm: { p_value: srm.pValue, flagged: srm.mismatch },
    plannedPerVariant: planned,
    observedPerVariant: observed,
    rows,
  })
  return {
    experiment: experiment.name,
    decision,
    reason,
    rule,
    srm: {
      p_value: srm.pValue,
      flagged: srm.mismatch,
      chi_square: srm.chiSquare,
      users: { control: m.users.control, treatment: m.users.treatment },
    },
    assignment: {
      users_in_both: m.usersInBoth,
      share_in_both: totalUsers > 0 ? m.usersInBoth / totalUsers : 0,
    },
    planned_per_variant: planned,
    observed_per_variant: observed,
    correction: { method: 'holm', comparisons, alpha, ci_level: ciLevel },
    metrics: results,
  }
}

export type { MetricDefinition }
