// The per-item decision of a model scoring run, pure (no I/O, clock passed in): score the
// item, skip it (the budget keeps only per-scope minimums), note it missing (its text left the
// store), or stop the run (aborted, model circuit open, a failed write, budget reached). The
// budget part asks the in-memory ScorerBudget whether the calls in flight plus this one fit.

import type { BudgetMode, ScorerBudget, TokenUsage } from '../scoring/budget.ts'
import { PRIORITY } from './sampler.ts'

export type StopReason = 'aborted' | 'circuit' | 'write_failed' | 'budget'

export type ItemAction =
  | { action: 'score' }
  | { action: 'skip' }
  | { action: 'missing' }
  | { action: 'stop'; reason: StopReason }

/** The parts of the budget the decision reads (ScorerBudget; pure, in memory). */
export type BudgetView = Pick<ScorerBudget, 'mode' | 'averageUsage' | 'canSpend'>

export interface ItemDecisionInput {
  aborted: boolean
  circuitOpen: boolean
  writeFailed: boolean
  /** Token estimate of this item's call; undefined when its text is no longer in the store. */
  estimate: TokenUsage | undefined
  priority: number
  /** Model calls already in flight (their cost is not recorded yet). */
  inflight: number
  budget: BudgetView
  now: Date
  /** The budget mode seen at the previous item ('normal' at the start of a run). */
  lastMode: BudgetMode
}

export interface ItemDecision {
  decision: ItemAction
  /** The budget mode to carry to the next item. */
  mode: BudgetMode
  /** Budget changes to log, in order: degraded to the per-scope minimums, then stopped. */
  announce: Array<'minimum_only' | 'stopped'>
}

export function decideItem(input: ItemDecisionInput): ItemDecision {
  const { lastMode } = input
  const unchanged = { mode: lastMode, announce: [] }
  if (input.aborted) return { decision: { action: 'stop', reason: 'aborted' }, ...unchanged }
  if (input.circuitOpen) return { decision: { action: 'stop', reason: 'circuit' }, ...unchanged }
  if (input.writeFailed) return { decision: { action: 'stop', reason: 'write_failed' }, ...unchanged }
  if (input.estimate === undefined) return { decision: { action: 'missing' }, ...unchanged }

  const { budget, now } = input
  const mode = budget.mode(now)
  const announce: ItemDecision['announce'] =
    mode !== lastMode && mode === 'minimum_only' ? ['minimum_only'] : []
  const perCall = budget.averageUsage(input.estimate, now)
  const calls = input.inflight + 1
  const fits = budget.canSpend(
    { promptTokens: perCall.promptTokens * calls, completionTokens: perCall.completionTokens * calls },
    now,
  )
  // Said once, with the numbers, whether the cap is reached or the next calls would cross it.
  if (mode === 'stopped' || !fits)
    return { decision: { action: 'stop', reason: 'budget' }, mode, announce: [...announce, 'stopped'] }
  if (mode === 'minimum_only' && input.priority !== PRIORITY.minimum)
    return { decision: { action: 'skip' }, mode, announce }
  return { decision: { action: 'score' }, mode, announce }
}
