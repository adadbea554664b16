// Sends replay cases to a candidate OpenAI-compatible endpoint through the scorers' model
// client (timeouts, retries honouring Retry-After, circuit breaker, concurrency and rate
// limits), inside a USD budget, scores both sides with the same refusal scorer version, and
// builds the candidate's interaction and score rows (variant `replay`, shadow_of = original).

import { randomUUID } from 'node:crypto'
import type { ModelClient } from '../../scoring/model-client.ts'
import { detectRefusal, REFUSAL_SCORER_VERSION } from '../../scoring/refusal.ts'
import { clickhouseTime } from '../../store/time.ts'
import type { ScoredCase, ScoredSide } from './compare.ts'
import type { ReplayCase } from './suite.ts'

export interface ReplayRunOptions {
  client: ModelClient
  /** Candidate model_version recorded on the stored interactions. */
  candidateVersion: string
  systemPromptVersion?: string
  /** variant_id of the stored answers: replay (default) or golden. */
  variant?: string
  concurrency: number
  maxTokens: number
  temperature: number
  budgetUsd?: number
  pricePer1kPrompt: number
  pricePer1kCompletion: number
  signal?: AbortSignal
  onProgress?: (done: number, total: number, spentUsd: number) => void
  now?: () => number
}

/** One answered case, index-aligned with ReplayRun.scored: what the model scorers read. */
export interface ReplayAnswer {
  case: ReplayCase
  requestId: string
  output: string
  status: string
  ts: number
}

export interface ReplayRun {
  runId: string
  candidateVersion: string
  variant: string
  scored: ScoredCase[]
  answers: ReplayAnswer[]
  interactions: Record<string, unknown>[]
  scores: Record<string, unknown>[]
  spentUsd: number
  budgetExhausted: boolean
  planned: number
}

/**
 * The scores every side gets without a model call: refusal (answered rows only, as the
 * refusal scorer), error and latency. Model scorers (judge, Llama Guard) add theirs later
 * (jobs/replay/score.ts).
 */
export function scoreSide(output: string | null, status: string, latencyMs: number | null): ScoredSide {
  return {
    refusal_rate: status === 'ok' ? (detectRefusal(output).refusal ? 1 : 0) : null,
    error_rate: status === 'ok' ? 0 : 1,
    latency_p95_ms: latencyMs,
  }
}

export async function runReplay(cases: readonly ReplayCase[], o: ReplayRunOptions): Promise<ReplayRun> {
  const runId = randomUUID()
  const now = o.now ?? Date.now
  const scored: ScoredCase[] = []
  const answers: ReplayAnswer[] = []
  const interactions: Record<string, unknown>[] = []
  const scores: Record<string, unknown>[] = []
  let spent = 0
  let budgetExhausted = false
  let next = 0
  let done = 0
  // The most expensive call so far is the estimate for the next one: a call is started only
  // when even that would still fit, so the budget is never overshot by more than one call.
  let largestCallUsd = 0
  const cost = (p: number, c: number) => (p * o.pricePer1kPrompt + c * o.pricePer1kCompletion) / 1000

  const one = async (item: ReplayCase) => {
    const messages = [
      ...(item.context.length
        ? [{ role: 'system' as const, content: `Context:\n${item.context.join('\n\n')}` }]
        : []),
      { role: 'user' as const, content: item.input },
    ]
    const started = now()
    let output = ''
    let status = 'ok'
    let promptTokens = 0
    let completionTokens = 0
    let finish: string | null = null
    try {
      const r = await o.client.complete({
        messages,
        temperature: o.temperature,
        maxTokens: o.maxTokens,
        signal: o.signal,
      })
      output = r.content
      promptTokens = r.promptTokens
      completionTokens = r.completionTokens
      finish = r.finishReason
    } catch (error) {
      if (o.signal?.aborted) throw error
      status = 'error'
    }
    const usd = cost(promptTokens, completionTokens)
    spent += usd
    largestCallUsd = Math.max(largestCallUsd, usd)
    const latency = now() - started
    const requestId = `replay-${runId}-${item.id}`
    const candidate = scoreSide(output, status, latency)
    const recordedLatency = item.original?.latency_ms
    scored.push({
      segment: item.segment,
      modality: item.modality,
      weight: item.weight,
      recorded:
        item.recorded === null
          ? null
          : scoreSide(
              item.recorded,
              item.recordedStatus,
              recordedLatency === undefined || recordedLatency === null ? null : Number(recordedLatency),
            ),
      candidate,
    })
    const orig = item.original ?? {}
    const ts = now()
    answers.push({ case: item, requestId, output, status, ts })
    interactions.push({
      request_id: requestId,
      timestamp: clickhouseTime(ts),
      user_id: String(orig.user_id ?? 'replay'),
      session_id: null,
      variant_id: o.variant ?? 'replay',
      model_name: o.client.model,
      model_version: o.candidateVersion,
      system_prompt_version: o.systemPromptVersion ?? String(orig.system_prompt_version ?? ''),
      segment: item.segment,
      modality: item.modality,
      user_input: item.input,
      model_output: output,
      context: item.context,
      latency_ms: latency,
      ttft_ms: null,
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      cost_usd: usd,
      status,
      finish_reason: finish,
      safety_flag: null,
      user_feedback_score: null,
      attributes: { replay_run: runId },
      shadow_of: item.original ? item.id : null,
      kafka_topic: 'replay',
      kafka_partition: 0,
      kafka_offset: 0,
    })
    if (status === 'ok') {
      scores.push({
        request_id: requestId,
        scorer: 'refusal',
        scorer_version: REFUSAL_SCORER_VERSION,
        metric: 'refusal',
        value: candidate.refusal_rate ?? 0,
        label: candidate.refusal_rate ? 'refusal' : 'answer',
        categories: [],
        category_names: [],
        detail: '',
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0,
        model_version: o.candidateVersion,
        variant_id: o.variant ?? 'replay',
        segment: item.segment,
        modality: item.modality,
        interaction_ts: clickhouseTime(ts),
        run_id: runId,
      })
    }
    done++
    o.onProgress?.(done, cases.length, spent)
  }

  const worker = async () => {
    while (next < cases.length) {
      if (o.signal?.aborted) return
      if (o.budgetUsd !== undefined && spent + largestCallUsd > o.budgetUsd) {
        budgetExhausted = true
        return
      }
      const item = cases[next++]!
      await one(item)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker))
  return {
    runId,
    candidateVersion: o.candidateVersion,
    variant: o.variant ?? 'replay',
    scored,
    answers,
    interactions,
    scores,
    spentUsd: spent,
    budgetExhausted,
    planned: cases.length,
  }
}
