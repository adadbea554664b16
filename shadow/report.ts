// The shadow report, pure: stored pairs (shadow_pairs rows) in, per shadow version x segment x
// modality out: divergence (mean, share above the threshold, how it was measured and why a
// fallback happened), judge disagreement, and latency and cost of shadow vs production with
// the repo's statistics: a seeded bootstrap interval for the p50 / p95 latency differences
// (both sides answered ok) and Welch's t-test for the mean cost difference. Never pooled
// across modalities.

import { bootstrapQuantileDifference, summarize, welchTTest } from '../stats/index.ts'

export interface StoredPair {
  shadow_version: string
  production_version: string
  segment: string
  modality: string
  method: string
  fallback_reason: string
  distance: number
  divergent: boolean | number
  judge_helpfulness_diff: number | null
  judge_hallucination_disagree: number | null
  production_status: string
  shadow_status: string
  production_latency_ms: number
  shadow_latency_ms: number
  production_cost_usd: number | null
  shadow_cost_usd: number | null
}

export interface QuantileComparison {
  production: number | null
  shadow: number | null
  /** Shadow minus production, with a 95 % bootstrap interval; null below 2 pairs. */
  diff: number | null
  ci_low: number | null
  ci_high: number | null
}

export interface ShadowScopeReport {
  shadow_version: string
  production_versions: string[]
  segment: string
  modality: string
  pairs: number
  methods: { embedding: number; lexical: number }
  divergence_mean: number
  divergence_rate: number
  judge: { pairs: number; helpfulness_diff_mean: number | null; hallucination_disagree_rate: number | null }
  latency_ms: { pairs: number; p50: QuantileComparison; p95: QuantileComparison }
  cost_usd: {
    pairs: number
    production_mean: number | null
    shadow_mean: number | null
    diff: number | null
    p_value: number | null
  }
}

export interface ShadowReport {
  threshold: number
  pairs: number
  divergent: number
  /** Pairs measured lexically although an embeddings endpoint was configured, and why. */
  fallback: { pairs: number; reasons: string[] }
  scopes: ShadowScopeReport[]
  notes: string[]
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null)
const round = (x: number | null, digits = 4) => (x === null ? null : Number(x.toFixed(digits)))

function quantile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const h = (sorted.length - 1) * p
  const lo = Math.floor(h)
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!)
}

function compareQuantile(production: number[], shadow: number[], p: number): QuantileComparison {
  const ps = [...production].sort((a, b) => a - b)
  const ss = [...shadow].sort((a, b) => a - b)
  const base = { production: round(quantile(ps, p), 1), shadow: round(quantile(ss, p), 1) }
  if (ps.length < 2 || ss.length < 2) return { ...base, diff: null, ci_low: null, ci_high: null }
  const b = bootstrapQuantileDifference({ baseline: ps, candidate: ss, p, resamples: 1000, seed: 1 })
  return { ...base, diff: round(b.estimate, 1), ci_low: round(b.lower, 1), ci_high: round(b.upper, 1) }
}

export function buildShadowReport(rows: readonly StoredPair[], threshold: number): ShadowReport {
  const groups = new Map<string, StoredPair[]>()
  for (const r of rows) {
    const key = `${r.shadow_version}\u0000${r.segment}\u0000${r.modality}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  const scopes = [...groups.values()]
    .map((g): ShadowScopeReport => {
      const first = g[0]!
      const judged = g.filter(
        (r) => r.judge_helpfulness_diff !== null || r.judge_hallucination_disagree !== null,
      )
      const helpful = judged.flatMap((r) =>
        r.judge_helpfulness_diff === null ? [] : [r.judge_helpfulness_diff],
      )
      const hall = judged.flatMap((r) =>
        r.judge_hallucination_disagree === null ? [] : [r.judge_hallucination_disagree],
      )
      const answered = g.filter((r) => r.production_status === 'ok' && r.shadow_status === 'ok')
      const costed = g.filter((r) => r.production_cost_usd !== null && r.shadow_cost_usd !== null)
      const pc = costed.map((r) => r.production_cost_usd!)
      const sc = costed.map((r) => r.shadow_cost_usd!)
      let costP: number | null = null
      if (pc.length >= 2 && sc.length >= 2) {
        const t = welchTTest({ baseline: summarize(pc), candidate: summarize(sc) })
        costP = Number.isFinite(t.pValue) ? t.pValue : null
      }
      const pm = mean(pc)
      const sm = mean(sc)
      return {
        shadow_version: first.shadow_version,
        production_versions: [...new Set(g.map((r) => r.production_version))].sort(),
        segment: first.segment,
        modality: first.modality,
        pairs: g.length,
        methods: {
          embedding: g.filter((r) => r.method === 'embedding').length,
          lexical: g.filter((r) => r.method === 'lexical').length,
        },
        divergence_mean: round(mean(g.map((r) => r.distance)))!,
        divergence_rate: round(g.filter((r) => Boolean(r.divergent)).length / g.length)!,
        judge: {
          pairs: judged.length,
          helpfulness_diff_mean: round(mean(helpful)),
          hallucination_disagree_rate: round(mean(hall)),
        },
        latency_ms: {
          pairs: answered.length,
          p50: compareQuantile(
            answered.map((r) => r.production_latency_ms),
            answered.map((r) => r.shadow_latency_ms),
            0.5,
          ),
          p95: compareQuantile(
            answered.map((r) => r.production_latency_ms),
            answered.map((r) => r.shadow_latency_ms),
            0.95,
          ),
        },
        cost_usd: {
          pairs: costed.length,
          production_mean: round(pm, 9),
          shadow_mean: round(sm, 9),
          diff: pm === null || sm === null ? null : round(sm - pm, 9),
          p_value: round(costP),
        },
      }
    })
    .sort(
      (a, b) =>
        a.shadow_version.localeCompare(b.shadow_version) ||
        a.segment.localeCompare(b.segment) ||
        a.modality.localeCompare(b.modality),
    )
  const fallback = rows.filter((r) => r.fallback_reason !== '')
  return {
    threshold,
    pairs: rows.length,
    divergent: rows.filter((r) => Boolean(r.divergent)).length,
    fallback: {
      pairs: fallback.length,
      reasons: [...new Set(fallback.map((r) => r.fallback_reason))].sort(),
    },
    scopes,
    notes: [
      'latency: pairs where both sides answered ok; diff = shadow - production with a 95 % bootstrap interval (1000 resamples, seed 1)',
      "cost: Welch's t-test, two-sided, on the mean cost per pair",
      'divergence: distance above the threshold counts as divergent; method embedding = cosine distance, lexical = 1 - token-set Jaccard',
    ],
  }
}
