// Lexical similarity of two answers, the shadow job's method when no embeddings endpoint is
// configured (or it fails): token-set Jaccard. Tokens are maximal runs of Unicode letters and
// digits, lower-cased (NFKC), so punctuation, case and whitespace changes do not count, word
// order does not either, and any changed, added or dropped word does. Pure.
//
//   similarity = |A ∩ B| / |A ∪ B|   (two answers without any token: 1, identical)
//   distance   = 1 - similarity      in [0, 1]

/** The distinct tokens of a text. */
export function tokenSet(text: string): Set<string> {
  return new Set(
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [],
  )
}

export function jaccardSimilarity(a: string, b: string): number {
  const ta = tokenSet(a)
  const tb = tokenSet(b)
  if (ta.size === 0 && tb.size === 0) return 1
  let common = 0
  for (const t of ta) if (tb.has(t)) common++
  return common / (ta.size + tb.size - common)
}

export function lexicalDistance(a: string, b: string): number {
  return 1 - jaccardSimilarity(a, b)
}

/** The version of this method, part of the shadow scorer_version: change it with the tokenizer. */
export const LEXICAL_METHOD_VERSION = 'lexical-jaccard-v1'
