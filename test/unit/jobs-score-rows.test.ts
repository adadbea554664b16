// What the scoring jobs store: one row per metric with the interaction's scope copied in, the
// call's cost on the primary metric only, failures classified by type, review by a salted hash.
import { describe, expect, it } from 'vitest'
import {
  classifyFailure,
  failureRow,
  resolvedFailureRow,
  scoreRows,
  selectedForReview,
} from '../../jobs/score-rows.ts'
import { HttpError } from '../../lib/errors.ts'
import { ModelTimeoutError, ScoringOutputError } from '../../scoring/errors.ts'

const id = { scorer: 'judge', scorerVersion: 'judge-model@0123456789ab', primaryMetric: 'hallucination' }
const interaction = {
  request_id: 'r1',
  timestamp: Date.UTC(2025, 0, 6, 9, 30, 0, 123),
  model_version: 'v2',
  variant_id: 'canary',
  segment: 'invoice_extraction',
  modality: 'text',
}

describe('score rows', () => {
  it('writes one row per metric, scope and interaction time copied, cost on the primary metric only', () => {
    const rows = scoreRows(
      id,
      interaction,
      [
        { metric: 'hallucination', value: 1, label: 'hallucinated', detail: 'invents a due date' },
        { metric: 'helpfulness', value: 3, label: 'with-context' },
      ],
      { promptTokens: 900, completionTokens: 60 },
      0.0021,
      'run-1',
      Date.UTC(2025, 0, 6, 10, 0, 0),
    )
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({
      request_id: 'r1',
      scorer_version: 'judge-model@0123456789ab',
      metric: 'hallucination',
      value: 1,
      detail: 'invents a due date',
      prompt_tokens: 900,
      completion_tokens: 60,
      cost_usd: 0.0021,
      model_version: 'v2',
      variant_id: 'canary',
      segment: 'invoice_extraction',
      modality: 'text',
      interaction_ts: '2025-01-06 09:30:00.123',
      scored_at: '2025-01-06 10:00:00.000',
    })
    expect(rows[1]).toMatchObject({
      metric: 'helpfulness',
      value: 3,
      prompt_tokens: 0,
      completion_tokens: 0,
      cost_usd: 0,
    })
  })
})

describe('failures', () => {
  it('classifies unparsable output as final and outages as retriable, by type', () => {
    const output = classifyFailure(
      new ScoringOutputError('llama_guard', 'unknown category "S99"', 'unsafe\nS99', {
        usage: { promptTokens: 10, completionTokens: 3 },
      }),
    )
    expect(output).toMatchObject({
      code: 'SCORING_OUTPUT',
      retriable: false,
      usage: { promptTokens: 10, completionTokens: 3 },
    })
    expect(classifyFailure(new HttpError(429, 'slow down'))).toMatchObject({
      code: 'HTTP_429',
      retriable: true,
    })
    expect(classifyFailure(new HttpError(500, 'boom'))).toMatchObject({ code: 'HTTP_500', retriable: true })
    expect(classifyFailure(new HttpError(400, 'bad request'))).toMatchObject({
      code: 'HTTP_400',
      retriable: false,
    })
    expect(classifyFailure(new ModelTimeoutError(100))).toMatchObject({
      code: 'MODEL_TIMEOUT',
      retriable: true,
    })
  })

  it('counts attempts across runs and resolves with a higher revision', () => {
    const at = Date.UTC(2025, 0, 6, 11)
    const f = classifyFailure(new HttpError(503, 'overloaded'))
    const first = failureRow(id, interaction, f, undefined, 2, 0, 'run-1', at)
    expect(first).toMatchObject({
      attempts: 1,
      priority: 2,
      retriable: true,
      resolved: false,
      first_failed_at: '2025-01-06 11:00:00.000',
    })
    const previous = { attempts: 1, firstFailedAt: at, priority: 2 }
    const second = failureRow(id, interaction, f, previous, 0, 0, 'run-2', at + 60_000)
    expect(second).toMatchObject({
      attempts: 2,
      priority: 2,
      first_failed_at: '2025-01-06 11:00:00.000',
      last_attempt_at: '2025-01-06 11:01:00.000',
    })
    const resolved = resolvedFailureRow(id, interaction, { ...previous, attempts: 2 }, 'run-3', at + 120_000)
    expect(resolved).toMatchObject({ resolved: true, attempts: 3 })
    expect(resolved.revision as number).toBeGreaterThan(second.revision as number)
  })
})

describe('review selection', () => {
  it('picks about the configured fraction, the same rows every time', () => {
    const chosen = [...Array(10_000)].map((_, i) => selectedForReview(`req-${i}`, 0.1))
    const share = chosen.filter(Boolean).length / chosen.length
    expect(share).toBeGreaterThan(0.09)
    expect(share).toBeLessThan(0.11)
    expect([...Array(10_000)].map((_, i) => selectedForReview(`req-${i}`, 0.1))).toEqual(chosen)
    expect(selectedForReview('req-1', 0)).toBe(false)
  })
})
