// `driftwatch review stats`: how well each scorer version agrees with the humans, per metric:
// Cohen's kappa with n and raw agreement, plus quadratic-weighted kappa for the 1–5 scales.
// A new scorer version starts with no labels of its own: versions are never pooled.

import type { ReadRows } from './export.ts'
import { cohensKappa, describeKappa } from './kappa.ts'
import { metricKind, SCALES } from './labels.ts'

export const PAIRS_SQL = `SELECT h.scorer_version AS scorer_version, h.metric AS metric, h.request_id AS request_id,
  h.reviewer AS reviewer, h.value AS human, s.value AS model
FROM (
  SELECT request_id, scorer_version, metric, value, reviewer FROM human_labels FINAL
  WHERE {scorer_version:String} = '' OR scorer_version = {scorer_version:String}
) AS h
INNER JOIN (
  SELECT request_id, scorer_version, metric, value FROM scores FINAL
  WHERE (scorer_version, request_id) IN (SELECT scorer_version, request_id FROM human_labels)
) AS s ON s.request_id = h.request_id AND s.scorer_version = h.scorer_version AND s.metric = h.metric`

export interface AgreementRow {
  scorer_version: string
  metric: string
  /** Pairs (one per reviewer and item). */
  n: number
  agreement: number
  kappa: number | null
  /** Quadratic-weighted kappa for 1–5 metrics; null for yes/no metrics. */
  weighted_kappa: number | null
  strength: string
}

export interface LabelPair {
  scorer_version: string
  metric: string
  human: number
  model: number
}

/** Pure: pairs in, one row per (scorer_version, metric) out, sorted. */
export function agreement(pairs: readonly LabelPair[]): AgreementRow[] {
  const groups = new Map<string, LabelPair[]>()
  for (const p of pairs) {
    const key = `${p.scorer_version}\u0000${p.metric}`
    const group = groups.get(key) ?? []
    group.push(p)
    groups.set(key, group)
  }
  return [...groups.values()]
    .map((group) => {
      const { scorer_version, metric } = group[0]!
      const kind = metricKind(metric)
      const scale = SCALES[kind]
      const xy = group.map((p) => [p.model, p.human] as const)
      const plain = cohensKappa(xy, scale)
      const weighted = kind === 'ordinal' ? cohensKappa(xy, scale, 'quadratic').kappa : null
      return {
        scorer_version,
        metric,
        n: plain.n,
        agreement: round(plain.observed),
        kappa: plain.kappa === null ? null : round(plain.kappa),
        weighted_kappa: weighted === null ? null : round(weighted),
        strength: describeKappa(kind === 'ordinal' ? weighted : plain.kappa),
      }
    })
    .sort((a, b) => a.scorer_version.localeCompare(b.scorer_version) || a.metric.localeCompare(b.metric))
}

export async function reviewStats(read: ReadRows, scorerVersion = ''): Promise<AgreementRow[]> {
  const rows = await read(PAIRS_SQL, { scorer_version: scorerVersion })
  return agreement(
    rows.map((r) => ({
      scorer_version: String(r.scorer_version),
      metric: String(r.metric),
      human: Number(r.human),
      model: Number(r.model),
    })),
  )
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}
