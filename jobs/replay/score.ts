// The model scorers on replayed answers: every enabled model scorer (Llama Guard, judge) grades
// the candidate's answer and, when the store holds no score of the recorded interaction at
// that scorer version, the recorded answer too — so both sides carry the same scorer versions.
// Calls go through the scorer's own client (limits, retries, circuit breaker) and its daily
// budget (ScorerBudget, shared with the scoring jobs through the scoring_spend ledger); a
// scorer whose budget runs out stops, and the report says how many cases it graded.

import type { ScorersConfig } from '../../config/schema.ts'
import { METRICS } from '../../metrics/registry.ts'
import type { ScorerBudget } from '../../scoring/budget.ts'
import { chunkIdsForUrl } from '../../store/id-chunks.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'
import {
  type AdapterOptions,
  createJudgeAdapter,
  createLlamaGuardAdapter,
  type ModelScorerAdapter,
} from '../model-scorers.ts'
import { createSpendLedger, openBudget, type SpendLedger } from '../spend.ts'
import type { ReplayAnswer, ReplayRun } from './run.ts'

export interface ReplayModelScorer {
  adapter: ModelScorerAdapter
  budget: ScorerBudget
  ledger: SpendLedger
}

/** request_id -> scorer metric (e.g. helpfulness) -> value, at the scorers' current versions. */
export type RecordedScores = Map<string, Map<string, number>>

export interface ModelScoringResult {
  /** Score rows to store: the candidate's, and the recorded interactions' that were missing. */
  scores: Record<string, unknown>[]
  /** One sentence per scorer that could not grade everything (budget, failures). */
  notes: string[]
}

/** registry metric name of a scorer's metric, e.g. judge/helpfulness -> helpfulness_mean. */
function registryName(scorer: string, scoreMetric: string): string | undefined {
  return Object.values(METRICS).find(
    (m) => m.source === 'scores' && m.scorer === scorer && m.scoreMetric === scoreMetric,
  )?.name
}

export async function scoreReplayAnswers(
  run: ReplayRun,
  scorers: readonly ReplayModelScorer[],
  recordedScores: RecordedScores,
  options: { signal: AbortSignal; now?: () => number },
): Promise<ModelScoringResult> {
  const now = options.now ?? Date.now
  const scores: Record<string, unknown>[] = []
  const notes: string[] = []
  for (const s of scorers) {
    const { adapter, budget, ledger } = s
    let graded = 0
    let failed = 0
    let stopped: string | null = null
    const grade = async (
      answer: ReplayAnswer,
      side: 'candidate' | 'recorded',
    ): Promise<Map<string, number> | 'skip' | 'failed'> => {
      const c = answer.case
      const text = side === 'candidate' ? answer.output : (c.recorded ?? '')
      const row = {
        request_id: answer.requestId,
        user_input: c.input,
        model_output: text,
        context: c.context,
      }
      const estimate = budget.averageUsage(adapter.estimate(row), new Date(now()))
      const decision = budget.decide(`${c.segment}/${c.modality}`, estimate, new Date(now()))
      if (decision.action === 'skip') {
        stopped = decision.message
        return 'skip'
      }
      try {
        const result = await adapter.score(row, options.signal)
        budget.record(result.usage, new Date(now()), `${c.segment}/${c.modality}`)
        ledger.add(result.usage, budget.costUsd(result.usage), now())
        const original = c.original
        const onCandidate = side === 'candidate'
        for (const m of result.metrics) {
          scores.push({
            request_id: onCandidate ? answer.requestId : c.id,
            scorer: adapter.scorer,
            scorer_version: adapter.scorerVersion,
            metric: m.metric,
            value: m.value,
            label: m.label ?? '',
            categories: m.categories ?? [],
            category_names: m.categoryNames ?? [],
            detail: m.detail ?? '',
            prompt_tokens: result.usage.promptTokens,
            completion_tokens: result.usage.completionTokens,
            cost_usd: budget.costUsd(result.usage),
            model_version: onCandidate ? run.candidateVersion : String(original?.model_version ?? ''),
            variant_id: onCandidate ? run.variant : String(original?.variant_id ?? ''),
            segment: c.segment,
            modality: c.modality,
            interaction_ts: onCandidate
              ? clickhouseTime(answer.ts)
              : String(original?.timestamp ?? clickhouseTime(answer.ts)),
            run_id: run.runId,
          })
        }
        return new Map(result.metrics.map((m) => [m.metric, m.value]))
      } catch (error) {
        if (options.signal.aborted) throw error
        failed++
        return 'failed'
      }
    }
    for (let i = 0; i < run.answers.length && stopped === null; i++) {
      const answer = run.answers[i]!
      const scoredCase = run.scored[i]!
      if (answer.status !== 'ok') continue
      const cand = await grade(answer, 'candidate')
      if (cand === 'skip') break
      if (cand !== 'failed') {
        graded++
        for (const [metric, value] of cand) {
          const name = registryName(adapter.scorer, metric)
          if (name) scoredCase.candidate[name] = value
        }
      }
      // Recorded side: stored scores at this version, else grade the recorded answer (a suite's reference).
      if (scoredCase.recorded === null || answer.case.recordedStatus !== 'ok') continue
      const stored = answer.case.original ? recordedScores.get(answer.case.id) : undefined
      const fromStore = stored && adapter.primaryMetric && stored.has(adapter.primaryMetric)
      const rec = fromStore ? stored : await grade(answer, 'recorded')
      if (rec === 'skip') break
      if (rec === 'failed' || rec === undefined) continue
      for (const [metric, value] of rec) {
        const name = registryName(adapter.scorer, metric)
        if (name) scoredCase.recorded[name] = value
      }
    }
    if (stopped !== null)
      notes.push(
        `${adapter.scorer} budget cut: graded ${graded} of ${run.answers.length} candidate answers (${stopped}); its metrics compare only those.`,
      )
    if (failed > 0) notes.push(`${adapter.scorer}: ${failed} scoring call(s) failed and are left out.`)
  }
  return { scores, notes }
}

/** The SELECT for stored scores of recorded interactions at the given scorer versions. */
export const RECORDED_SCORES_SQL = `SELECT request_id, scorer, metric, value FROM scores FINAL
WHERE request_id IN {ids:Array(String)} AND scorer_version IN {versions:Array(String)}`

export function recordedScoresFrom(
  rows: readonly { request_id: string; scorer: string; metric: string; value: number }[],
): RecordedScores {
  const out: RecordedScores = new Map()
  for (const r of rows) {
    const m = out.get(r.request_id) ?? new Map<string, number>()
    m.set(r.metric, Number(r.value))
    out.set(r.request_id, m)
  }
  return out
}

/** The enabled model scorers with their daily budgets (the scoring jobs' ledger) for one run. */
export async function openReplayScorers(
  config: ScorersConfig,
  options: AdapterOptions,
  store: Store,
  runId: string,
): Promise<ReplayModelScorer[]> {
  const out: ReplayModelScorer[] = []
  const add = async (adapter: ModelScorerAdapter, settings: ScorersConfig['judge' | 'llama_guard']) => {
    out.push({
      adapter,
      budget: await openBudget(store, adapter.scorer, settings, Date.now()),
      ledger: createSpendLedger(adapter.scorer, adapter.scorerVersion, runId),
    })
  }
  if (config.llama_guard.enabled)
    await add(createLlamaGuardAdapter(config.llama_guard, options), config.llama_guard)
  if (config.judge.enabled) await add(await createJudgeAdapter(config.judge, options), config.judge)
  return out
}

/** Model scores of both sides for a run, recorded scores read from the store first. */
export async function gradeRun(
  store: Store,
  run: ReplayRun,
  scorers: readonly ReplayModelScorer[],
  signal: AbortSignal,
): Promise<ModelScoringResult> {
  if (scorers.length === 0) return { scores: [], notes: [] }
  const ids = run.answers.filter((a) => a.case.original).map((a) => a.case.id)
  const stored: { request_id: string; scorer: string; metric: string; value: number }[] = []
  for (const chunk of chunkIdsForUrl(ids))
    stored.push(
      ...(await store.query<{ request_id: string; scorer: string; metric: string; value: number }>(
        RECORDED_SCORES_SQL,
        { ids: chunk, versions: scorers.map((s) => s.adapter.scorerVersion) },
      )),
    )
  return scoreReplayAnswers(run, scorers, recordedScoresFrom(stored), { signal })
}
