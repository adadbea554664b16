// Persists rule states in ClickHouse (rule_states), so evaluation survives restarts. The
// persisted form is versioned and validated on read (RuleStateSchema): a row that does not
// match is reported and skipped, never trusted and never a crash. Everything that reads
// states (the cycle, GET /verdict, `driftwatch status`, the demo) reads them through here.

import { z } from 'zod'
import { ScopeSchema } from '../../contract/scope.ts'
import { errorMessage } from '../../lib/errors.ts'
import { type Logger, silentLogger } from '../../lib/log.ts'
import type { LookNumbers, RuleState } from '../../rules/evaluate.ts'
import type { SequentialState } from '../../stats/index.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'

/** Written into every state as `state_version`; rows without it are from before versioning (same shape). */
export const RULE_STATE_VERSION = 1

// JSON has no Infinity or NaN. Numbers of the state are written as numbers when finite and as
// these strings otherwise; only number fields read them back, so a segment named "Infinity"
// stays a string.
const NON_FINITE = {
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  NaN: Number.NaN,
}
const num = z.union([z.number(), z.enum(['Infinity', '-Infinity', 'NaN']).transform((s) => NON_FINITE[s])])
const count = z.number().int().nonnegative()

const SequentialStateSchema = z.strictObject({
  looks: count,
  pValue: num,
  lowerBound: num.nullable(),
  margin: num,
  tau: num,
})

const LookNumbersSchema = z.strictObject({
  observed: num,
  baseline: num.nullable(),
  threshold: num,
  comparison: z.string(),
  n: num,
  baseline_n: num.nullable(),
  p_value: num.nullable(),
  ci_low: num.nullable(),
  ci_high: num.nullable(),
  message: z.string(),
})

export const RuleStateSchema = z.strictObject({
  state_version: z.literal(RULE_STATE_VERSION).optional(),
  dedup_key: z.string().min(1),
  rule: z.string().min(1),
  metric: z.string().min(1),
  scope: ScopeSchema,
  scorer_version: z.string(),
  status: z.enum(['inconclusive', 'ok', 'pending', 'firing', 'resolved']),
  started_at: num,
  seq: SequentialStateSchema,
  consecutive_fire: count,
  consecutive_healthy: count,
  fired_at: num.nullable(),
  resolved_at: num.nullable(),
  suppressed: z.boolean(),
  updated_at: num,
  last: LookNumbersSchema.nullable(),
  tail_threshold: num.nullable().optional(),
  rate_threshold: num.nullable().optional(),
  drift: z
    .strictObject({
      cusum: z.strictObject({ s: num, bins: count, n: num, x: num, sum: num, sumsq: num, looks: count }),
      seen: z.strictObject({ n: num, x: num, sum: num, sumsq: num }),
    })
    .nullable()
    .optional(),
  resolved_reason: z.enum(['healthy', 'rolled_back', 'retired', 'no_traffic']).nullable().optional(),
})

// The schema and the evaluator's types must describe the same object: a field added to one
// and not the other fails the typecheck here.
type Persisted = Omit<z.output<typeof RuleStateSchema>, 'state_version'>
const sameShape: [Persisted, RuleState, SequentialState, LookNumbers] extends [
  RuleState,
  Persisted,
  z.output<typeof SequentialStateSchema>,
  z.output<typeof LookNumbersSchema>,
]
  ? true
  : never = true
void sameShape

/** A rule_states row's `state` column → the state, or why it cannot be read. */
export function decodeRuleState(text: string): { ok: true; state: RuleState } | { ok: false; error: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { ok: false, error: `not JSON: ${errorMessage(error)}` }
  }
  const parsed = RuleStateSchema.safeParse(json)
  if (!parsed.success) {
    const version = (json as { state_version?: unknown } | null)?.state_version
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    return {
      ok: false,
      error:
        version !== undefined && version !== RULE_STATE_VERSION
          ? `state_version ${JSON.stringify(version)} is not ${RULE_STATE_VERSION} (written by another driftwatch version?): ${issues}`
          : issues,
    }
  }
  const { state_version: _, ...state } = parsed.data
  return { ok: true, state }
}

/** The state as the `state` column stores it (non-finite numbers spelled out, see NON_FINITE). */
export function encodeRuleState(state: RuleState): string {
  return JSON.stringify({ state_version: RULE_STATE_VERSION, ...state }, (_key, value: unknown) => {
    if (typeof value !== 'number' || Number.isFinite(value)) return value
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
  })
}

/** The newest row per dedup_key (of one rule when `rule` is a parameter); read-only. */
export function latestStatesSql(byRule: boolean): string {
  return `SELECT dedup_key, argMax(state, updated_at) AS state FROM rule_states ${
    byRule ? 'WHERE rule = {rule:String} ' : ''
  }GROUP BY dedup_key`
}

export interface StoredStateRow {
  dedup_key: string
  state: string
}

/** Validates rows of latestStatesSql(); an unreadable one is reported (log, `skipped`) and left out. */
export function readRuleStates(
  rows: StoredStateRow[],
  log: Logger = silentLogger,
): { states: Map<string, RuleState>; skipped: Array<{ dedup_key: string; error: string }> } {
  const states = new Map<string, RuleState>()
  const skipped: Array<{ dedup_key: string; error: string }> = []
  for (const row of rows) {
    const decoded = decodeRuleState(row.state)
    if (decoded.ok) {
      states.set(decoded.state.dedup_key, decoded.state)
      continue
    }
    skipped.push({ dedup_key: row.dedup_key, error: decoded.error })
    log.error('stored rule state unreadable; skipped (the scope starts a fresh test)', {
      table: 'rule_states',
      dedup_key: row.dedup_key,
      error: decoded.error,
    })
  }
  return { states, skipped }
}

export async function loadRuleStates(
  store: Store,
  rule?: string,
  log: Logger = silentLogger,
): Promise<Map<string, RuleState>> {
  const rows = await store.query<StoredStateRow>(
    latestStatesSql(rule !== undefined),
    rule !== undefined ? { rule } : {},
  )
  return readRuleStates(rows, log).states
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
      state: encodeRuleState(s),
      updated_at: clickhouseTime(s.updated_at),
    })),
  )
}

/** Where the cycle keeps rule states: ClickHouse for live cycles, memory for backtests. */
export interface RuleStateStore {
  load(rule?: string): Promise<Map<string, RuleState>>
  save(states: RuleState[]): Promise<void>
}

export function clickhouseRuleStates(store: Store, log?: Logger): RuleStateStore {
  return { load: (rule) => loadRuleStates(store, rule, log), save: (states) => saveRuleStates(store, states) }
}

/**
 * Rule states in memory (backtest): each save goes through the same encoding a live save
 * does, and each load through the same validation, so a backtest reads exactly what a
 * restarted live cycle would.
 */
export function memoryRuleStates(log: Logger = silentLogger): RuleStateStore {
  const saved = new Map<string, { rule: string; text: string }>()
  return {
    async load(rule) {
      const rows = [...saved.entries()]
        .filter(([, v]) => rule === undefined || v.rule === rule)
        .map(([dedup_key, v]) => ({ dedup_key, state: v.text }))
      return readRuleStates(rows, log).states
    },
    async save(states) {
      for (const s of states) saved.set(s.dedup_key, { rule: s.rule, text: encodeRuleState(s) })
    },
  }
}
