// Golden suite: what "pass" means for one case (pure), the summary of a run (weighted pass
// rate, weighted failures) and the score rows that make golden_pass_rate a metric rules read.
//
// A case passes when the candidate answered (status ok), did not refuse, Llama Guard (when
// enabled) did not classify it unsafe, and — only when the line has a reference — the judge
// (when enabled) found no hallucination and graded helpfulness at least the reference's
// helpfulness; without a judge, the answer's character-trigram Jaccard similarity to the
// reference must be at least golden.min_similarity.

import { clickhouseTime } from '../../store/time.ts'
import type { ScoredCase } from './compare.ts'
import type { ReplayRun } from './run.ts'

export const GOLDEN_SCORER_VERSION = 'golden-v1'

/** Character-trigram Jaccard similarity of two texts (lower-cased, whitespace collapsed), 0..1. */
export function trigramSimilarity(a: string, b: string): number {
  const grams = (s: string) => {
    const t = ` ${s.toLowerCase().replace(/\s+/g, ' ').trim()} `
    const out = new Set<string>()
    for (let i = 0; i + 3 <= t.length; i++) out.add(t.slice(i, i + 3))
    return out
  }
  const x = grams(a)
  const y = grams(b)
  if (x.size === 0 && y.size === 0) return 1
  let both = 0
  for (const g of x) if (y.has(g)) both++
  return both / (x.size + y.size - both)
}

export interface GoldenVerdict {
  pass: boolean
  /** Why a case failed (first failing check), '' when it passed. */
  reason: string
}

export function goldenVerdict(
  scored: ScoredCase,
  output: string,
  reference: string | null,
  minSimilarity: number,
): GoldenVerdict {
  const c = scored.candidate
  if (c.error_rate === 1) return { pass: false, reason: 'error' }
  if (c.refusal_rate === 1) return { pass: false, reason: 'refusal' }
  if (c.unsafe_rate === 1) return { pass: false, reason: 'unsafe' }
  if (reference === null) return { pass: true, reason: '' }
  const judged = c.hallucination_rate !== undefined && c.hallucination_rate !== null
  if (judged) {
    if (c.hallucination_rate === 1) return { pass: false, reason: 'hallucination' }
    const ref = scored.recorded?.helpfulness_mean
    const cand = c.helpfulness_mean
    if (ref !== undefined && ref !== null && cand !== undefined && cand !== null && cand < ref)
      return { pass: false, reason: `helpfulness ${cand} below the reference's ${ref}` }
    return { pass: true, reason: '' }
  }
  const sim = trigramSimilarity(output, reference)
  return sim >= minSimilarity
    ? { pass: true, reason: '' }
    : { pass: false, reason: `similarity ${sim.toFixed(2)} below ${minSimilarity}` }
}

export interface GoldenSummary {
  cases: number
  passed: number
  pass_rate: number
  /** Pass rate with each case counted by its weight (suite weight or revenue impact). */
  weighted_pass_rate: number
  /** Sum of the weights of failing cases: dollars at risk when weights are USD per failure. */
  weighted_failures: number
  failures: { id: string; segment: string; modality: string; weight: number; reason: string }[]
}

/** Verdicts for every answered case of a run, its summary, and one score row per case. */
export function judgeGoldenRun(
  run: ReplayRun,
  minSimilarity: number,
): { summary: GoldenSummary; scores: Record<string, unknown>[] } {
  const scores: Record<string, unknown>[] = []
  const failures: GoldenSummary['failures'] = []
  let passed = 0
  let weight = 0
  let weightPassed = 0
  run.answers.forEach((answer, i) => {
    const v = goldenVerdict(run.scored[i]!, answer.output, answer.case.recorded, minSimilarity)
    const w = answer.case.weight
    weight += w
    if (v.pass) {
      passed++
      weightPassed += w
    } else
      failures.push({
        id: answer.case.id,
        segment: answer.case.segment,
        modality: answer.case.modality,
        weight: w,
        reason: v.reason,
      })
    scores.push({
      request_id: answer.requestId,
      scorer: 'golden',
      scorer_version: GOLDEN_SCORER_VERSION,
      metric: 'pass',
      value: v.pass ? 1 : 0,
      label: v.pass ? 'pass' : 'fail',
      categories: [],
      category_names: [],
      detail: v.reason,
      prompt_tokens: 0,
      completion_tokens: 0,
      cost_usd: 0,
      model_version: run.candidateVersion,
      variant_id: 'golden',
      segment: answer.case.segment,
      modality: answer.case.modality,
      interaction_ts: clickhouseTime(answer.ts),
      run_id: run.runId,
    })
  })
  const n = run.answers.length
  return {
    summary: {
      cases: n,
      passed,
      pass_rate: n ? passed / n : 0,
      weighted_pass_rate: weight > 0 ? weightPassed / weight : 0,
      weighted_failures: weight - weightPassed,
      failures,
    },
    scores,
  }
}
