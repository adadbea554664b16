// The shape of one alert decision, as the rule evaluator hands it to the emitter: the one
// contract between "deciding" (rules + statistics) and "telling" (PagerDuty, webhook, Kafka).
// Every sink payload is derived from this object and nothing else, so what pages someone and
// what rolls a deploy back are always the same numbers.

import { createHash } from 'node:crypto'
import { z } from 'zod'
import { type Scope, ScopeSchema } from '../contract/scope.ts'
import { DriftwatchError } from '../lib/errors.ts'
import { RuleActionSchema } from '../rules/schema.ts'

/** What the rule asks for (the rule's action); decides severity and which sinks hear about it (see emitter.ts). */
export const AlertActionSchema = RuleActionSchema
export type AlertAction = z.infer<typeof AlertActionSchema>

export const AlertStateSchema = z.enum(['firing', 'resolved'])
export type AlertState = z.infer<typeof AlertStateSchema>

/** PagerDuty's limit for dedup_key; the same key is used on every sink. */
export const DEDUP_KEY_MAX = 255

const isoTime = z.iso.datetime({ offset: true })
export const AlertWindowSchema = z.strictObject({ start: isoTime, end: isoTime })
export type AlertWindow = z.infer<typeof AlertWindowSchema>

const exposureSide = z.strictObject({ failures_per_day: z.number(), usd_per_day: z.number() }).nullable()

/**
 * Money at risk of the judged scope (config `exposure:`, metrics/exposure.ts): the candidate's
 * observed failure rate and the baseline's, times the slice's measured daily traffic and the
 * cost of one failure. Present only when `exposure:` prices the scope's segment and metric.
 */
export const AlertExposureSchema = z.strictObject({
  usd_per_failure: z.number().min(0),
  /** Measured interactions per day in the scope's segment x modality. */
  daily_traffic: z.number().min(0),
  candidate: exposureSide,
  baseline: exposureSide,
  /** Candidate minus baseline, USD per day; null without a baseline. */
  delta_usd_per_day: z.number().nullable(),
})
export type AlertExposure = z.infer<typeof AlertExposureSchema>

export const AlertSchema = z
  .strictObject({
    /** Rule name from driftwatch.yaml. */
    rule: z.string().min(1),
    /** Metric name from the metric registry, e.g. `hallucination_rate`. */
    metric: z.string().min(1),
    action: AlertActionSchema,
    scope: ScopeSchema,
    /** `firing` opens (or re-sends) the incident; `resolved` closes the one with the same dedup_key. */
    state: AlertStateSchema,
    /** Model name for the scope when known (PagerDuty `component`); absent → `'llm'`. */
    model_name: z.string().min(1).optional(),
    /** Metric value in the window. */
    observed: z.number(),
    /** Baseline value (last stable or trailing window); null for absolute thresholds. */
    baseline: z.number().nullable(),
    /** The number the rule compares against, in the unit `comparison` implies (absolute, delta, or %). */
    threshold: z.number(),
    /** How observed is compared: `above`, `below`, `increase_by`, `increase_by_pct`, `decrease_by`, … */
    comparison: z.string().min(1),
    /** p-value of the (sequential) test; null for rules without a statistical test. */
    p_value: z.number().min(0).max(1).nullable(),
    /** Confidence level the rule requires, e.g. 0.99. */
    confidence: z.number().gt(0).lt(1),
    /** Confidence interval of observed (or of the change, for compare_to rules); null when not computed. */
    ci_low: z.number().nullable(),
    ci_high: z.number().nullable(),
    /** Sample size behind observed. */
    n: z.number().int().nonnegative(),
    /** Sample size behind baseline; null when there is no baseline. */
    baseline_n: z.number().int().nonnegative().nullable(),
    window: AlertWindowSchema,
    /** The version being judged (the one to roll back from). */
    from_version: z.string().min(1),
    /** Last stable version (the rollback target); null when there is none. */
    to_version: z.string().min(1).nullable(),
    /** When this incident started firing. Unchanged on the resolve, so (dedup_key, fired_at) names one incident. */
    fired_at: isoTime,
    /** When it became healthy again; required when state is `resolved`, null while firing. */
    resolved_at: isoTime.nullable(),
    /** Stable per rule × scope × version; see dedupKey(). */
    dedup_key: z.string().min(1).max(DEDUP_KEY_MAX),
    /** SQL a person can run to get the same numbers (every number that pages someone is reproducible). */
    reproduce_sql: z.string().min(1),
    /** Which limit was crossed, with the numbers: "hallucination_rate 0.021 > 0.01 (n=1,204, p=0.0003 < 0.01)". */
    message: z.string().min(1),
    /** Dollars at risk, when `exposure:` covers the scope and metric (alerts/exposure.ts). */
    exposure: AlertExposureSchema.optional(),
  })
  .superRefine((alert, ctx) => {
    if (alert.state === 'resolved' && alert.resolved_at === null) {
      ctx.addIssue({ code: 'custom', path: ['resolved_at'], message: 'required when state is "resolved"' })
    }
    if (alert.state === 'firing' && alert.resolved_at !== null) {
      ctx.addIssue({ code: 'custom', path: ['resolved_at'], message: 'must be null while state is "firing"' })
    }
    if (alert.ci_low !== null && alert.ci_high !== null && alert.ci_low > alert.ci_high) {
      ctx.addIssue({
        code: 'custom',
        path: ['ci_low'],
        message: `ci_low ${alert.ci_low} > ci_high ${alert.ci_high}`,
      })
    }
    if (Date.parse(alert.window.start) > Date.parse(alert.window.end)) {
      ctx.addIssue({ code: 'custom', path: ['window', 'start'], message: 'window.start is after window.end' })
    }
  })
export type Alert = z.infer<typeof AlertSchema>

/**
 * Validates an alert decision; throws a non-retriable DriftwatchError naming every bad path,
 * because a malformed decision is a bug in the evaluator and retrying cannot fix it.
 */
export function parseAlert(input: unknown): Alert {
  const result = AlertSchema.safeParse(input)
  if (result.success) return result.data
  const paths = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
  throw new DriftwatchError('ALERT_INVALID', `invalid alert decision: ${paths}`, {
    fix: 'the rule evaluator must emit alerts matching AlertSchema in alerts/alert.ts',
  })
}

/**
 * Stable key for one incident: rule × scope × version, identical across evaluations, processes
 * and restarts, so a re-sent trigger updates the open PagerDuty incident instead of paging again.
 * `version` is the version being judged (from_version); scope.model_version is not repeated.
 * Parts are percent-encoded so a ':' inside a rule or segment name cannot make two scopes
 * collide, and the key stays ASCII (PagerDuty counts characters; ASCII makes that unambiguous).
 * Keys longer than 255 keep a readable prefix and end in a SHA-256 of the full key.
 */
export function dedupKey(rule: string, scope: Scope, version: string): string {
  const parts = [rule, version, scope.variant_id, scope.segment, scope.modality].map(encodePart)
  const full = `driftwatch:${parts.join(':')}`
  if (full.length <= DEDUP_KEY_MAX) return full
  const hash = createHash('sha256').update(full).digest('hex')
  return `${full.slice(0, DEDUP_KEY_MAX - hash.length - 1)}:${hash}`
}

function encodePart(value: string): string {
  // encodeURIComponent keeps '*' and [A-Za-z0-9-_.!~'()] readable and escapes ':' and '%'.
  return encodeURIComponent(value)
}

/** The exposure block every sink carries (PagerDuty custom_details, webhook, Kafka), or nothing. */
export function alertExposureDetails(alert: Alert): { exposure?: AlertExposure } {
  return alert.exposure ? { exposure: alert.exposure } : {}
}

/**
 * The numbers of a decision, in one place: every sink (PagerDuty custom_details, the rollback
 * trigger, the alerts table) carries exactly these.
 */
export function alertNumbers(alert: Alert) {
  return {
    comparison: alert.comparison,
    observed: alert.observed,
    baseline: alert.baseline,
    threshold: alert.threshold,
    p_value: alert.p_value,
    confidence: alert.confidence,
    ci_low: alert.ci_low,
    ci_high: alert.ci_high,
    n: alert.n,
    baseline_n: alert.baseline_n,
  }
}
