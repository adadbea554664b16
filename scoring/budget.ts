// Per-scorer daily cost control, pure (no I/O, clock passed in): counts tokens and USD per
// UTC day, answers "may I spend this?", and degrades sampling by stratum when money runs
// low — first only each stratum's daily minimum is scored, then scoring stops until the next
// UTC day. Every answer is a structured decision the job logs and stores, so a gap in scores
// is always explained ("budget", not "bug").

import type { TokenUsage } from './errors.ts'

export type { TokenUsage }

export interface BudgetConfig {
  /** Daily cap on prompt + completion tokens; undefined = no token cap. */
  tokensPerDay?: number
  /** Daily cap in USD, computed from the prices below; undefined = no USD cap. */
  usdPerDay?: number
  /** USD per 1000 prompt tokens (0 for a self-hosted model). */
  pricePer1kPromptUsd?: number
  /** USD per 1000 completion tokens. */
  pricePer1kCompletionUsd?: number
  /**
   * Share of each daily cap kept for per-stratum minimums (0..1). Normal sampling may spend up
   * to (1 - reserve) of the cap; after that only strata below their minimum are scored.
   */
  minimumReserve?: number
  /** Items per stratum per UTC day that are still scored once normal sampling is cut. */
  minPerStratum?: number
}

export const BUDGET_DEFAULTS = { minimumReserve: 0.2, minPerStratum: 20 } as const

export type BudgetMode = 'normal' | 'minimum_only' | 'stopped'

/** Serializable state; store it to survive restarts within a day. */
export interface BudgetState {
  /** UTC date the counters belong to, YYYY-MM-DD. */
  day: string
  promptTokens: number
  completionTokens: number
  usd: number
  calls: number
  /** Items scored today per stratum (scope key chosen by the job). */
  scoredByStratum: Record<string, number>
  /** Mode at the last decision, to report transitions once. */
  lastMode: BudgetMode
}

export type BudgetReason =
  | 'within_budget'
  | 'stratum_below_minimum'
  | 'stratum_minimum_met'
  | 'budget_exhausted'
  | 'estimate_exceeds_budget'

export interface BudgetDecision {
  scorer: string
  day: string
  stratum: string
  action: 'score' | 'skip'
  mode: BudgetMode
  reason: BudgetReason
  /** Set when the mode differs from the previous decision (log it once, loudly). */
  transition: { from: BudgetMode; to: BudgetMode } | null
  /** The counters were reset because a new UTC day began. */
  rolledOver: boolean
  spent: { tokens: number; usd: number }
  limits: { tokensPerDay: number | null; usdPerDay: number | null }
  /** max(tokens/tokensPerDay, usd/usdPerDay); 0 when no cap is set. */
  usedFraction: number
  scoredInStratum: number
  minPerStratum: number
  /** One human sentence for logs and the stored decision row. */
  message: string
}

export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10)
}

export function emptyBudgetState(now: Date): BudgetState {
  return {
    day: utcDay(now),
    promptTokens: 0,
    completionTokens: 0,
    usd: 0,
    calls: 0,
    scoredByStratum: {},
    lastMode: 'normal',
  }
}

export class ScorerBudget {
  private state: BudgetState
  private readonly reserve: number
  private readonly minPerStratum: number

  constructor(
    readonly scorer: string,
    private readonly config: BudgetConfig,
    state?: BudgetState,
  ) {
    for (const key of [
      'tokensPerDay',
      'usdPerDay',
      'pricePer1kPromptUsd',
      'pricePer1kCompletionUsd',
    ] as const) {
      const value = config[key]
      if (value !== undefined && !(value >= 0)) throw new RangeError(`budget ${key} must be >= 0`)
    }
    this.reserve = config.minimumReserve ?? BUDGET_DEFAULTS.minimumReserve
    if (!(this.reserve >= 0 && this.reserve <= 1))
      throw new RangeError('budget minimumReserve must be within 0..1')
    this.minPerStratum = config.minPerStratum ?? BUDGET_DEFAULTS.minPerStratum
    this.state = state ? structuredClone(state) : { ...emptyBudgetState(new Date(0)), day: '' }
  }

  /** USD cost of a usage at the configured prices. */
  costUsd(usage: TokenUsage): number {
    return (
      (usage.promptTokens / 1000) * (this.config.pricePer1kPromptUsd ?? 0) +
      (usage.completionTokens / 1000) * (this.config.pricePer1kCompletionUsd ?? 0)
    )
  }

  /** True when spending `estimate` today keeps every cap (the whole cap, reserve included). */
  canSpend(estimate: TokenUsage, now: Date): boolean {
    this.rollover(now)
    const { tokensPerDay, usdPerDay } = this.config
    if (
      tokensPerDay !== undefined &&
      this.tokens() + estimate.promptTokens + estimate.completionTokens > tokensPerDay
    ) {
      return false
    }
    if (usdPerDay !== undefined && this.state.usd + this.costUsd(estimate) > usdPerDay) return false
    return true
  }

  /**
   * Records real usage (from the model's `usage`), including failed scorings that still cost
   * tokens. `stratum` counts one scored item for the minimum; omit it for a failure.
   */
  record(usage: TokenUsage, now: Date, stratum?: string): void {
    this.rollover(now)
    this.state.promptTokens += usage.promptTokens
    this.state.completionTokens += usage.completionTokens
    this.state.usd += this.costUsd(usage)
    this.state.calls++
    if (stratum !== undefined)
      this.state.scoredByStratum[stratum] = (this.state.scoredByStratum[stratum] ?? 0) + 1
  }

  mode(now: Date): BudgetMode {
    this.rollover(now)
    return this.modeFor(this.usedFraction())
  }

  /** Average usage per recorded call today, or `fallback` before the first call. */
  averageUsage(fallback: TokenUsage, now: Date): TokenUsage {
    this.rollover(now)
    if (this.state.calls === 0) return fallback
    return {
      promptTokens: Math.ceil(this.state.promptTokens / this.state.calls),
      completionTokens: Math.ceil(this.state.completionTokens / this.state.calls),
    }
  }

  /** Whether to score one item of `stratum` whose cost is about `estimate`. */
  decide(stratum: string, estimate: TokenUsage, now: Date): BudgetDecision {
    const rolledOver = this.rollover(now)
    const usedFraction = this.usedFraction()
    const mode = this.modeFor(usedFraction)
    const scoredInStratum = this.state.scoredByStratum[stratum] ?? 0
    let action: 'score' | 'skip'
    let reason: BudgetReason
    if (mode === 'stopped') {
      action = 'skip'
      reason = 'budget_exhausted'
    } else if (mode === 'minimum_only' && scoredInStratum >= this.minPerStratum) {
      action = 'skip'
      reason = 'stratum_minimum_met'
    } else if (!this.canSpend(estimate, now)) {
      action = 'skip'
      reason = 'estimate_exceeds_budget'
    } else {
      action = 'score'
      reason = mode === 'minimum_only' ? 'stratum_below_minimum' : 'within_budget'
    }
    const transition = mode === this.state.lastMode ? null : { from: this.state.lastMode, to: mode }
    this.state.lastMode = mode
    const { tokensPerDay, usdPerDay } = this.config
    return {
      scorer: this.scorer,
      day: this.state.day,
      stratum,
      action,
      mode,
      reason,
      transition,
      rolledOver,
      spent: { tokens: this.tokens(), usd: round6(this.state.usd) },
      limits: { tokensPerDay: tokensPerDay ?? null, usdPerDay: usdPerDay ?? null },
      usedFraction: round6(usedFraction),
      scoredInStratum,
      minPerStratum: this.minPerStratum,
      message: this.describe(mode, reason, usedFraction, stratum, scoredInStratum),
    }
  }

  snapshot(): BudgetState {
    return structuredClone(this.state)
  }

  private tokens(): number {
    return this.state.promptTokens + this.state.completionTokens
  }

  private usedFraction(): number {
    const { tokensPerDay, usdPerDay } = this.config
    let used = 0
    // A cap of 0 means "spend nothing": fully used from the start.
    if (tokensPerDay !== undefined)
      used = Math.max(used, tokensPerDay === 0 ? 1 : this.tokens() / tokensPerDay)
    if (usdPerDay !== undefined) used = Math.max(used, usdPerDay === 0 ? 1 : this.state.usd / usdPerDay)
    return used
  }

  private modeFor(usedFraction: number): BudgetMode {
    if (usedFraction >= 1) return 'stopped'
    if (usedFraction >= 1 - this.reserve) return 'minimum_only'
    return 'normal'
  }

  /** Resets the counters when `now` is on a later UTC day; true when it did. */
  private rollover(now: Date): boolean {
    const day = utcDay(now)
    if (day === this.state.day) return false
    // A clock going backwards (another replica, NTP) does not resurrect yesterday's counters.
    if (this.state.day !== '' && day < this.state.day) return false
    const first = this.state.day === ''
    this.state = { ...emptyBudgetState(now), lastMode: this.state.lastMode }
    return !first
  }

  private describe(
    mode: BudgetMode,
    reason: BudgetReason,
    usedFraction: number,
    stratum: string,
    scored: number,
  ): string {
    const pct = `${Math.round(usedFraction * 100)}%`
    switch (reason) {
      case 'within_budget':
        return `${this.scorer}: ${pct} of today's budget used; scoring normally`
      case 'stratum_below_minimum':
        return `${this.scorer}: ${pct} of today's budget used; sampling degraded to the per-stratum minimum (${scored}/${this.minPerStratum} for ${stratum}), scoring this one`
      case 'stratum_minimum_met':
        return `${this.scorer}: ${pct} of today's budget used; sampling degraded to the per-stratum minimum and ${stratum} already has ${scored}/${this.minPerStratum}, skipping`
      case 'budget_exhausted':
        return `${this.scorer}: daily budget exhausted (${pct}); scoring stopped until 00:00 UTC`
      case 'estimate_exceeds_budget':
        return `${this.scorer}: ${pct} of today's budget used (${mode}); this item's estimated cost would exceed the cap, skipping`
    }
  }
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6
}
