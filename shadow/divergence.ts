// Divergence of a shadow answer from its production twin, pure: the cosine distance of two
// embedding vectors, and the judge's disagreement where both sides were judged with the same
// scorer version. Distances are in [0, 1]; 0 means the same answer.

export type DivergenceMethod = 'embedding' | 'lexical'

/**
 * 1 - cos(a, b), clamped to [0, 1]: text embeddings of unrelated answers sit near 0 cosine
 * (distance ~1); a negative cosine is no more informative than "unrelated" for this use.
 * Two zero vectors are identical (0); one zero vector against another is unrelated (1).
 */
export function cosineDistance(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} vs ${b.length}`)
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  if (na === 0 && nb === 0) return 0
  if (na === 0 || nb === 0) return 1
  const cos = dot / Math.sqrt(na * nb)
  return Math.min(1, Math.max(0, 1 - cos))
}

/** A judged side: the judge's metrics for one interaction (one scorer_version). */
export interface JudgedSide {
  helpfulness?: number
  hallucination?: number
}

export interface JudgeDisagreement {
  /** |shadow - production| helpfulness on the 1-5 scale, divided by 4: in [0, 1]. */
  helpfulness: number | null
  /** 1 when exactly one side was judged hallucinated. */
  hallucination: 0 | 1 | null
}

export function judgeDisagreement(
  production: JudgedSide | undefined,
  shadow: JudgedSide | undefined,
): JudgeDisagreement {
  if (!production || !shadow) return { helpfulness: null, hallucination: null }
  const h =
    production.helpfulness !== undefined && shadow.helpfulness !== undefined
      ? Math.abs(shadow.helpfulness - production.helpfulness) / 4
      : null
  const hall =
    production.hallucination !== undefined && shadow.hallucination !== undefined
      ? production.hallucination === shadow.hallucination
        ? 0
        : 1
      : null
  return { helpfulness: h, hallucination: hall }
}

/** Texts that need no model to compare: an empty side (error, timeout) decides the distance. */
export function trivialDistance(production: string, shadow: string): number | undefined {
  const p = production.trim() === ''
  const s = shadow.trim() === ''
  if (p && s) return 0
  if (p || s) return 1
  if (production === shadow) return 0
  return undefined
}
