// The zod schema of drift rules and of their evaluation settings (driftwatch.yaml `rules:`
// and `evaluation:`). A rule is one numeric trigger: a metric, a scope filter, a condition
// (absolute, or a change against a baseline), a confidence and an action.

import { z } from 'zod'
import { ScopeWhereSchema } from '../contract/scope.ts'
import { durationSchema } from '../lib/duration.ts'
import { METRIC_NAMES, METRICS } from '../metrics/registry.ts'

export const RuleSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'letters, digits, _ . - only'),
    metric: z.enum(METRIC_NAMES as [string, ...string[]], {
      error: () => `unknown metric; one of ${METRIC_NAMES.join(', ')}`,
    }),
    /** Scope filter: only scopes matching every given key are evaluated. */
    where: ScopeWhereSchema.default({}),
    /** Absolute triggers, in the metric's unit (a rate as a share: 0.01 = 1 %). */
    above: z.number().optional(),
    below: z.number().optional(),
    /** Baseline for change triggers: the last stable version, or the same version's trailing window. */
    compare_to: z
      .union([z.literal('last_stable'), z.object({ trailing: durationSchema }).strict()])
      .optional(),
    increase_by: z.number().positive().optional(),
    increase_by_pct: z.number().positive().optional(),
    decrease_by: z.number().positive().optional(),
    decrease_by_pct: z.number().positive().optional(),
    /** One-sided; default evaluation.confidence. */
    confidence: z.number().gt(0.5).lt(1).optional(),
    /** Below this many samples in the candidate (and baseline) the rule is inconclusive. */
    min_samples: z.number().int().positive().optional(),
    action: z.enum(['rollback', 'page', 'ticket']).default('page'),
    /**
     * Scale of the change the sequential test is tuned to (metric units). Default: the margin
     * for change triggers and rates; a quarter of the threshold for absolute means/quantiles.
     */
    tau: z.number().positive().optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const conditions = (
      ['above', 'below', 'increase_by', 'increase_by_pct', 'decrease_by', 'decrease_by_pct'] as const
    ).filter((k) => rule[k] !== undefined)
    if (conditions.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `needs exactly one of above, below, increase_by, increase_by_pct, decrease_by, decrease_by_pct (got ${conditions.join(', ') || 'none'})`,
      })
      return
    }
    const change = conditions[0]!.includes('_by')
    if (change && !rule.compare_to) {
      ctx.addIssue({
        code: 'custom',
        path: ['compare_to'],
        message: `${conditions[0]} needs compare_to: last_stable or compare_to: { trailing: 7d }`,
      })
    }
    if (!change && rule.compare_to) {
      ctx.addIssue({
        code: 'custom',
        path: ['compare_to'],
        message: `${conditions[0]} is an absolute trigger; remove compare_to`,
      })
    }
    const metric = METRICS[rule.metric]
    const absolute = rule.above ?? rule.below
    if (metric?.kind === 'rate' && absolute !== undefined && !(absolute > 0 && absolute < 1)) {
      ctx.addIssue({
        code: 'custom',
        path: [rule.above !== undefined ? 'above' : 'below'],
        message: 'a rate threshold is a share strictly between 0 and 1 (0.01 = 1 %)',
      })
    }
    if (metric?.kind !== 'rate' && absolute === 0 && rule.tau === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tau'],
        message: 'a threshold of 0 on a mean or quantile needs tau (the change size to detect)',
      })
    }
  })

export type Rule = z.output<typeof RuleSchema>

export const EvaluationSchema = z
  .object({
    /** node-cron schedule of the evaluation job. */
    schedule: z.string().default('* * * * *'),
    /** Default confidence of rules. */
    confidence: z.number().gt(0.5).lt(1).default(0.99),
    /** Default min_samples of rules. */
    min_samples: z.number().int().positive().default(300),
    /** Baseline window of compare_to: last_stable. */
    baseline_window: durationSchema.prefault('7d'),
    /**
     * A sequential test accumulates data from the start of its period (UTC-aligned) and
     * restarts with the next one; p-values are always valid within a period.
     */
    test_period: durationSchema.prefault('24h'),
    /** After firing, health is judged on this recent window. */
    resolve_window: durationSchema.prefault('15m'),
    /** Consecutive evaluations the trigger must hold before it fires (pending until then). */
    pending_evaluations: z.number().int().min(1).default(2),
    /** Consecutive healthy evaluations before a firing rule resolves. */
    resolve_evaluations: z.number().int().min(1).default(3),
    /** Healthy means this share inside the threshold (0.1: 10 % below it), so a metric on the line does not flap. */
    resolve_hysteresis: z.number().min(0).lt(1).default(0.1),
    /** After a resolve, the same incident does not page again for this long. */
    cooldown: durationSchema.prefault('30m'),
  })
  .strict()

export type EvaluationSettings = z.output<typeof EvaluationSchema>
