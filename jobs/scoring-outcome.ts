// What a model scoring run counted and how it is reported (pure): the tally kept while the run
// goes on, and the job outcome built from it (message, detail stored with the run).

import type { JudgeConfig, LlamaGuardConfig } from '../config/schema.ts'
import { scopeLabel } from '../contract/scope.ts'
import type { BudgetState } from '../scoring/budget.ts'
import type { CircuitState } from '../scoring/circuit-breaker.ts'
import { formatUsd } from './progress.ts'
import type { JobOutcome } from './registry.ts'
import type { WorkItem } from './scoring-selection.ts'
import type { SpendLedger } from './spend.ts'

export interface RunTally {
  scored: number
  failed: number
  /** Selected rows not scored because of the daily budget. */
  skipped: number
  /** Selected rows whose interaction is no longer in the store. */
  missing: number
  /** Rows left for the next run (aborted, or the model circuit opened). */
  left: number
  reviewQueued: number
  circuitOpen: boolean
  /** Position in the run's work where the budget first cut a row. */
  degradedAt: number | undefined
  failedByCode: Record<string, number>
  skippedByScope: Record<string, number>
}

export function createTally(): RunTally {
  return {
    scored: 0,
    failed: 0,
    skipped: 0,
    missing: 0,
    left: 0,
    reviewQueued: 0,
    circuitOpen: false,
    degradedAt: undefined,
    failedByCode: {},
    skippedByScope: {},
  }
}

/** Counts one row cut by the budget, by scope; `position` is its index in the run's work. */
export function tallySkip(tally: RunTally, item: WorkItem, position?: number): void {
  tally.skipped++
  const key = scopeLabel(item)
  tally.skippedByScope[key] = (tally.skippedByScope[key] ?? 0) + 1
  if (position !== undefined && tally.degradedAt === undefined) tally.degradedAt = position
}

export interface OutcomeInput {
  tally: RunTally
  scorer: string
  scorerVersion: string
  total: number
  windows: number
  selected: number
  retries: number
  spent: BudgetState
  ledger: SpendLedger
  settings: LlamaGuardConfig | JudgeConfig
  circuit: CircuitState
}

export function scoringOutcome(input: OutcomeInput): Omit<JobOutcome, 'status'> {
  const { tally, spent, settings, ledger } = input
  const topScopes = Object.entries(tally.skippedByScope)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
  const parts = [`${tally.scored} scored`, `${tally.failed} failed`]
  if (tally.skipped > 0) {
    parts.push(
      `${tally.skipped} selected rows not scored because the daily budget was reached` +
        ` (spent $${formatUsd(spent.usd)}${settings.usd_per_day ? ` of $${formatUsd(settings.usd_per_day)}` : ''},` +
        ` ${spent.promptTokens + spent.completionTokens} tokens${settings.tokens_per_day ? ` of ${settings.tokens_per_day}` : ''});` +
        ` sampling degraded to the per-scope minimum, then stopped`,
    )
  }
  if (tally.missing > 0) parts.push(`${tally.missing} interactions no longer in the store`)
  return {
    rowsDone: tally.scored + tally.failed,
    rowsTotal: input.total,
    spendUsd: ledger.totals.usd,
    message: `${input.scorer} ${input.scorerVersion}: ${parts.join(', ')}`,
    detail: {
      scorer_version: input.scorerVersion,
      windows: input.windows,
      selected: input.selected,
      retries: input.retries,
      scored: tally.scored,
      failed: tally.failed,
      failed_by_code: tally.failedByCode,
      skipped_budget: tally.skipped,
      skipped_by_scope: Object.fromEntries(topScopes),
      degraded_at_row: tally.degradedAt ?? null,
      missing: tally.missing,
      review_queued: tally.reviewQueued,
      run_spend: {
        requests: ledger.totals.requests,
        prompt_tokens: ledger.totals.promptTokens,
        completion_tokens: ledger.totals.completionTokens,
        usd: ledger.totals.usd,
      },
      budget: {
        day: spent.day,
        spent_usd: spent.usd,
        spent_tokens: spent.promptTokens + spent.completionTokens,
        usd_per_day: settings.usd_per_day ?? null,
        tokens_per_day: settings.tokens_per_day ?? null,
        degrade_at: settings.degrade_at,
      },
      circuit: input.circuit,
    },
  }
}
