// The verdict for one model version, for deploy controllers (Argo Rollouts web metric,
// Flagger webhook): fail if any rule fires for it (or its incident closed because the version
// was rolled back, retired or lost its traffic), inconclusive while any rule is pending
// or has no conclusive look yet, pass otherwise. Pure: states in, verdict out.

import type { RuleState } from './evaluate.ts'

export type Verdict = 'pass' | 'fail' | 'inconclusive'

export interface VerdictReport {
  version: string
  verdict: Verdict
  /** Why, in one line, naming the rules behind it. */
  reason: string
  rules: {
    rule: string
    metric: string
    scope: RuleState['scope']
    status: RuleState['status']
    observed: number | null
    baseline: number | null
    threshold: number | null
    p_value: number | null
    n: number | null
    message: string | null
  }[]
}

export function computeVerdict(
  version: string,
  ruleNames: readonly string[],
  states: readonly RuleState[],
): VerdictReport {
  const mine = states.filter((s) => s.scope.model_version === version && ruleNames.includes(s.rule))
  const rules = mine.map((s) => ({
    rule: s.rule,
    metric: s.metric,
    scope: s.scope,
    status: s.status,
    observed: s.last?.observed ?? null,
    baseline: s.last?.baseline ?? null,
    threshold: s.last?.threshold ?? null,
    p_value: s.last?.p_value ?? null,
    n: s.last?.n ?? null,
    message: s.last?.message ?? null,
  }))
  // A version whose incident closed because it went away (rolled back, retired, no traffic)
  // never showed it was healthy: its verdict stays fail.
  const firing = mine.filter(
    (s) =>
      s.status === 'firing' ||
      (s.status === 'resolved' &&
        s.resolved_reason !== undefined &&
        s.resolved_reason !== null &&
        s.resolved_reason !== 'healthy'),
  )
  if (firing.length > 0) {
    return {
      version,
      verdict: 'fail',
      reason: `firing: ${[...new Set(firing.map((s) => s.rule))].join(', ')}`,
      rules,
    }
  }
  const pending = mine.filter((s) => s.status === 'pending')
  if (pending.length > 0) {
    return {
      version,
      verdict: 'inconclusive',
      reason: `pending: ${[...new Set(pending.map((s) => s.rule))].join(', ')}`,
      rules,
    }
  }
  const conclusive = new Set(
    mine.filter((s) => s.status === 'ok' || s.status === 'resolved').map((s) => s.rule),
  )
  const waiting = ruleNames.filter((r) => !conclusive.has(r))
  if (ruleNames.length === 0)
    return { version, verdict: 'inconclusive', reason: 'no rules configured', rules }
  if (waiting.length > 0) {
    return {
      version,
      verdict: 'inconclusive',
      reason: `not enough data yet for: ${waiting.join(', ')}`,
      rules,
    }
  }
  return { version, verdict: 'pass', reason: `all ${ruleNames.length} rules healthy`, rules }
}
