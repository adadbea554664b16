// Model spend on the ledger (scoring_spend) and the daily budget built from it. The budget
// arithmetic is scoring/budget.ts (ScorerBudget); this module gives it today's counters back
// after a restart (summed from the ledger for today's UTC date) and writes what a run spends.

import {
  type BudgetConfig,
  type BudgetState,
  ScorerBudget,
  type TokenUsage,
  utcDay,
} from '../scoring/budget.ts'
import type { Store } from '../store/store.ts'

export interface ScorerBudgetSettings {
  tokens_per_day?: number
  usd_per_day?: number
  price_per_1k_prompt_tokens: number
  price_per_1k_completion_tokens: number
  degrade_at: number
}

export function budgetConfig(settings: ScorerBudgetSettings): BudgetConfig {
  return {
    tokensPerDay: settings.tokens_per_day,
    usdPerDay: settings.usd_per_day,
    pricePer1kPromptUsd: settings.price_per_1k_prompt_tokens,
    pricePer1kCompletionUsd: settings.price_per_1k_completion_tokens,
    // ScorerBudget keeps a reserve for the minimum; driftwatch.yaml says where degrading starts.
    minimumReserve: 1 - settings.degrade_at,
  }
}

/** Today's spend of one scorer (every scorer version), from the ledger. */
export async function loadBudgetState(store: Store, scorer: string, now: number): Promise<BudgetState> {
  const day = utcDay(new Date(now))
  const rows = await store.query<{
    requests: number
    prompt_tokens: number
    completion_tokens: number
    cost_usd: number
  }>(
    `SELECT sum(requests) AS requests, sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
       sum(cost_usd) AS cost_usd
     FROM scoring_spend FINAL WHERE day = {day:Date} AND scorer = {scorer:String}`,
    { day, scorer },
  )
  const r = rows[0]
  return {
    day,
    promptTokens: Number(r?.prompt_tokens ?? 0),
    completionTokens: Number(r?.completion_tokens ?? 0),
    usd: Number(r?.cost_usd ?? 0),
    calls: Number(r?.requests ?? 0),
    scoredByStratum: {},
    lastMode: 'normal',
  }
}

export async function openBudget(
  store: Store,
  scorer: string,
  settings: ScorerBudgetSettings,
  now: number,
): Promise<ScorerBudget> {
  return new ScorerBudget(scorer, budgetConfig(settings), await loadBudgetState(store, scorer, now))
}

/** Spend accumulated between two flushes of a run, written as one ledger row per UTC day. */
export interface SpendLedger {
  /** The whole run's spend so far. */
  readonly totals: { requests: number; promptTokens: number; completionTokens: number; usd: number }
  add(usage: TokenUsage, usd: number, now: number): void
  /** Writes the spend added since the last flush (one row per UTC day). */
  flush(store: Pick<Store, 'insert'>): Promise<void>
}

export function createSpendLedger(scorer: string, scorerVersion: string, runId: string): SpendLedger {
  let pending = new Map<string, { requests: number; prompt: number; completion: number; usd: number }>()
  let seq = 0
  const totals = { requests: 0, promptTokens: 0, completionTokens: 0, usd: 0 }
  return {
    totals,
    add(usage: TokenUsage, usd: number, now: number) {
      const day = utcDay(new Date(now))
      const p = pending.get(day) ?? { requests: 0, prompt: 0, completion: 0, usd: 0 }
      p.requests++
      p.prompt += usage.promptTokens
      p.completion += usage.completionTokens
      p.usd += usd
      pending.set(day, p)
      totals.requests++
      totals.promptTokens += usage.promptTokens
      totals.completionTokens += usage.completionTokens
      totals.usd += usd
    },
    async flush(store) {
      if (pending.size === 0) return
      const rows = [...pending].map(([day, p]) => ({
        day,
        scorer,
        scorer_version: scorerVersion,
        run_id: runId,
        seq: ++seq,
        requests: p.requests,
        prompt_tokens: p.prompt,
        completion_tokens: p.completion,
        cost_usd: p.usd,
      }))
      await store.insert('scoring_spend', rows, { dedupToken: `scoring_spend:${runId}:${seq}` })
      pending = new Map()
    },
  }
}
