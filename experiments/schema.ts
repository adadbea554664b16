// The zod schema of driftwatch.yaml `experiments:`: an A/B test names its two arms, the
// goal metrics it must move (with their relative minimum detectable effect) and the
// guardrail metrics it must not worsen, its significance level, power and start.

import { z } from 'zod'
import { ScopeWhereSchema } from '../contract/scope.ts'
import { METRIC_NAMES } from '../metrics/registry.ts'

const metricName = z.enum(METRIC_NAMES as [string, ...string[]], {
  error: () => `unknown metric; one of ${METRIC_NAMES.join(', ')}`,
})

/** One arm: exactly one of variant_id, model_version, system_prompt_version. */
const ArmSchema = z
  .object({
    variant_id: z.string().min(1).optional(),
    model_version: z.string().min(1).optional(),
    system_prompt_version: z.string().min(1).optional(),
  })
  .strict()
  .refine((arm) => Object.keys(arm).length === 1, {
    message: 'name exactly one of variant_id, model_version, system_prompt_version, e.g. { variant_id: A }',
  })

const GoalSchema = z
  .object({
    metric: metricName,
    /** Relative minimum detectable effect: 0.05 = the goal must move by 5 % of the control value. */
    mde: z.number().positive(),
  })
  .strict()

const GuardrailSchema = z
  .object({
    metric: metricName,
    /** Largest acceptable worsening, absolute in the metric's unit; 0 = any significant worsening rejects. */
    max_increase: z.number().min(0).optional(),
    /** Largest acceptable worsening in % of the control value (15 = +15 %). */
    max_increase_pct: z.number().min(0).optional(),
  })
  .strict()
  .refine((g) => (g.max_increase === undefined) !== (g.max_increase_pct === undefined), {
    message: 'set exactly one of max_increase (absolute) or max_increase_pct (% of control)',
  })

export const ExperimentSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'letters, digits, _ . - only'),
    control: ArmSchema,
    treatment: ArmSchema,
    /** Optional scope filter (segment / modality / model_version / variant_id). */
    where: ScopeWhereSchema.default({}),
    goal: z.array(GoalSchema).min(1),
    guardrails: z.array(GuardrailSchema).default([]),
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    power: z.number().gt(0.5).lt(1).default(0.8),
    /** Designed traffic split, control : treatment (any positive weights). Checked by SRM. */
    split: z
      .object({ control: z.number().positive(), treatment: z.number().positive() })
      .strict()
      .default({ control: 1, treatment: 1 }),
    /** Interactions from this instant on belong to the experiment. */
    started_at: z.coerce.date(),
    /** Optional end: interactions after it are left out. */
    ended_at: z.coerce.date().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const [ck] = Object.keys(e.control)
    const [tk] = Object.keys(e.treatment)
    if (ck && tk && ck === tk) {
      const c = (e.control as Record<string, string>)[ck]
      const t = (e.treatment as Record<string, string>)[tk]
      if (c === t)
        ctx.addIssue({
          code: 'custom',
          path: ['treatment'],
          message: `is the same arm as control (${ck}: ${c}); for an A/A test use two variant ids served identically`,
        })
    }
    if (ck && tk && ck !== tk)
      ctx.addIssue({
        code: 'custom',
        path: ['treatment'],
        message: `control is chosen by ${ck} but treatment by ${tk}: use the same key for both arms`,
      })
    if (ck && ck in e.where)
      ctx.addIssue({
        code: 'custom',
        path: ['where', ck],
        message: `${ck} chooses the arms; it cannot also be a scope filter`,
      })
    const guarded = new Set<string>()
    e.guardrails.forEach((g, i) => {
      if (guarded.has(g.metric))
        ctx.addIssue({
          code: 'custom',
          path: ['guardrails', i, 'metric'],
          message: `${g.metric} listed twice`,
        })
      guarded.add(g.metric)
    })
    if (e.ended_at && e.ended_at <= e.started_at)
      ctx.addIssue({ code: 'custom', path: ['ended_at'], message: 'must be after started_at' })
  })

export type Experiment = z.output<typeof ExperimentSchema>
export type ExperimentArm = Experiment['control']
export type Guardrail = Experiment['guardrails'][number]
export type Goal = Experiment['goal'][number]

/** The column and value that choose an arm's interactions. */
export function armFilter(arm: ExperimentArm): { column: string; value: string } {
  const [column, value] = Object.entries(arm)[0] as [string, string]
  return { column, value }
}
