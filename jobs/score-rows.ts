// Rows for the scoring tables (scores, scoring_failures, review_queue), built from one
// interaction and one scorer's result. Pure, so what is stored is tested without a store.

import type { Scope } from '../contract/scope.ts'
import { DriftwatchError, HttpError, isRetriable } from '../lib/errors.ts'
import { ScoringOutputError, type TokenUsage } from '../scoring/errors.ts'
import { clickhouseTime } from '../store/time.ts'
import { hashUnit } from './sampler.ts'

/** What a scoring job knows about the interaction it scores. */
export interface ScoredInteraction extends Scope {
  request_id: string
  /** Epoch ms. */
  timestamp: number
}

export interface MetricValue {
  metric: string
  value: number
  label: string
  categories?: string[]
  categoryNames?: string[]
  /** Short reason (judge), matched pattern (refusal); never raw user text. */
  detail?: string
}

export interface ScorerIdentity {
  scorer: string
  scorerVersion: string
  /** The metric that carries the call's tokens and cost; its presence means "scored". */
  primaryMetric: string
}

export function scoreRows(
  id: ScorerIdentity,
  interaction: ScoredInteraction,
  metrics: readonly MetricValue[],
  usage: TokenUsage,
  costUsd: number,
  runId: string,
  scoredAt: number,
): Record<string, unknown>[] {
  return metrics.map((m) => {
    const carriesCost = m.metric === id.primaryMetric
    return {
      request_id: interaction.request_id,
      scorer: id.scorer,
      scorer_version: id.scorerVersion,
      metric: m.metric,
      value: m.value,
      label: m.label,
      categories: m.categories ?? [],
      category_names: m.categoryNames ?? [],
      detail: m.detail ?? '',
      prompt_tokens: carriesCost ? usage.promptTokens : 0,
      completion_tokens: carriesCost ? usage.completionTokens : 0,
      cost_usd: carriesCost ? costUsd : 0,
      model_version: interaction.model_version,
      variant_id: interaction.variant_id,
      segment: interaction.segment,
      modality: interaction.modality,
      interaction_ts: clickhouseTime(interaction.timestamp),
      run_id: runId,
      scored_at: clickhouseTime(scoredAt),
    }
  })
}

/** A failure seen before (from scoring_failures) that this attempt continues. */
export interface PreviousFailure {
  attempts: number
  firstFailedAt: number
  priority: number
}

export interface FailureClass {
  code: string
  /** Worth another attempt in a later run (outage, overload); false for answers that will not change. */
  retriable: boolean
  message: string
  usage: TokenUsage | undefined
}

/**
 * Output that does not parse (Llama Guard verdict, judge JSON) is final: at temperature 0 the
 * same prompt gives the same answer. Everything the model client gave up on after its own
 * retries (429, 5xx, timeouts, unreachable) is tried again by a later run.
 */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof ScoringOutputError) {
    return { code: error.code, retriable: false, message: error.message, usage: error.usage }
  }
  const code =
    error instanceof HttpError
      ? `HTTP_${error.status}`
      : error instanceof DriftwatchError
        ? error.code
        : 'UNEXPECTED'
  const message = error instanceof Error ? error.message : String(error)
  return { code, retriable: isRetriable(error), message: message.slice(0, 500), usage: undefined }
}

export function failureRow(
  id: ScorerIdentity,
  interaction: ScoredInteraction,
  failure: FailureClass,
  previous: PreviousFailure | undefined,
  priority: number,
  costUsd: number,
  runId: string,
  at: number,
): Record<string, unknown> {
  const attempts = (previous?.attempts ?? 0) + 1
  return {
    request_id: interaction.request_id,
    scorer: id.scorer,
    scorer_version: id.scorerVersion,
    error_code: failure.code,
    message: failure.message,
    retriable: failure.retriable,
    attempts,
    priority: previous?.priority ?? priority,
    resolved: false,
    prompt_tokens: failure.usage?.promptTokens ?? 0,
    completion_tokens: failure.usage?.completionTokens ?? 0,
    cost_usd: costUsd,
    interaction_ts: clickhouseTime(interaction.timestamp),
    first_failed_at: clickhouseTime(previous?.firstFailedAt ?? at),
    last_attempt_at: clickhouseTime(at),
    run_id: runId,
    // Attempts only grow, and the resolution row comes after the last attempt.
    revision: attempts * 2,
  }
}

/** Closes a failure whose retry succeeded, so open failures are counted once and correctly. */
export function resolvedFailureRow(
  id: ScorerIdentity,
  interaction: ScoredInteraction,
  previous: PreviousFailure,
  runId: string,
  at: number,
): Record<string, unknown> {
  return {
    request_id: interaction.request_id,
    scorer: id.scorer,
    scorer_version: id.scorerVersion,
    error_code: '',
    message: 'scored by a later attempt',
    retriable: false,
    attempts: previous.attempts + 1,
    priority: previous.priority,
    resolved: true,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    interaction_ts: clickhouseTime(interaction.timestamp),
    first_failed_at: clickhouseTime(previous.firstFailedAt),
    last_attempt_at: clickhouseTime(at),
    run_id: runId,
    revision: (previous.attempts + 1) * 2 + 1,
  }
}

/** Salt of the review hash: independent of the sampling hash, so reviewed rows are not just the lowest-hash ones. */
export const REVIEW_SALT = 'review:'

export function selectedForReview(requestId: string, fraction: number): boolean {
  return hashUnit(requestId, REVIEW_SALT) < fraction
}

export function reviewRow(
  id: ScorerIdentity,
  interaction: ScoredInteraction,
  at: number,
): Record<string, unknown> {
  return {
    request_id: interaction.request_id,
    scorer: id.scorer,
    scorer_version: id.scorerVersion,
    model_version: interaction.model_version,
    variant_id: interaction.variant_id,
    segment: interaction.segment,
    modality: interaction.modality,
    interaction_ts: clickhouseTime(interaction.timestamp),
    queued_at: clickhouseTime(at),
  }
}
