// Exact order statistics over index ranges of a fixed array: a wavelet matrix on the values'
// ranks. kth(l, r, k) is the k-th smallest (0-based) of values[l..r) and countAbove(l, r, t)
// how many of them are > t, each in O(log σ) (σ distinct values), after an O(n log σ) build.
// A backtest answers thousands of quantile queries over sliding windows of the same stored
// values with it, giving the very element ClickHouse's quantileExact picks.

export interface RangeQuantile {
  readonly length: number
  /** The k-th smallest (0-based) value of positions [l, r); requires 0 <= k < r - l. */
  kth(l: number, r: number, k: number): number
  /** How many values of positions [l, r) are strictly greater than t. */
  countAbove(l: number, r: number, t: number): number
}

export function rangeQuantile(values: ArrayLike<number>): RangeQuantile {
  const n = values.length
  const sorted = Float64Array.from(values).sort()
  const distinct: number[] = []
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!)
  const unique = Float64Array.from(distinct)
  let levels = 1
  while (1 << levels < unique.length) levels++
  let current = new Uint32Array(n)
  for (let i = 0; i < n; i++) current[i] = lowerBound(unique, values[i]!)
  // Per level (most significant bit first): prefix counts of zero bits, and the zero count.
  const zerosBefore: Uint32Array[] = []
  const zeroCount: number[] = []
  for (let level = 0; level < levels; level++) {
    const bit = levels - 1 - level
    const prefix = new Uint32Array(n + 1)
    let zeros = 0
    for (let i = 0; i < n; i++) {
      if (((current[i]! >>> bit) & 1) === 0) zeros++
      prefix[i + 1] = zeros
    }
    const next = new Uint32Array(n)
    let z = 0
    let o = zeros
    for (let i = 0; i < n; i++) {
      const v = current[i]!
      if (((v >>> bit) & 1) === 0) next[z++] = v
      else next[o++] = v
    }
    zerosBefore.push(prefix)
    zeroCount.push(zeros)
    current = next
  }

  /** How many values of [l, r) have rank < c. */
  const countLess = (l: number, r: number, c: number): number => {
    if (c <= 0 || l >= r) return 0
    if (c >= 1 << levels) return r - l
    let count = 0
    for (let level = 0; level < levels; level++) {
      const bit = levels - 1 - level
      const z = zerosBefore[level]!
      const zl = z[l]!
      const zr = z[r]!
      if (((c >>> bit) & 1) === 1) {
        count += zr - zl
        l = zeroCount[level]! + (l - zl)
        r = zeroCount[level]! + (r - zr)
      } else {
        l = zl
        r = zr
      }
    }
    return count
  }

  return {
    length: n,
    kth(l, r, k) {
      if (!(l >= 0 && r <= n && k >= 0 && k < r - l)) {
        throw new RangeError(`kth needs 0 <= k < r - l within [0, ${n}]; got l=${l} r=${r} k=${k}`)
      }
      let rank = 0
      for (let level = 0; level < levels; level++) {
        const z = zerosBefore[level]!
        const zl = z[l]!
        const zr = z[r]!
        const zeros = zr - zl
        if (k < zeros) {
          l = zl
          r = zr
        } else {
          k -= zeros
          rank |= 1 << (levels - 1 - level)
          l = zeroCount[level]! + (l - zl)
          r = zeroCount[level]! + (r - zr)
        }
      }
      return unique[rank]!
    },
    countAbove(l, r, t) {
      return r - l - countLess(l, r, upperBound(unique, t))
    },
  }
}

/** First index with a[i] >= v. */
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index with a[i] > v. */
function upperBound(a: Float64Array, v: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! <= v) lo = mid + 1
    else hi = mid
  }
  return lo
}
