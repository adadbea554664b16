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
  bernoulliCusumStep,
  type ChangeState,
  cusumThreshold,
  type GaussianObservation,
  gaussianCusumStep,
  gaussianMsprtStep,
  initialChangeState,
  initialRateThresholdState,
  initialSequentialState,
  meanDifferenceObservation,
  proportionDifferenceObservation,
  type RateChangePlan,
  rateChangePlan,
  rateThresholdMsprtStep,
  type SequentialLook,
  type SequentialState,
  type TailPlan,
  tailPlan,
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
  /** Quantile rules (tail test): the threshold the last look counted the candidate's values above. */
  tail_threshold?: number | null
  /**
   * Rate change rules (exact test): the fixed rate the candidate's worse outcomes are tested
   * against, set from the baseline when the test starts (= seq.margin); null until then.
   */
  rate_threshold?: number | null
  /** compare_to: trailing rules: the change detector, and the cumulative counts already binned. */
  drift?: DriftState | null
  /** Why the incident was last resolved: healthy again, version rolled back or retired, no traffic. */
  resolved_reason?: ResolveReason | null
}

export interface VersionGone {
  reason: 'rolled_back' | 'retired'
  /** When it was marked (epoch ms). */
  at: number
}

export type ResolveReason = 'healthy' | 'rolled_back' | 'retired' | 'no_traffic'

export interface DriftState {
  cusum: ChangeState
  /** Cumulative n, x (or exceedances), sum, sum of squares since started_at already fed to the detector. */
  seen: { n: number; x: number; sum: number; sumsq: number }
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
  /** Where the candidate's cumulative statistics start: testWindowStart(previous, ...). */
  testStart: number
  /** The version was marked rolled back or retired (deploy/deployments.ts) at this time. */
  versionGone?: VersionGone
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
 *   Testing H0 δ <= d would wait for certainty that the change exceeds d; H0 δ <= 0 let a
 *   noisy p99 of a real +50 ms change cross d (bench:detection, p99_plus_50).
 * Which test runs (docs/statistics.md, "Rules"):
 * - rates vs a threshold: the exact Beta-mixture mSPRT on the counts;
 * - quantiles (above, increase_by): the tail test (stats/tail-test.ts) — the exact mSPRT on
 *   the share of candidate values above the threshold (or the baseline's upper bound + d/4);
 * - compare_to: trailing: a CUSUM change detector on per-look bins (stats/change-detector.ts);
 * - everything else: the normal-mixture mSPRT on the difference.
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
  kind: 'rate_threshold' | 'rate_change' | 'tail' | 'drift' | 'gaussian'
  /** Quantile rules: the tail test's threshold, levels and prior. */
  tail?: TailPlan
  /** Rate change rules: the exact test's fixed null rate and levels (stats/rate-change-test.ts). */
  rateChange?: RateChangePlan
}

type PlanInput = Pick<LookInput, 'rule' | 'metric' | 'settings' | 'baseline'>

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

function planFor(input: PlanInput): TestPlan {
  const { rule, settings, metric, baseline } = input
  const { comparison, threshold } = conditionOf(rule)
  const confidence = rule.confidence ?? settings.confidence
  let margin: number
  if (comparison === 'above') margin = threshold
  else if (comparison === 'below') margin = -threshold
  else if (comparison.endsWith('_pct')) margin = Math.abs((baseline?.value ?? 0) * threshold) / 100
  else margin = threshold
  const absolute = comparison === 'above' || comparison === 'below'
  const testMargin = absolute ? margin : margin / 4
  const drift = rule.compare_to !== undefined && rule.compare_to !== 'last_stable'
  // τ, the size of worsening beyond the test's margin the mixture is tuned to, derived from the
  // rule's limit: change rules, a change exactly at the limit (3d/4 beyond d/4); absolute
  // rates, half the limit (a rate 1.5x the threshold: 17 % fewer samples than tuning to a
  // doubling for 1 % -> 1.5 %, 10 % more for 1 % -> 2 %); absolute means, a quarter of the
  // threshold. Quantile tail tests derive theirs from the baseline's density (stats/tail-test.ts).
  const tau =
    rule.tau ??
    (absolute
      ? metric.kind !== 'rate'
        ? Math.abs(threshold) / 4
        : (comparison === 'above' ? threshold : 1 - threshold) / 2
      : metric.kind === 'rate' && !drift
        ? Math.abs(margin) || threshold
        : Math.abs(margin - testMargin) || threshold)
  let tail: TailPlan | undefined
  if (metric.kind === 'quantile' && (comparison === 'above' || comparison.startsWith('increase'))) {
    const p = (metric as { p: number }).p
    const alpha = 1 - confidence
    if (comparison === 'above') tail = tailPlan({ p, alpha, margin: 0, absolute: threshold })
    else if (baseline && baseline.n > 0) tail = tailPlan({ p, alpha, margin: testMargin, baseline })
  }
  const kind = drift
    ? 'drift'
    : metric.kind === 'quantile' && (comparison === 'above' || comparison.startsWith('increase'))
      ? 'tail'
      : metric.kind === 'rate' && absolute
        ? 'rate_threshold'
        : metric.kind === 'rate'
          ? 'rate_change'
          : 'gaussian'
  const rateChange =
    kind === 'rate_change' && baseline && baseline.n > 0
      ? rateChangePlan({
          baseline: { x: Math.round(baseline.x), n: baseline.n },
          alpha: 1 - confidence,
          margin: testMargin,
          worse: comparison.startsWith('increase') ? 'higher' : 'lower',
        })
      : undefined
  return { comparison, threshold, testMargin, margin, tau, confidence, kind, tail, rateChange }
}

/**
 * The threshold a quantile rule's exceedances are counted above, for a test that starts now
 * (the cycle asks before measuring; a running test keeps its state's tail_threshold).
 * undefined for rules that need no exceedance count, or while the baseline is missing.
 */
export function tailThresholdFor(input: PlanInput): number | undefined {
  return planFor(input).tail?.threshold
}

/**
 * Where the cumulative statistics of the test following `previous` start, as of `now`. A
 * version's test accumulates from its first data until it concludes; a test that has run for
 * `test_period` without firing restarts at its own period boundary (started_at + k · period),
 * never at a clock boundary, so the delay does not depend on the time of day. With no
 * previous state (or a new scorer version) the test looks back one period.
 */
export function testWindowStart(
  previous: RuleState | undefined,
  scorerVersion: string,
  now: number,
  settings: Pick<EvaluationSettings, 'test_period'>,
): number {
  const period = settings.test_period
  if (!previous || previous.scorer_version !== scorerVersion) return now - period
  if (previous.status === 'firing') return previous.started_at
  const age = now - previous.started_at
  return age < period ? previous.started_at : previous.started_at + Math.floor(age / period) * period
}

function freshState(input: LookInput, plan: TestPlan, startedAt: number): RuleState {
  const seq =
    plan.kind === 'tail' || (plan.kind === 'drift' && plan.tail)
      ? initialRateThresholdState({
          confidence: 1 - plan.tail!.testAlpha,
          threshold: plan.tail!.nullShare,
          tau: plan.tail!.tau,
        })
      : input.metric.kind === 'rate' && plan.comparison === 'above'
        ? initialRateThresholdState({
            confidence: plan.confidence,
            threshold: plan.threshold,
            tau: plan.tau,
          })
        : input.metric.kind === 'rate' && plan.comparison === 'below'
          ? initialRateThresholdState({
              confidence: plan.confidence,
              threshold: 1 - plan.threshold,
              tau: plan.tau,
            })
          : plan.kind === 'rate_change'
            ? rateChangeState(plan)
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
    tail_threshold: plan.tail?.threshold ?? null,
    rate_threshold: plan.kind === 'rate_change' ? (plan.rateChange?.nullRate ?? null) : null,
    drift: null,
    resolved_reason: null,
  }
}

/** What one look decided, in the form describe() reports. */
interface Decision {
  fire: boolean
  pValue: number | null
  lowerBound: number
  /** Replaces the p-value part of the message (change detector). */
  detail?: string
  /** Replaces the observed value (change detector: the value since the change point). */
  observed?: number
}

/** The observed worsening in the metric's units, compared with the rule's margin. */
function observedWorsening(input: LookInput, plan: TestPlan, value = input.candidate.value): number {
  if (plan.comparison === 'above') return value
  if (plan.comparison === 'below') return -value
  const change = value - (input.baseline?.value ?? 0)
  return plan.comparison.startsWith('increase') ? change : -change
}

/** One sequential look on the candidate (and baseline). */
function step(input: LookInput, plan: TestPlan, state: RuleState): { decision: Decision; state: RuleState } {
  const { metric, candidate, baseline, rule } = input
  const seq = state.seq
  const options = { confidence: plan.confidence, margin: seq.margin, tau: seq.tau }
  const sequential = (
    look: SequentialLook,
    pValue = look.pValue,
  ): { decision: Decision; state: RuleState } => ({
    decision: {
      fire: look.fire && observedWorsening(input, plan) > plan.margin,
      pValue,
      lowerBound: look.lowerBound,
    },
    state: { ...state, seq: look.state },
  })
  if (plan.kind === 'drift') return driftStep(input, plan, state)
  if (plan.kind === 'tail') {
    const tail = plan.tail!
    const ex = exceedances(input, plan)
    const look = rateThresholdMsprtStep(
      seq,
      { x: ex, n: candidate.n },
      { confidence: 1 - tail.testAlpha, threshold: tail.nullShare, tau: seq.tau },
    )
    // The baseline's bound spent tail.baselineAlpha: report the p-value of the whole test.
    const result = sequential(look, Math.min(1, look.pValue + tail.baselineAlpha))
    return { ...result, state: { ...result.state, tail_threshold: tail.threshold } }
  }
  if (plan.comparison === 'above' || plan.comparison === 'below') {
    const sign = plan.comparison === 'above' ? 1 : -1
    if (metric.kind === 'rate') {
      const x = sign > 0 ? candidate.x : candidate.n - candidate.x
      const threshold = sign > 0 ? plan.threshold : 1 - plan.threshold
      return sequential(
        rateThresholdMsprtStep(
          seq,
          { x: Math.round(x), n: candidate.n },
          { confidence: plan.confidence, threshold, tau: seq.tau },
        ),
      )
    }
    const se = candidate.standardError
    return sequential(
      gaussianMsprtStep(
        seq,
        { estimate: sign * candidate.value, variance: Number.isFinite(se) ? se * se : 0 },
        options,
      ),
    )
  }
  const worse = plan.comparison.startsWith('increase') ? 'higher' : 'lower'
  const b = baseline
  if (!b) throw new RangeError(`rule ${rule.name}: a change look needs the baseline`)
  if (plan.kind === 'rate_change') {
    // The null rate is fixed when the test starts; a test begun before the baseline existed
    // (or persisted by an older version) starts its evidence here, at its first full look.
    const rc = plan.rateChange!
    const fixed = state.rate_threshold ?? null
    const current = fixed === null ? rateChangeState(plan) : seq
    const nullRate = fixed ?? rc.nullRate
    const x = worse === 'higher' ? candidate.x : candidate.n - candidate.x
    const look = rateThresholdMsprtStep(
      current,
      { x: Math.round(x), n: candidate.n },
      { confidence: 1 - rc.testAlpha, threshold: nullRate, tau: current.tau },
    )
    const result = sequential(look, Math.min(1, look.pValue + rc.baselineAlpha))
    return { ...result, state: { ...result.state, rate_threshold: nullRate } }
  }
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
  return sequential(gaussianMsprtStep(seq, observation, options))
}

/** The exact rate-change test's starting state: Beta mixture on the worse outcome's rate above the null rate. */
function rateChangeState(plan: TestPlan): SequentialState {
  const rc = plan.rateChange
  if (!rc) throw new RangeError('a rate change test needs the baseline to start')
  return initialRateThresholdState({ confidence: 1 - rc.testAlpha, threshold: rc.nullRate, tau: plan.tau })
}

/** The candidate's count above this look's tail threshold (tailThresholdFor, as the cycle measured it). */
function exceedances(input: LookInput, plan: TestPlan): number {
  const ex = input.candidate.exceed
  if (!ex) {
    throw new RangeError(
      `rule ${input.rule.name}: a quantile rule needs the candidate's exceedance count (StatsQuery.exceedance)`,
    )
  }
  if (ex.threshold !== plan.tail?.threshold) {
    throw new RangeError(
      `rule ${input.rule.name}: exceedances were counted above ${ex.threshold} but this look's threshold is ${plan.tail?.threshold}`,
    )
  }
  return ex.count
}

const smoothed = (s: ScopeStats) => (s.x + 1) / (s.n + 2)
const clampRate = (p: number) => Math.min(1 - 1e-9, Math.max(1e-9, p))

/**
 * compare_to: trailing: one CUSUM step on what arrived since the last look (the cumulative
 * statistics since started_at, less what the detector has already seen). In control: the
 * trailing baseline worsened by d/4; the change to detect: worsened by the limit d. Fires when
 * the statistic crosses h = ln(1440 / α) (~α false alarms a day) and the worsening since the
 * change point exceeds d.
 */
function driftStep(
  input: LookInput,
  plan: TestPlan,
  state: RuleState,
): { decision: Decision; state: RuleState } {
  const { metric, candidate, rule } = input
  const b = input.baseline
  if (!b) throw new RangeError(`rule ${rule.name}: a drift look needs the trailing baseline`)
  const alpha = 1 - plan.confidence
  const threshold = cusumThreshold(alpha)
  const higher = plan.comparison.startsWith('increase')
  const drift = state.drift ?? { cusum: initialChangeState, seen: { n: 0, x: 0, sum: 0, sumsq: 0 } }
  const n = candidate.n
  const x = metric.kind === 'quantile' ? exceedances(input, plan) : metric.kind === 'rate' ? candidate.x : 0
  const sum = metric.kind === 'mean' ? n * candidate.value : 0
  const sumsq =
    metric.kind === 'mean' ? Math.max(0, n - 1) * candidate.variance + n * candidate.value ** 2 : 0
  const seen = drift.seen
  const fresh = n < seen.n || x < seen.x
  const bin = fresh
    ? { n: 0, x: 0, sum: 0, sumsq: 0 }
    : { n: n - seen.n, x: x - seen.x, sum: sum - seen.sum, sumsq: sumsq - seen.sumsq }
  let look: ReturnType<typeof bernoulliCusumStep>
  let sinceValue: number | undefined
  if (metric.kind === 'quantile') {
    const tail = plan.tail!
    const p0 = tail.nullShare
    look = bernoulliCusumStep(drift.cusum, bin, { p0, p1: Math.min(0.999, p0 + state.seq.tau), threshold })
    // Since the change point: fires only when the share above the threshold is beyond H0's.
    sinceValue = look.state.n > 0 ? look.state.x / look.state.n : undefined
  } else if (metric.kind === 'rate') {
    const base = smoothed(b)
    const sign = higher ? 1 : -1
    const p0 = clampRate(base + sign * plan.testMargin)
    const p1 = clampRate(base + sign * plan.margin)
    const flipped = { n: bin.n, x: bin.n - bin.x }
    look = higher
      ? bernoulliCusumStep(drift.cusum, bin, { p0, p1, threshold })
      : bernoulliCusumStep(
          // Lower is worse: count the complementary outcomes, whose rate rises.
          { ...drift.cusum, x: drift.cusum.n - drift.cusum.x },
          flipped,
          { p0: 1 - p0, p1: 1 - p1, threshold },
        )
    if (!higher) look = { ...look, state: { ...look.state, x: look.state.n - look.state.x } }
    sinceValue = look.state.n > 0 ? look.state.x / look.state.n : undefined
  } else {
    const variance = b.variance > 0 ? b.variance : candidate.variance
    if (!(variance > 0)) throw new RangeError(`rule ${rule.name}: the trailing baseline has no variance yet`)
    const sign = higher ? 1 : -1
    const mu0 = sign * b.value + plan.testMargin
    const mu1 = sign * b.value + plan.margin
    look = gaussianCusumStep(
      { ...drift.cusum, sum: sign * drift.cusum.sum },
      { n: bin.n, sum: sign * bin.sum, sumsq: bin.sumsq },
      { mu0, mu1, variance, threshold },
    )
    look = { ...look, state: { ...look.state, sum: sign * look.state.sum } }
    sinceValue = look.state.n > 0 ? look.state.sum / look.state.n : undefined
  }
  const beyond =
    sinceValue !== undefined &&
    (metric.kind === 'quantile'
      ? sinceValue > plan.tail!.nullShare && observedWorsening(input, plan) > 0
      : observedWorsening(input, plan, sinceValue) > plan.margin)
  const next: RuleState = { ...state, drift: { cusum: look.state, seen: { n, x, sum, sumsq } } }
  return {
    decision: {
      fire: look.alarm && beyond,
      pValue: null,
      lowerBound: Number.NEGATIVE_INFINITY,
      detail: `CUSUM ${look.state.s.toFixed(1)} ${look.alarm ? '>=' : '<'} ${threshold.toFixed(1)}, ~${fmt(100 * alpha)} % false alarms/day`,
      observed: metric.kind === 'quantile' ? undefined : sinceValue,
    },
    state: next,
  }
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

const iso = (ms: number) => new Date(ms).toISOString()

/** A firing incident whose version is gone: rolled back, retired, or no traffic in its scope. */
function goneReason(
  input: LookInput,
  state: RuleState,
): { reason: ResolveReason; message: string } | undefined {
  const gone = input.versionGone
  if (gone && gone.at >= (state.fired_at ?? 0)) {
    return {
      reason: gone.reason,
      message: `version ${state.scope.model_version} ${gone.reason === 'rolled_back' ? 'rolled back' : 'retired'} at ${iso(gone.at)}`,
    }
  }
  if (input.recent && input.recent.n === 0) {
    const since = input.candidate.last ?? input.now - input.settings.resolve_window
    return { reason: 'no_traffic', message: `no traffic since ${iso(since)}` }
  }
  return undefined
}

export function evaluateLook(previous: RuleState | undefined, input: LookInput): LookResult {
  const { now, settings, candidate, baseline, rule } = input
  const plan = planFor(input)
  let state: RuleState
  // A scorer version change or a test past its period starts a fresh test (the old evidence
  // is about other data); a firing incident keeps its state until it resolves. The change
  // detector of a trailing rule survives a period restart: it forgets on its own.
  const sameScorer = previous !== undefined && previous.scorer_version === input.scorerVersion
  const stale = !sameScorer || (previous!.status !== 'firing' && previous!.started_at !== input.testStart)
  if (stale) {
    // A first test starts at the scope's first data in the look-back (the look's own time
    // when the caller does not say), so it runs a whole period from the version's first traffic.
    const startedAt = previous ? input.testStart : Math.max(input.testStart, candidate.first ?? now)
    state = {
      ...freshState(input, plan, startedAt),
      fired_at: previous?.fired_at ?? null,
      resolved_at: previous?.resolved_at ?? null,
      resolved_reason: previous?.resolved_reason ?? null,
      drift:
        sameScorer && previous!.drift
          ? { cusum: previous!.drift.cusum, seen: { n: 0, x: 0, sum: 0, sumsq: 0 } }
          : null,
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
    const gone = goneReason(input, state)
    const ok = healthy(input, plan)
    state.consecutive_healthy = ok ? state.consecutive_healthy + 1 : 0
    if (gone || (ok && state.consecutive_healthy >= settings.resolve_evaluations)) {
      const wasPaged = !state.suppressed
      const resolved: RuleState = {
        ...freshState(input, plan, now),
        status: 'resolved',
        fired_at: state.fired_at,
        resolved_at: now,
        last: state.last,
        resolved_reason: gone?.reason ?? 'healthy',
      }
      return {
        state: resolved,
        transition: wasPaged ? 'resolve' : null,
        numbers: {
          ...base,
          message: gone
            ? `${base.message}; ${gone.message}, resolved`
            : `${base.message}; healthy for ${state.consecutive_healthy} evaluations, resolved`,
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
    // The change detector still consumes what arrived, so its bins stay one look wide.
    if (plan.kind === 'drift' && plan.tail === undefined && (baseline?.n ?? 0) >= minSamples) {
      state = step(input, plan, state).state
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

  const { decision, state: stepped } = step(input, plan, state)
  state = stepped
  const numbers = describe(input, plan, decision)
  const fire = decision.fire
  state.consecutive_fire = fire ? state.consecutive_fire + 1 : 0
  if (!fire) {
    // Healthy traffic of a version that is still marked gone keeps the resolve reason (its verdict stays fail).
    const reason = state.resolved_reason ?? null
    return {
      state: {
        ...state,
        status: state.status === 'resolved' ? 'resolved' : 'ok',
        resolved_reason: input.versionGone || reason === 'healthy' ? reason : null,
        last: numbers,
      },
      transition: null,
      numbers,
    }
  }
  // An always-valid p-value is a running minimum: once it has crossed α it stays crossed, and
  // its guarantee already covers every look, so holding it for more looks only adds delay.
  // pending_evaluations guards the change detector, whose statistic can fall back.
  const hold = plan.kind === 'drift' ? settings.pending_evaluations : 1
  if (state.consecutive_fire < hold) {
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
function describe(input: LookInput, plan: TestPlan, decision?: Decision): LookNumbers {
  const { candidate, baseline, rule } = input
  const alpha = 1 - plan.confidence
  const absolute = plan.comparison === 'above' || plan.comparison === 'below'
  const p = decision ? decision.pValue : null
  let ci_low: number | null = null
  let ci_high: number | null = null
  // The tail test's bound is on a share, not in the metric's units: not reported as an interval.
  if (
    decision &&
    Number.isFinite(decision.lowerBound) &&
    plan.kind !== 'tail' &&
    plan.kind !== 'rate_change'
  ) {
    // Lower confidence bound of the worsening, reported in the metric's own direction.
    if (plan.comparison === 'below') ci_high = -decision.lowerBound
    else ci_low = decision.lowerBound
  }
  const observed = decision?.observed ?? candidate.value
  const test = decision?.detail
    ? `, ${decision.detail}`
    : p === null
      ? ''
      : `, p=${p.toPrecision(2)} ${p <= alpha ? '<=' : '>'} ${fmt(alpha)}`
  const stat = `n=${count.format(candidate.n)}${baseline ? `, baseline n=${count.format(baseline.n)}` : ''}${test}`
  let message: string
  if (absolute) {
    const op = plan.comparison === 'above' ? '>' : '<'
    message = `${rule.metric} ${fmt(observed)} ${op} ${fmt(plan.threshold)} (${stat})`
  } else {
    const change = observed - (baseline?.value ?? 0)
    const what = plan.comparison.endsWith('_pct')
      ? `${fmt(plan.threshold)}% (${fmt(plan.margin)})`
      : fmt(plan.threshold)
    const since = decision?.observed !== undefined ? ' since the change point' : ''
    message = `${rule.metric} ${fmt(observed)}${since} vs baseline ${fmt(baseline?.value ?? 0)}: change ${change >= 0 ? '+' : ''}${fmt(change)}, limit ${plan.comparison.startsWith('increase') ? '+' : '-'}${what} (${stat})`
  }
  return {
    observed,
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
