// Agreement between two raters (the model scorer and a human) on the same items: Cohen's
// kappa, and its weighted form for ordinal 1–5 scales, where "4 vs 5" is a smaller miss than
// "1 vs 5". Pure.
//
//   kappa   = (p_o - p_e) / (1 - p_e)      p_o observed agreement, p_e chance agreement
//   kappa_w = 1 - sum(w * O) / sum(w * E)  w = |i-j| / (k-1) (linear) or its square (quadratic)
// Both are undefined (null) when chance agreement is already 1 (both raters used one and the
// same category for every item) or there are no items.

export type KappaWeights = 'none' | 'linear' | 'quadratic'

export interface KappaResult {
  n: number
  /** Share of items where both gave the same category. */
  observed: number
  /** Agreement expected by chance from the two raters' marginals. */
  expected: number
  kappa: number | null
}

/**
 * `categories` fixes the scale (e.g. [1, 2, 3, 4, 5]) so weights do not depend on which
 * values happened to occur; values outside it throw a RangeError.
 */
export function cohensKappa(
  pairs: ReadonlyArray<readonly [number, number]>,
  categories: readonly number[],
  weights: KappaWeights = 'none',
): KappaResult {
  const k = categories.length
  if (k < 2) throw new RangeError('cohensKappa needs at least two categories')
  const index = new Map(categories.map((c, i) => [c, i]))
  const n = pairs.length
  if (n === 0) return { n: 0, observed: Number.NaN, expected: Number.NaN, kappa: null }
  const table = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  const rows = new Array<number>(k).fill(0)
  const cols = new Array<number>(k).fill(0)
  for (const [a, b] of pairs) {
    const i = index.get(a)
    const j = index.get(b)
    if (i === undefined || j === undefined)
      throw new RangeError(`value ${i === undefined ? a : b} is not one of ${categories.join(', ')}`)
    table[i]![j]!++
    rows[i]!++
    cols[j]!++
  }
  const weight = (i: number, j: number) => {
    if (weights === 'none') return i === j ? 0 : 1
    const d = Math.abs(i - j) / (k - 1)
    return weights === 'linear' ? d : d * d
  }
  let observedDisagreement = 0
  let expectedDisagreement = 0
  let observed = 0
  let expected = 0
  for (let i = 0; i < k; i++) {
    observed += table[i]![i]! / n
    expected += (rows[i]! / n) * (cols[i]! / n)
    for (let j = 0; j < k; j++) {
      observedDisagreement += (weight(i, j) * table[i]![j]!) / n
      expectedDisagreement += (weight(i, j) * rows[i]! * cols[j]!) / (n * n)
    }
  }
  // For 0/1 weights 1 - sum(wO)/sum(wE) is exactly (p_o - p_e) / (1 - p_e).
  const kappa = expectedDisagreement <= 1e-12 ? null : 1 - observedDisagreement / expectedDisagreement
  return { n, observed, expected, kappa }
}

/** Landis & Koch (1977) wording, for people reading `driftwatch review stats`. */
export function describeKappa(kappa: number | null): string {
  if (kappa === null) return 'undefined (one category only)'
  if (kappa < 0) return 'worse than chance'
  if (kappa <= 0.2) return 'slight'
  if (kappa <= 0.4) return 'fair'
  if (kappa <= 0.6) return 'moderate'
  if (kappa <= 0.8) return 'substantial'
  return 'almost perfect'
}
