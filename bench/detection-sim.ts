// The simulation half of `npm run bench:detection`: seeded streams of judged samples (or
// request latencies), one look per simulated minute, and three detectors fed the very same
// numbers at every look:
//  - sequential: driftwatch's own evaluateLook with a real rule and the product's default
//    evaluation settings (min_samples, pending_evaluations, confidence) — cumulative data
//    since the start of the test period, as jobs/evaluate/cycle.ts measures it;
//  - fixed_threshold: the rule's limit checked on the last window (the fewest whole minutes
//    holding min_samples), firing at the first window over the limit;
//  - per_window_ttest: the fixed-sample test at the rule's alpha re-run at every look on the
//    cumulative data (one-sample z vs the threshold, two-proportion z vs the baseline, or a
//    z test on the quantile difference), firing at the first look with p <= alpha (and, for
//    change rules, the observed change beyond the limit, as the product requires).
// The two baselines are also run with the same pending_evaluations as the product, to show
// how much of the difference that one setting explains.

import type { Scope } from '../contract/scope.ts'
import { type MetricDefinition, metricDefinition } from '../metrics/registry.ts'
import { quantileBandwidth, type ScopeStats, toStats } from '../metrics/scope-stats.ts'
import { conditionOf, evaluateLook, type RuleState } from '../rules/evaluate.ts'
import { EvaluationSchema, type EvaluationSettings, type Rule, RuleSchema } from '../rules/schema.ts'
import { createRng, normalQuantile, type Rng, twoProportionZTest } from '../stats/index.ts'

/** The product's defaults: min_samples 300, pending_evaluations 2, confidence 0.99, 24h test period. */
export const SETTINGS: EvaluationSettings = EvaluationSchema.parse({})
export const SAMPLES_PER_MINUTE = 200
/** Stable version's 7-day baseline for compare_to: last_stable rules. */
export const BASELINE_N = 200_000
const MIN = 60_000
const LATENCY_MEDIAN_MS = 800
const LATENCY_SIGMA = 0.5

const CANDIDATE: Scope = {
  model_version: 'v2',
  variant_id: 'canary',
  segment: 'invoice_extraction',
  modality: 'text',
}
const BASELINE_SCOPE: Scope = { ...CANDIDATE, model_version: 'v1', variant_id: '*' }

export const DETECTORS = [
  'sequential',
  'fixed_threshold',
  'per_window_ttest',
  'fixed_threshold_pending',
  'per_window_ttest_pending',
] as const
export type DetectorName = (typeof DETECTORS)[number]

/** What one minute of traffic looks like: a rate, or log-normal latencies shifted by some ms. */
export type Source = { kind: 'rate'; p: number } | { kind: 'latency'; shiftMs: number }

export interface Scenario {
  id: string
  label: string
  rule: Rule
  /** Minutes of `before` traffic in the same scope (and test) before the change; 0 = a new version's scope. */
  preMinutes: number
  /** Minutes of `after` traffic (the horizon). */
  postMinutes: number
  /** false: no change worth an alert; every trigger is a false alarm. */
  change: boolean
  before: Source
  after: Source
  /** compare_to: last_stable: what the stable version's baseline is drawn from. */
  baseline?: Source
  runs: number
  seed: number
}

export interface DetectorResult {
  /** Per run: interactions after the change up to the look that fired (Infinity: never). */
  delayEvents: number[]
  delaySeconds: number[]
  /** Runs that fired before the change (drift scenarios), or at all (stable scenarios). */
  alarms: number
}

export interface ScenarioResult {
  scenario: Scenario
  runs: number
  looks: number
  ms: number
  detectors: Record<DetectorName, DetectorResult>
}

export const rules = {
  hallucination: RuleSchema.parse({
    name: 'invoice-hallucination',
    metric: 'hallucination_rate',
    where: { segment: 'invoice_extraction' },
    above: 0.01,
    confidence: 0.99,
    min_samples: 300,
    action: 'rollback',
  }),
  refusal: RuleSchema.parse({
    name: 'refusal-increase',
    metric: 'refusal_rate',
    compare_to: 'last_stable',
    increase_by: 0.005,
    action: 'page',
  }),
  p99: RuleSchema.parse({
    name: 'p99-latency-regression',
    metric: 'latency_p99_ms',
    compare_to: 'last_stable',
    increase_by: 200,
    confidence: 0.99,
    action: 'rollback',
  }),
}

// ---- streams -------------------------------------------------------------------------------

/** Cumulative and last-window statistics of one scope, as ClickHouse would return them. */
interface Tracker {
  add(rng: Rng, source: Source): number
  cumulative(): ScopeStats
  window(): ScopeStats
}

function rateTracker(metric: MetricDefinition, windowMinutes: number): Tracker {
  let n = 0
  let x = 0
  const recent: { n: number; x: number }[] = []
  return {
    add(rng, source) {
      const p = source.kind === 'rate' ? source.p : 0
      const m = minuteCount(rng)
      const k = rng.binomial(m, p)
      n += m
      x += k
      recent.push({ n: m, x: k })
      if (recent.length > windowMinutes) recent.shift()
      return m
    },
    cumulative: () => toStats(metric, { ...CANDIDATE, n, x }),
    window: () => {
      let wn = 0
      let wx = 0
      for (const r of recent) {
        wn += r.n
        wx += r.x
      }
      return toStats(metric, { ...CANDIDATE, n: wn, x: wx })
    },
  }
}

function latencyTracker(metric: MetricDefinition, windowMinutes: number): Tracker {
  let sorted: Float64Array = new Float64Array(0)
  const recent: Float64Array[] = []
  return {
    add(rng, source) {
      const shift = source.kind === 'latency' ? source.shiftMs : 0
      const m = minuteCount(rng)
      const minute = latencies(rng, m, shift).sort()
      sorted = mergeSorted(sorted, minute)
      recent.push(minute)
      if (recent.length > windowMinutes) recent.shift()
      return m
    },
    cumulative: () => quantileStats(metric, CANDIDATE, sorted),
    window: () => {
      const all = new Float64Array(recent.reduce((s, r) => s + r.length, 0))
      let at = 0
      for (const r of recent) {
        all.set(r, at)
        at += r.length
      }
      return quantileStats(metric, CANDIDATE, all.sort())
    },
  }
}

/** ~200 judged samples a minute (Binomial(400, ½): mean 200, sd 10). */
function minuteCount(rng: Rng): number {
  return rng.binomial(2 * SAMPLES_PER_MINUTE, 0.5)
}

function latencies(rng: Rng, n: number, shiftMs: number): Float64Array {
  const out = new Float64Array(n)
  const mu = Math.log(LATENCY_MEDIAN_MS)
  for (let i = 0; i < n; i++) out[i] = rng.logNormal(mu, LATENCY_SIGMA) + shiftMs
  return out
}

function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!
  while (i < a.length) out[k++] = a[i++]!
  while (j < b.length) out[k++] = b[j++]!
  return out
}

/** quantilesExact(p - h, p, p + h) as ClickHouse computes it (element floor(level · n)), then toStats. */
function quantileStats(metric: MetricDefinition, scope: Scope, sorted: Float64Array): ScopeStats {
  const p = (metric as { p: number }).p
  const h = quantileBandwidth(p)
  const n = sorted.length
  const at = (level: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(level * n))]!)
  return toStats(metric, { ...scope, n, qs: [at(p - h), at(p), at(p + h)] })
}

function drawBaseline(rng: Rng, metric: MetricDefinition, source: Source): ScopeStats {
  if (source.kind === 'rate') {
    return toStats(metric, { ...BASELINE_SCOPE, n: BASELINE_N, x: rng.binomial(BASELINE_N, source.p) })
  }
  return quantileStats(metric, BASELINE_SCOPE, latencies(rng, BASELINE_N, source.shiftMs).sort())
}

// ---- detectors -----------------------------------------------------------------------------

interface Look {
  now: number
  cumulative: ScopeStats
  window: ScopeStats
  baseline: ScopeStats | undefined
}

/** true while the detector is in a triggered state after this look. */
type Detector = (look: Look) => boolean

function sequentialDetector(rule: Rule, metric: MetricDefinition): Detector {
  let state: RuleState | undefined
  return (look) => {
    const r = evaluateLook(state, {
      rule,
      metric,
      settings: SETTINGS,
      now: look.now,
      dedupKey: 'bench',
      scorerVersion: 'bench@1',
      candidate: look.cumulative,
      baseline: look.baseline,
      recent: look.window,
      periodStart: 0,
    })
    state = r.state
    return r.state.status === 'firing'
  }
}

/** A condition that must hold on `pending` consecutive looks. */
function consecutive(pending: number, condition: (look: Look) => boolean): Detector {
  let run = 0
  return (look) => {
    run = condition(look) ? run + 1 : 0
    return run >= pending
  }
}

function fixedCondition(rule: Rule): (look: Look) => boolean {
  const { comparison, threshold } = conditionOf(rule)
  const minSamples = rule.min_samples ?? SETTINGS.min_samples
  return ({ window: w, baseline: b }) => {
    if (w.n < minSamples) return false
    if (comparison === 'above') return w.value > threshold
    if (comparison === 'increase_by')
      return b !== undefined && b.n >= minSamples && w.value - b.value > threshold
    throw new RangeError(`bench handles above and increase_by, not ${comparison}`)
  }
}

function testCondition(rule: Rule, metric: MetricDefinition): (look: Look) => boolean {
  const { comparison, threshold } = conditionOf(rule)
  const minSamples = rule.min_samples ?? SETTINGS.min_samples
  const alpha = 1 - (rule.confidence ?? SETTINGS.confidence)
  const zAlpha = normalQuantile(1 - alpha)
  return ({ cumulative: c, baseline: b }) => {
    if (c.n < minSamples) return false
    if (comparison === 'above' && metric.kind === 'rate') {
      // One-sample z vs the threshold, H0: rate <= threshold.
      return (c.value - threshold) / Math.sqrt((threshold * (1 - threshold)) / c.n) >= zAlpha
    }
    if (comparison !== 'increase_by' || b === undefined || b.n < minSamples) return false
    const d = c.value - b.value
    if (!(d > threshold)) return false
    if (metric.kind === 'rate') {
      const z = twoProportionZTest({
        baseline: { x: Math.round(b.x), n: b.n },
        candidate: { x: Math.round(c.x), n: c.n },
        alternative: 'greater',
      })
      return z.pValue <= alpha
    }
    return d / Math.sqrt(c.standardError ** 2 + b.standardError ** 2) >= zAlpha
  }
}

// ---- running -------------------------------------------------------------------------------

export function runScenario(s: Scenario): ScenarioResult {
  const started = performance.now()
  const metric = metricDefinition(s.rule.metric)
  const minSamples = s.rule.min_samples ?? SETTINGS.min_samples
  const windowMinutes = Math.ceil(minSamples / SAMPLES_PER_MINUTE)
  const pending = SETTINGS.pending_evaluations
  const rng = createRng(s.seed)
  const detectors = Object.fromEntries(
    DETECTORS.map((d) => [d, { delayEvents: [], delaySeconds: [], alarms: 0 } as DetectorResult]),
  ) as Record<DetectorName, DetectorResult>
  let looks = 0
  for (let run = 0; run < s.runs; run++) {
    const tracker =
      metric.kind === 'rate' ? rateTracker(metric, windowMinutes) : latencyTracker(metric, windowMinutes)
    const baseline = s.baseline ? drawBaseline(rng, metric, s.baseline) : undefined
    const live: Record<DetectorName, Detector> = {
      sequential: sequentialDetector(s.rule, metric),
      fixed_threshold: consecutive(1, fixedCondition(s.rule)),
      per_window_ttest: consecutive(1, testCondition(s.rule, metric)),
      fixed_threshold_pending: consecutive(pending, fixedCondition(s.rule)),
      per_window_ttest_pending: consecutive(pending, testCondition(s.rule, metric)),
    }
    const firstAfter: Partial<Record<DetectorName, { events: number; seconds: number }>> = {}
    const alarmed = new Set<DetectorName>()
    let eventsAfter = 0
    const total = s.preMinutes + s.postMinutes
    for (let minute = 1; minute <= total; minute++) {
      const afterChange = minute > s.preMinutes
      const m = tracker.add(rng, afterChange ? s.after : s.before)
      if (afterChange) eventsAfter += m
      const look: Look = {
        now: minute * MIN,
        cumulative: tracker.cumulative(),
        window: tracker.window(),
        baseline,
      }
      looks++
      for (const name of DETECTORS) {
        const triggered = live[name](look)
        if (!triggered) continue
        if (!s.change || !afterChange) alarmed.add(name)
        else if (!firstAfter[name]) {
          firstAfter[name] = { events: eventsAfter, seconds: (minute - s.preMinutes) * 60 }
        }
      }
    }
    for (const name of DETECTORS) {
      const r = detectors[name]
      if (alarmed.has(name)) r.alarms++
      r.delayEvents.push(firstAfter[name]?.events ?? Number.POSITIVE_INFINITY)
      r.delaySeconds.push(firstAfter[name]?.seconds ?? Number.POSITIVE_INFINITY)
    }
  }
  return { scenario: s, runs: s.runs, looks, ms: performance.now() - started, detectors }
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

/** Order-statistic quantile; Infinity (not detected) sorts last. */
export function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const at = p * (sorted.length - 1)
  const lo = Math.floor(at)
  const a = sorted[lo]!
  const b = sorted[Math.ceil(at)]!
  return Number.isFinite(b) ? a + (b - a) * (at - lo) : b
}

export function detectionRate(r: DetectorResult): number {
  return r.delayEvents.filter(Number.isFinite).length / r.delayEvents.length
}
