// One shadow pair as the shadow job reads it, and the rows it stores for it (shadow_pairs,
// and the two score rows behind shadow_divergence_rate / shadow_divergence_mean), pure.
// Scores carry the SHADOW interaction's scope, so rules on these metrics scope by the shadow
// version's model_version / variant / segment / modality.

import { clickhouseTime } from '../store/time.ts'
import type { DivergenceMethod, JudgeDisagreement } from './divergence.ts'

export const SHADOW_SCORER = 'shadow'

export interface ShadowPair {
  shadow_id: string
  production_id: string
  /** Epoch ms of the shadow interaction. */
  timestamp: number
  shadow_version: string
  production_version: string
  variant_id: string
  segment: string
  modality: string
  shadow_output: string
  production_output: string
  shadow_status: string
  production_status: string
  shadow_latency_ms: number
  production_latency_ms: number
  shadow_cost_usd: number | null
  production_cost_usd: number | null
}

export interface MeasuredPair {
  pair: ShadowPair
  distance: number
  method: DivergenceMethod
  /** embedding:<model> or lexical-jaccard-v1. */
  methodVersion: string
  fallbackReason: string
  judge: JudgeDisagreement
}

/** The scorer_version of the shadow scores: one per measuring method, never mixed by the rules. */
export function shadowScorerVersion(methodVersion: string): string {
  return `shadow-v1/${methodVersion}`
}

export function pairRow(
  m: MeasuredPair,
  threshold: number,
  runId: string,
  at: number,
): Record<string, unknown> {
  const p = m.pair
  return {
    shadow_request_id: p.shadow_id,
    production_request_id: p.production_id,
    shadow_version: p.shadow_version,
    production_version: p.production_version,
    variant_id: p.variant_id,
    segment: p.segment,
    modality: p.modality,
    interaction_ts: clickhouseTime(p.timestamp),
    method: m.method,
    method_version: m.methodVersion,
    fallback_reason: m.fallbackReason,
    distance: m.distance,
    divergent: m.distance > threshold,
    threshold,
    judge_helpfulness_diff: m.judge.helpfulness,
    judge_hallucination_disagree: m.judge.hallucination,
    production_status: p.production_status,
    shadow_status: p.shadow_status,
    production_latency_ms: p.production_latency_ms,
    shadow_latency_ms: p.shadow_latency_ms,
    production_cost_usd: p.production_cost_usd,
    shadow_cost_usd: p.shadow_cost_usd,
    run_id: runId,
    paired_at: clickhouseTime(at),
  }
}

export function pairScoreRows(
  m: MeasuredPair,
  threshold: number,
  runId: string,
  at: number,
): Record<string, unknown>[] {
  const p = m.pair
  const base = {
    request_id: p.shadow_id,
    scorer: SHADOW_SCORER,
    scorer_version: shadowScorerVersion(m.methodVersion),
    categories: [],
    category_names: [],
    detail: `production ${p.production_id}, distance ${m.distance.toFixed(3)} (${m.method})`,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    model_version: p.shadow_version,
    variant_id: p.variant_id,
    segment: p.segment,
    modality: p.modality,
    interaction_ts: clickhouseTime(p.timestamp),
    run_id: runId,
    scored_at: clickhouseTime(at),
  }
  const divergent = m.distance > threshold
  return [
    { ...base, metric: 'divergent', value: divergent ? 1 : 0, label: divergent ? 'divergent' : 'same' },
    { ...base, metric: 'divergence', value: m.distance, label: '' },
  ]
}

/** The most divergent pairs above the threshold, most divergent first (ties by id: stable). */
export function mostDivergent(
  pairs: readonly MeasuredPair[],
  threshold: number,
  top: number,
): MeasuredPair[] {
  return pairs
    .filter((m) => m.distance > threshold)
    .sort((a, b) => b.distance - a.distance || a.pair.shadow_id.localeCompare(b.pair.shadow_id))
    .slice(0, top)
}
