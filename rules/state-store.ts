// Persists rule states in ClickHouse (rule_states), so evaluation survives restarts.

import type { Store } from '../store/store.ts'
import { clickhouseTime } from '../store/time.ts'
import type { RuleState } from './evaluate.ts'

export async function loadRuleStates(store: Store, rule?: string): Promise<Map<string, RuleState>> {
  const rows = await store.query<{ state: string }>(
    `SELECT argMax(state, updated_at) AS state FROM rule_states ${rule ? 'WHERE rule = {rule:String}' : ''} GROUP BY dedup_key`,
    rule ? { rule } : {},
  )
  const states = new Map<string, RuleState>()
  for (const row of rows) {
    const state = JSON.parse(row.state, reviveInfinity) as RuleState
    states.set(state.dedup_key, state)
  }
  return states
}

export async function saveRuleStates(store: Store, states: RuleState[]): Promise<void> {
  if (states.length === 0) return
  await store.insert(
    'rule_states',
    states.map((s) => ({
      dedup_key: s.dedup_key,
      rule: s.rule,
      metric: s.metric,
      ...s.scope,
      status: s.status,
      state: JSON.stringify(s, replaceInfinity),
      updated_at: clickhouseTime(s.updated_at),
    })),
  )
}

// JSON has no Infinity; the sequential state's lower bound starts at -Infinity.
function replaceInfinity(_key: string, value: unknown): unknown {
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity'
  if (value === Number.POSITIVE_INFINITY) return 'Infinity'
  return value
}

function reviveInfinity(_key: string, value: unknown): unknown {
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY
  if (value === 'Infinity') return Number.POSITIVE_INFINITY
  return value
}
