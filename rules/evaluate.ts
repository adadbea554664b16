// Deciding, purely: one look of one rule at one scope. Takes the rule's persisted state and
// the measured statistics, runs the sequential test, and returns the next state and whether
// this look fires or resolves an incident. No I/O, no clock: `now` is passed in.
//
// States: inconclusive (too little data) → ok → pending (trigger held < pending_evaluations
// looks) → firing (paged once) → resolved (healthy for resolve_evaluations looks on the recent
// window, inside the hysteresis band). A resolved rule starts a fresh test; a new firing
// within the cooldown is recorded but not paged until the cooldown has passed.

import type { Scope } from '../contract/scope.ts'
import type { MetricDefinition } from '../metrics/registry.ts'
import type { ScopeStats } from '../metrics/scope-stats.ts'
import {
  type GaussianObservation,
  gaussianMsprtStep,
  initialRateThresholdState,
  initialSequentialState,
  meanDifferenceObservation,
  proportionDifferenceObservation,
  rateThresholdMsprtStep,
  type SequentialLook,
  type SequentialState,
} from '../stats/index.ts'
import type { EvaluationSettings, Rule } from './schema.ts'

export type RuleStatus = 'inconclusive' | 'ok' | 'pending' | 'firing' | 'resolved'

export interface RuleState {
  dedup_key: string
  rule: string
  metric: string
  scope: Scope
  scorer_version: string
  status: RuleStatus
  /** Start of the data this test accumulates (epoch ms). */
  started_at: number
  seq: SequentialState
  consecutive_fire: number
  consecutive_healthy: number
  fired_at: number | null
  resolved_at: number | null
  /** Firing, but not paged because of the cooldown. */
  suppressed: boolean
  updated_at: number
  last: LookNumbers | null
}

export interface LookNumbers {
  observed: number
  baseline: number | null
  threshold: number
  comparison: string
  n: number
  baseline_n: number | null
  p_value: number | null
  ci_low: number | null
  ci_high: number | null
  message: string
}

export interface LookInput {
  rule: Rule
  metric: MetricDefinition
  settings: EvaluationSettings
  now: number
  dedupKey: string
  scorerVersion: string
  /** Cumulative candidate statistics since the state's started_at (or the period start). */
  candidate: ScopeStats
  /** Baseline statistics, for compare_to rules. */
  baseline?: ScopeStats
  /** The recent window (resolve_window), used only while firing. */
  recent?: ScopeStats
  /** Where a new test starts accumulating. */
  periodStart: number
}

export interface LookResult {
  state: RuleState
  /** 'fire' → page / trigger now; 'resolve' → send the resolve now. */
  transition: 'fire' | 'resolve' | null
  numbers: LookNumbers
}

/**
 * The rule's condition in test form, δ the worsening:
 * - absolute (above / below X): H0 δ <= X — "the rate is above 1 % at 99 % confidence";
 * - change (increase_by / decrease_by d vs a baseline): H0 δ <= d/4 — the change is real and
 *   more than a quarter of the limit at the stated confidence — and the observed change must
 *   exceed d. A change of at most d/4 therefore fires with probability <= 1 - confidence.
 *   Testing H0 δ <= d would wait for certainty that the change exceeds d (69 min for a +250 ms
 *   p99 under a 200 ms rule in bench:detection); H0 δ <= 0 let a noisy p99 of a real +50 ms
 *   change cross d in 2.7 % of runs. d/4: 36 min and 0.3 %.
 */
interface TestPlan {
  comparison: string
  threshold: number
  /** Margin inside H0 of the sequential test. */
  testMargin: number
  /** The observed worsening must exceed this to fire (and fall under it, less hysteresis, to resolve). */
  margin: number
  tau: number
  confidence: number
}

export function conditionOf(rule: Rule): { comparison: string; threshold: number } {
  for (const key of [
    'above',
    'below',
    'increase_by',
    'increase_by_pct',
    'decrease_by',
    'decrease_by_pct',
  ] as const) {
    const value = rule[key]
    if (value !== undefined) return { comparison: key, threshold: value }
  }
  throw new RangeError(`rule ${rule.name} has no condition`)
}

function planFor(input: LookInput): TestPlan {
  const { rule, settings, metric, baseline } = input
  const { comparison, threshold } = conditionOf(rule)
  const confidence = rule.confidence ?? settings.confidence
  let margin: number
  if (comparison === 'above') margin = threshold
  else if (comparison === 'below') margin = -threshold
  else if (comparison.endsWith('_pct')) margin = Math.abs((baseline?.value ?? 0) * threshold) / 100
  else margin = threshold
  const absolute = comparison === 'above' || comparison === 'below'
  const tau =
    rule.tau ?? (absolute && metric.kind !== 'rate' ? Math.abs(threshold) / 4 : Math.abs(margin) || threshold)
  return { comparison, threshold, testMargin: absolute ? margin : margin / 4, margin, tau, confidence }
}

function freshState(input: LookInput, plan: TestPlan, startedAt: number): RuleState {
  const seq =
    input.metric.kind === 'rate' && plan.comparison === 'above'
      ? initialRateThresholdState({
          confidence: plan.confidence,
          threshold: plan.threshold,
          tau: input.rule.tau,
        })
      : input.metric.kind === 'rate' && plan.comparison === 'below'
        ? initialRateThresholdState({
            confidence: plan.confidence,
            threshold: 1 - plan.threshold,
            tau: input.rule.tau,
          })
        : initialSequentialState({ confidence: plan.confidence, margin: plan.testMargin, tau: plan.tau })
  return {
    dedup_key: input.dedupKey,
    rule: input.rule.name,
    metric: input.rule.metric,
    scope: input.candidate.scope,
    scorer_version: input.scorerVersion,
    status: 'inconclusive',
    started_at: startedAt,
    seq,
    consecutive_fire: 0,
    consecutive_healthy: 0,
    fired_at: null,
    resolved_at: null,
    suppressed: false,
    updated_at: input.now,
    last: null,
  }
}

/** One sequential look on the candidate (and baseline). */
function step(input: LookInput, plan: TestPlan, seq: SequentialState): SequentialLook {
  const { metric, candidate, baseline } = input
  const options = { confidence: plan.confidence, margin: seq.margin, tau: seq.tau }
  if (plan.comparison === 'above' || plan.comparison === 'below') {
    const sign = plan.comparison === 'above' ? 1 : -1
    if (metric.kind === 'rate') {
      const x = sign > 0 ? candidate.x : candidate.n - candidate.x
      const threshold = sign > 0 ? plan.threshold : 1 - plan.threshold
      return rateThresholdMsprtStep(
        seq,
        { x: Math.round(x), n: candidate.n },
        { confidence: plan.confidence, threshold, tau: seq.tau },
      )
    }
    const se = candidate.standardError
    return gaussianMsprtStep(
      seq,
      { estimate: sign * candidate.value, variance: Number.isFinite(se) ? se * se : 0 },
      options,
    )
  }
  const worse = plan.comparison.startsWith('increase') ? 'higher' : 'lower'
  const b = baseline!
  let observation: GaussianObservation
  if (metric.kind === 'rate') {
    observation = proportionDifferenceObservation(
      { x: Math.round(b.x), n: b.n },
      { x: Math.round(candidate.x), n: candidate.n },
      worse,
    )
  } else if (metric.kind === 'mean') {
    observation = meanDifferenceObservation(
      { n: b.n, mean: b.value, variance: b.variance },
      { n: candidate.n, mean: candidate.value, variance: candidate.variance },
      worse,
    )
  } else {
    const d = candidate.value - b.value
    observation = {
      estimate: worse === 'higher' ? d : -d,
      variance: candidate.standardError ** 2 + b.standardError ** 2,
    }
  }
  return gaussianMsprtStep(seq, observation, options)
}

/** Healthy on the recent window: inside the trigger by the hysteresis share. */
function healthy(input: LookInput, plan: TestPlan): boolean | undefined {
  const recent = input.recent
  if (!recent || recent.n === 0) return undefined
  const h = input.settings.resolve_hysteresis
  switch (plan.comparison) {
    case 'above':
      return recent.value <= plan.threshold * (1 - h)
    case 'below':
      return recent.value >= plan.threshold * (1 + h)
    default: {
      if (!input.baseline) return undefined
      const change = recent.value - input.baseline.value
      const worsening = plan.comparison.startsWith('increase') ? change : -change
      return worsening <= plan.margin * (1 - h)
    }
  }
}

export function evaluateLook(previous: RuleState | undefined, input: LookInput): LookResult {
  const { now, settings, candidate, baseline, rule } = input
  const plan = planFor(input)
  let state: RuleState
  // A scorer version change or a finished test period starts a fresh test (the old
  // evidence is about other data); a firing incident keeps its state until it resolves.
  const stale =
    !previous ||
    previous.scorer_version !== input.scorerVersion ||
    (previous.status !== 'firing' && previous.started_at < input.periodStart)
  if (stale) {
    state = {
      ...freshState(input, plan, Math.max(input.periodStart, previous?.resolved_at ?? 0)),
      fired_at: previous?.fired_at ?? null,
      resolved_at: previous?.resolved_at ?? null,
    }
  } else {
    state = { ...previous!, scope: candidate.scope, updated_at: now }
  }

  const minSamples = rule.min_samples ?? settings.min_samples
  const enough =
    candidate.n >= minSamples &&
    (plan.comparison === 'above' || plan.comparison === 'below' || (baseline?.n ?? 0) >= minSamples)
  const base = describe(input, plan)

  if (state.status === 'firing') {
    const ok = healthy(input, plan)
    state.consecutive_healthy = ok ? state.consecutive_healthy + 1 : 0
    if (ok && state.consecutive_healthy >= settings.resolve_evaluations) {
      const wasPaged = !state.suppressed
      const resolved: RuleState = {
        ...freshState(input, plan, now),
        status: 'resolved',
        fired_at: state.fired_at,
        resolved_at: now,
        last: state.last,
      }
      return {
        state: resolved,
        transition: wasPaged ? 'resolve' : null,
        numbers: {
          ...base,
          message: `${base.message}; healthy for ${state.consecutive_healthy} evaluations, resolved`,
        },
      }
    }
    // Still firing: a suppressed incident pages once the cooldown has passed.
    if (state.suppressed && (state.resolved_at === null || now - state.resolved_at >= settings.cooldown)) {
      state.suppressed = false
      return { state: { ...state, last: base }, transition: 'fire', numbers: base }
    }
    return { state: { ...state, last: state.last ?? base }, transition: null, numbers: base }
  }

  if (!enough) {
    const numbers = {
      ...base,
      message: `${rule.metric}: inconclusive, n=${candidate.n}${baseline ? `, baseline n=${baseline.n}` : ''} < min_samples ${minSamples}`,
    }
    return {
      state: {
        ...state,
        status: state.status === 'resolved' ? 'resolved' : 'inconclusive',
        consecutive_fire: 0,
        last: numbers,
      },
      transition: null,
      numbers,
    }
  }

  const look = step(input, plan, state.seq)
  const numbers = describe(input, plan, look)
  state.seq = look.state
  const fire = look.fire && look.estimate > plan.margin
  state.consecutive_fire = fire ? state.consecutive_fire + 1 : 0
  if (!fire) {
    return {
      state: { ...state, status: state.status === 'resolved' ? 'resolved' : 'ok', last: numbers },
      transition: null,
      numbers,
    }
  }
  if (state.consecutive_fire < settings.pending_evaluations) {
    return { state: { ...state, status: 'pending', last: numbers }, transition: null, numbers }
  }
  const inCooldown = state.resolved_at !== null && now - state.resolved_at < settings.cooldown
  const firing: RuleState = {
    ...state,
    status: 'firing',
    fired_at: now,
    consecutive_healthy: 0,
    suppressed: inCooldown,
    last: numbers,
  }
  return { state: firing, transition: inCooldown ? null : 'fire', numbers }
}

const fmt = (v: number) =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3)
const count = new Intl.NumberFormat('en-US')

/** The numbers of a look, and a message naming which limit was crossed. */
function describe(input: LookInput, plan: TestPlan, look?: SequentialLook): LookNumbers {
  const { candidate, baseline, rule } = input
  const alpha = 1 - plan.confidence
  const absolute = plan.comparison === 'above' || plan.comparison === 'below'
  const p = look ? look.pValue : null
  let ci_low: number | null = null
  let ci_high: number | null = null
  if (look && Number.isFinite(look.lowerBound)) {
    // Lower confidence bound of the worsening, reported in the metric's own direction.
    if (plan.comparison === 'below') ci_high = -look.lowerBound
    else ci_low = look.lowerBound
  }
  const stat = `n=${count.format(candidate.n)}${baseline ? `, baseline n=${count.format(baseline.n)}` : ''}${p === null ? '' : `, p=${p.toPrecision(2)} ${p <= alpha ? '<=' : '>'} ${fmt(alpha)}`}`
  let message: string
  if (absolute) {
    const op = plan.comparison === 'above' ? '>' : '<'
    message = `${rule.metric} ${fmt(candidate.value)} ${op} ${fmt(plan.threshold)} (${stat})`
  } else {
    const change = candidate.value - (baseline?.value ?? 0)
    const what = plan.comparison.endsWith('_pct')
      ? `${fmt(plan.threshold)}% (${fmt(plan.margin)})`
      : fmt(plan.threshold)
    message = `${rule.metric} ${fmt(candidate.value)} vs baseline ${fmt(baseline?.value ?? 0)}: change ${change >= 0 ? '+' : ''}${fmt(change)}, limit ${plan.comparison.startsWith('increase') ? '+' : '-'}${what} (${stat})`
  }
  return {
    observed: candidate.value,
    baseline: baseline ? baseline.value : null,
    threshold: plan.threshold,
    comparison: plan.comparison,
    n: candidate.n,
    baseline_n: baseline ? baseline.n : null,
    p_value: p,
    ci_low,
    ci_high,
    message,
  }
}
