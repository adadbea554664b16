import { describe, expect, it } from 'vitest'
import { ScorerBudget, utcDay } from '../../scoring/budget.ts'

const at = (iso: string) => new Date(iso)
const call = { promptTokens: 800, completionTokens: 200 } // 1000 tokens

describe('ScorerBudget', () => {
  it('tracks tokens and USD and answers canSpend against both caps', () => {
    const budget = new ScorerBudget('judge', {
      tokensPerDay: 10_000,
      usdPerDay: 1,
      pricePer1kPromptUsd: 0.5,
      pricePer1kCompletionUsd: 1.5,
    })
    const now = at('2025-03-01T10:00:00Z')
    expect(budget.costUsd(call)).toBeCloseTo(0.7)
    expect(budget.canSpend(call, now)).toBe(true)
    budget.record(call, now, 'a')
    // 0.70 spent: another 0.70 would pass the 1 USD cap though tokens (2000) are fine.
    expect(budget.canSpend(call, now)).toBe(false)
    expect(budget.canSpend({ promptTokens: 100, completionTokens: 100 }, now)).toBe(true)
    expect(budget.snapshot()).toMatchObject({
      day: '2025-03-01',
      promptTokens: 800,
      completionTokens: 200,
      calls: 1,
    })
  })

  it('degrades normal → per-stratum minimum → stopped, and says so once per transition', () => {
    const budget = new ScorerBudget('judge', { tokensPerDay: 10_000, minimumReserve: 0.2, minPerStratum: 2 })
    const now = at('2025-03-01T10:00:00Z')
    const first = budget.decide('invoice', call, now)
    expect(first).toMatchObject({
      action: 'score',
      mode: 'normal',
      reason: 'within_budget',
      transition: null,
    })

    for (let i = 0; i < 8; i++) budget.record(call, now, i < 3 ? 'invoice' : 'chat') // 8000 = 80%
    const degraded = budget.decide('invoice', call, now)
    expect(degraded).toMatchObject({
      action: 'skip',
      mode: 'minimum_only',
      reason: 'stratum_minimum_met',
      transition: { from: 'normal', to: 'minimum_only' },
      scoredInStratum: 3,
      usedFraction: 0.8,
    })
    expect(degraded.message).toMatch(/per-stratum minimum/)
    // A stratum still below its minimum is scored, and the transition is not repeated.
    const rare = budget.decide('rare_segment', call, now)
    expect(rare).toMatchObject({ action: 'score', reason: 'stratum_below_minimum', transition: null })

    budget.record(call, now, 'rare_segment')
    budget.record(call, now, 'rare_segment') // 10000 = 100%
    const stopped = budget.decide('rare_segment', call, now)
    expect(stopped).toMatchObject({
      action: 'skip',
      mode: 'stopped',
      reason: 'budget_exhausted',
      transition: { from: 'minimum_only', to: 'stopped' },
    })
    expect(stopped.message).toMatch(/00:00 UTC/)
  })

  it('skips an item whose estimate would cross the cap even in normal mode', () => {
    const budget = new ScorerBudget('llama_guard', { tokensPerDay: 1_000 })
    const decision = budget.decide(
      's',
      { promptTokens: 900, completionTokens: 200 },
      at('2025-03-01T00:00:00Z'),
    )
    expect(decision).toMatchObject({ action: 'skip', mode: 'normal', reason: 'estimate_exceeds_budget' })
  })

  it('rolls over at the UTC date boundary, not local midnight', () => {
    const budget = new ScorerBudget('judge', { tokensPerDay: 2_000 })
    budget.record(call, at('2025-03-01T23:59:59.999Z'))
    budget.record(call, at('2025-03-01T23:59:59.999Z'))
    expect(budget.decide('s', call, at('2025-03-01T23:59:59.999Z'))).toMatchObject({ mode: 'stopped' })
    const next = budget.decide('s', call, at('2025-03-02T00:00:00.000Z'))
    expect(next).toMatchObject({
      day: '2025-03-02',
      action: 'score',
      mode: 'normal',
      rolledOver: true,
      transition: { from: 'stopped', to: 'normal' },
      spent: { tokens: 0, usd: 0 },
    })
    expect(utcDay(at('2025-03-01T23:30:00-02:00'))).toBe('2025-03-02')
  })

  it('a clock that goes backwards does not reset today', () => {
    const budget = new ScorerBudget('judge', { tokensPerDay: 10_000 })
    budget.record(call, at('2025-03-02T00:00:01Z'))
    budget.record(call, at('2025-03-01T23:59:59Z'))
    expect(budget.snapshot()).toMatchObject({ day: '2025-03-02', calls: 2 })
  })

  it('restores from a snapshot (restart within the day)', () => {
    const now = at('2025-03-01T12:00:00Z')
    const a = new ScorerBudget('judge', { tokensPerDay: 10_000, minPerStratum: 1 })
    for (let i = 0; i < 9; i++) a.record(call, now, 'x')
    const b = new ScorerBudget('judge', { tokensPerDay: 10_000, minPerStratum: 1 }, a.snapshot())
    expect(b.decide('x', call, now)).toMatchObject({ mode: 'minimum_only', action: 'skip' })
    expect(b.decide('y', call, now)).toMatchObject({ action: 'score' })
  })

  it('without caps it always scores; a zero cap never does', () => {
    const now = at('2025-03-01T12:00:00Z')
    const open = new ScorerBudget('refusal', {})
    for (let i = 0; i < 100; i++) open.record(call, now, 's')
    expect(open.decide('s', call, now)).toMatchObject({ action: 'score', usedFraction: 0 })
    const closed = new ScorerBudget('judge', { usdPerDay: 0, pricePer1kPromptUsd: 1 })
    expect(closed.decide('s', call, now)).toMatchObject({ action: 'skip', mode: 'stopped' })
  })

  it("estimates the next call from today's average", () => {
    const now = at('2025-03-01T12:00:00Z')
    const budget = new ScorerBudget('judge', {})
    const fallback = { promptTokens: 1, completionTokens: 1 }
    expect(budget.averageUsage(fallback, now)).toBe(fallback)
    budget.record({ promptTokens: 100, completionTokens: 10 }, now)
    budget.record({ promptTokens: 301, completionTokens: 20 }, now)
    expect(budget.averageUsage(fallback, now)).toEqual({ promptTokens: 201, completionTokens: 15 })
  })

  it('rejects invalid settings', () => {
    expect(() => new ScorerBudget('j', { tokensPerDay: -1 })).toThrow(RangeError)
    expect(() => new ScorerBudget('j', { minimumReserve: 1.5 })).toThrow(RangeError)
  })
})
