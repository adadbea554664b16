// The per-cycle history of every rule x scope look (table rule_evaluations, migration 009):
// written once per live evaluation cycle, after the states are decided, so a rule's page can
// chart the test's p-value, interval and n over time. A backtest never calls it: it must not
// change live state. Retention is the table's TTL.

import type { RuleState } from '../../rules/evaluate.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'

export const HISTORY_TABLE = 'rule_evaluations'

/** One row per look that has numbers (a look with no data has nothing to chart). */
export function evaluationRows(states: readonly RuleState[], now: number): Record<string, unknown>[] {
  return states
    .filter((s) => s.last !== null)
    .map((s) => {
      const last = s.last!
      return {
        evaluated_at: clickhouseTime(now),
        rule: s.rule,
        metric: s.metric,
        dedup_key: s.dedup_key,
        ...s.scope,
        status: s.status,
        observed: finite(last.observed) ?? 0,
        baseline: finite(last.baseline),
        threshold: finite(last.threshold) ?? 0,
        comparison: last.comparison,
        ci_low: finite(last.ci_low),
        ci_high: finite(last.ci_high),
        n: last.n,
        baseline_n: last.baseline_n,
        p_value: finite(last.p_value),
      }
    })
}

/** Appends the cycle's looks; one insert per cycle, deduplicated by cycle time on a retry. */
export async function recordEvaluations(
  store: Store,
  states: readonly RuleState[],
  now: number,
): Promise<number> {
  const rows = evaluationRows(states, now)
  if (rows.length > 0) await store.insert(HISTORY_TABLE, rows, { dedupToken: `rule_evaluations:${now}` })
  return rows.length
}

// JSON has no Infinity or NaN: a value that is not finite is stored as NULL.
function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null
}
