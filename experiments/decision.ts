// The A/B-testing guide's decision matrix, as data: an ordered list of rules, the first that
// applies decides, and the report names it. Order = the guide's priorities: a broken split
// first (nothing can be trusted), then safety ("any significant safety regression is grounds
// for immediate rejection"), other guardrails, "don't stop early", then the goal and its MDE.

export type Decision = 'ship' | 'reject' | 'keep_running' | 'no_difference'

export type Verdict = 'better' | 'worse' | 'no_difference' | 'ok' | 'fail' | 'insufficient_data'

/** What the rules look at (built by analysis.ts). */
export interface DecisionFacts {
  readonly srm: { readonly p_value: number; readonly flagged: boolean }
  readonly plannedPerVariant: number | null
  /** Smallest goal-metric sample of the two arms (pooled over scopes). */
  readonly observedPerVariant: number
  readonly rows: readonly DecisionRow[]
}

export interface DecisionRow {
  readonly metric: string
  readonly role: 'goal' | 'guardrail'
  readonly segment: string
  readonly modality: string
  readonly rel_diff: number | null
  readonly verdict: Verdict
  /** Goals: the configured relative MDE. */
  readonly mde?: number
  /** Guardrails: set when the guardrail failed the sequential test before the planned size. */
  readonly early?: boolean
}

export interface DecisionRule {
  readonly rule: string
  readonly decision: Decision
  /** What the rule means, for docs and `experiment list`. */
  readonly description: string
  /** The reason when the rule applies, else null. */
  readonly test: (facts: DecisionFacts) => string | null
}

/** Metrics whose regression is a safety regression (the guide's "deal-breaker"). */
export const SAFETY_METRICS: ReadonlySet<string> = new Set(['unsafe_rate', 'hallucination_rate'])

const where = (r: DecisionRow) => `${r.metric} in ${r.segment}/${r.modality}`
const list = (rows: readonly DecisionRow[]) => rows.map(where).join(', ')

function goalMet(r: DecisionRow): boolean {
  return r.verdict === 'better' && r.rel_diff !== null && Math.abs(r.rel_diff) >= (r.mde ?? 0)
}

export const DECISION_MATRIX: readonly DecisionRule[] = [
  {
    rule: 'sample_ratio_mismatch',
    decision: 'keep_running',
    description:
      'the observed split differs from the design (SRM p < 0.001): no decision until assignment is fixed',
    test: (f) =>
      f.srm.flagged
        ? `decision blocked: sample ratio mismatch (chi-square p = ${f.srm.p_value.toExponential(2)} < 0.001); fix assignment or logging before reading any result`
        : null,
  },
  {
    rule: 'safety_regression',
    decision: 'reject',
    description: 'a safety metric (unsafe_rate, hallucination_rate) is significantly worse: reject at once',
    test: (f) => {
      const bad = f.rows.filter(
        (r) => SAFETY_METRICS.has(r.metric) && (r.verdict === 'fail' || r.verdict === 'worse'),
      )
      return bad.length ? `safety regression: ${list(bad)}` : null
    },
  },
  {
    rule: 'guardrail_regression',
    decision: 'reject',
    description:
      'a guardrail is worse than its limit (significantly; before the planned size by the always-valid test)',
    test: (f) => {
      const bad = f.rows.filter((r) => r.role === 'guardrail' && r.verdict === 'fail')
      return bad.length
        ? `guardrail beyond its limit: ${list(bad)}${bad.some((r) => r.early) ? ' (always-valid sequential test, before the planned size)' : ''}`
        : null
    },
  },
  {
    rule: 'planned_sample_not_reached',
    decision: 'keep_running',
    description: "don't stop early: below the planned sample size per variant the answer is keep_running",
    test: (f) =>
      f.plannedPerVariant === null || f.observedPerVariant < f.plannedPerVariant
        ? `don't stop early: ${f.observedPerVariant} of ${f.plannedPerVariant ?? '?'} planned per variant`
        : null,
  },
  {
    rule: 'goal_regression',
    decision: 'reject',
    description: 'a goal metric is significantly worse in some segment x modality',
    test: (f) => {
      const bad = f.rows.filter((r) => r.role === 'goal' && r.verdict === 'worse')
      return bad.length ? `goal metric worse: ${list(bad)}` : null
    },
  },
  {
    rule: 'goal_met',
    decision: 'ship',
    description:
      'every goal metric is significantly better by at least its MDE in some segment x modality, guardrails kept',
    test: (f) => {
      const goals = [...new Set(f.rows.filter((r) => r.role === 'goal').map((r) => r.metric))]
      if (goals.length === 0) return null
      const met = goals.map((g) => f.rows.filter((r) => r.role === 'goal' && r.metric === g && goalMet(r)))
      if (met.some((m) => m.length === 0)) return null
      return `goal met, guardrails kept: ${met.map((m) => list(m)).join('; ')}`
    },
  },
  {
    rule: 'goal_below_mde',
    decision: 'no_difference',
    description: 'planned size reached, no goal moved by its MDE significantly: no difference worth shipping',
    test: (f) => {
      const better = f.rows.filter((r) => r.role === 'goal' && r.verdict === 'better')
      return better.length
        ? `goal better but below its MDE: ${list(better)}`
        : 'no significant difference in any goal metric at the planned sample size'
    },
  },
]

export function decide(facts: DecisionFacts): { decision: Decision; rule: string; reason: string } {
  for (const rule of DECISION_MATRIX) {
    const reason = rule.test(facts)
    if (reason !== null)
      return { decision: rule.decision, rule: rule.rule, reason: `${rule.rule}: ${reason}` }
  }
  // goal_below_mde always applies; kept for the type checker.
  throw new Error('decision matrix has no default rule')
}
