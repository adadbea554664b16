// The per-item decision of a model scoring run (jobs/scoring-decision.ts) against a real
// in-memory ScorerBudget: stop reasons in order, missing text, the budget's degrade-then-stop,
// and the calls already in flight counted against the cap.
import { describe, expect, it } from 'vitest'
import { PRIORITY } from '../../jobs/sampler.ts'
import { decideItem, type ItemDecisionInput } from '../../jobs/scoring-decision.ts'
import { ScorerBudget } from '../../scoring/budget.ts'

const now = new Date('2026-03-01T12:00:00Z')
const call = { promptTokens: 90, completionTokens: 10 }

function input(overrides: Partial<ItemDecisionInput> = {}): ItemDecisionInput {
  return {
    aborted: false,
    circuitOpen: false,
    writeFailed: false,
    estimate: call,
    priority: PRIORITY.rate,
    inflight: 0,
    budget: new ScorerBudget('judge', {}),
    now,
    lastMode: 'normal',
    ...overrides,
  }
}

/** A budget of 1000 tokens a day with `used` already spent over `calls` calls of 100 tokens. */
function budgetWith(used: number): ScorerBudget {
  const budget = new ScorerBudget('judge', { tokensPerDay: 1000, minimumReserve: 0.2 })
  for (let spent = 0; spent < used; spent += 100) budget.record(call, now)
  return budget
}

describe('decideItem', () => {
  it('scores within budget and keeps the mode', () => {
    expect(decideItem(input())).toEqual({ decision: { action: 'score' }, mode: 'normal', announce: [] })
  })

  it('stops for an abort, an open circuit, then a failed write, before looking at the row', () => {
    const all = { aborted: true, circuitOpen: true, writeFailed: true, estimate: undefined }
    expect(decideItem(input(all)).decision).toEqual({ action: 'stop', reason: 'aborted' })
    expect(decideItem(input({ ...all, aborted: false })).decision).toEqual({
      action: 'stop',
      reason: 'circuit',
    })
    expect(decideItem(input({ writeFailed: true, estimate: undefined })).decision).toEqual({
      action: 'stop',
      reason: 'write_failed',
    })
  })

  it('notes a row whose text left the store as missing', () => {
    expect(decideItem(input({ estimate: undefined })).decision).toEqual({ action: 'missing' })
  })

  it('past degrade_at scores only per-scope minimums and announces the change once', () => {
    const budget = budgetWith(800) // 80% used: the 20% reserve is for minimums
    const first = decideItem(input({ budget }))
    expect(first).toEqual({ decision: { action: 'skip' }, mode: 'minimum_only', announce: ['minimum_only'] })
    const minimum = decideItem(input({ budget, priority: PRIORITY.minimum, lastMode: first.mode }))
    expect(minimum).toEqual({ decision: { action: 'score' }, mode: 'minimum_only', announce: [] })
  })

  it('stops at the cap, and when the calls in flight plus this one would cross it', () => {
    expect(decideItem(input({ budget: budgetWith(1000) }))).toEqual({
      decision: { action: 'stop', reason: 'budget' },
      mode: 'stopped',
      announce: ['stopped'],
    })
    const budget = budgetWith(800)
    const minimum = { budget, priority: PRIORITY.minimum, lastMode: 'minimum_only' as const }
    expect(decideItem(input({ ...minimum, inflight: 1 })).decision).toEqual({ action: 'score' })
    expect(decideItem(input({ ...minimum, inflight: 2 })).decision).toEqual({
      action: 'stop',
      reason: 'budget',
    })
  })

  it('a run that starts over the degrade line says both changes, in order', () => {
    const budget = new ScorerBudget('judge', { tokensPerDay: 1000 })
    budget.record({ promptTokens: 850, completionTokens: 0 }, now)
    expect(decideItem(input({ budget, estimate: { promptTokens: 900, completionTokens: 0 } }))).toMatchObject(
      {
        decision: { action: 'stop', reason: 'budget' },
        announce: ['minimum_only', 'stopped'],
      },
    )
  })
})
