// Seeded pseudo-random numbers for simulations, bootstraps, tests and benchmarks, so that
// every random number driftwatch produces can be reproduced from its seed. Not cryptographic.
//
// mulberry32 (Tommy Ettinger, public domain): 32-bit state, full 2^32 period, passes
// gjrand/PractRand for the sample sizes used here, and is a dozen lines without dependencies.

/** A seeded random source. Every method draws from the same underlying stream. */
export interface Rng {
  /** Uniform on [0, 1). */
  uniform(): number
  /** Integer uniform on 0..n-1. */
  int(n: number): number
  /** Normal(mean, sd) via Box-Muller. */
  normal(mean?: number, sd?: number): number
  /** Log-normal: exp(Normal(mu, sigma)); a reasonable stand-in for latencies. */
  logNormal(mu: number, sigma: number): number
  /** Exponential with the given rate. */
  exponential(rate: number): number
  /** Bernoulli(p) as 0 or 1. */
  bernoulli(p: number): 0 | 1
  /** Binomial(n, p), exact (inversion; large n is split into independent halves). */
  binomial(n: number, p: number): number
}

/** The raw mulberry32 generator: returns a function giving uniforms on [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Creates a seeded Rng. The same seed always gives the same sequence. */
export function createRng(seed: number): Rng {
  const next = mulberry32(seed)
  // Box-Muller yields normals in pairs; keep the second one instead of wasting it.
  let spare: number | undefined

  const standardNormal = (): number => {
    if (spare !== undefined) {
      const value = spare
      spare = undefined
      return value
    }
    // 1 - u is in (0, 1], so the logarithm is always finite.
    const radius = Math.sqrt(-2 * Math.log(1 - next()))
    const angle = 2 * Math.PI * next()
    spare = radius * Math.sin(angle)
    return radius * Math.cos(angle)
  }

  // Inversion from 0 walking up the pmf recurrence: exact and O(n·p) per draw. It needs
  // (1-p)^n not to underflow, so big n is split (a sum of independent binomials is binomial).
  const binomialSmallP = (n: number, p: number): number => {
    if (n * -Math.log1p(-p) > 600) {
      const half = Math.floor(n / 2)
      return binomialSmallP(half, p) + binomialSmallP(n - half, p)
    }
    const ratio = p / (1 - p)
    let pmf = (1 - p) ** n
    let cdf = pmf
    const u = next()
    let k = 0
    while (u >= cdf && k < n) {
      pmf *= (ratio * (n - k)) / (k + 1)
      k++
      cdf += pmf
    }
    return k
  }

  return {
    uniform: next,
    int(n: number): number {
      return Math.floor(next() * n)
    },
    normal(mean = 0, sd = 1): number {
      return mean + sd * standardNormal()
    },
    logNormal(mu: number, sigma: number): number {
      return Math.exp(mu + sigma * standardNormal())
    },
    exponential(rate: number): number {
      return -Math.log(1 - next()) / rate
    },
    bernoulli(p: number): 0 | 1 {
      return next() < p ? 1 : 0
    },
    binomial(n: number, p: number): number {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial needs an integer n >= 0, got ${n}`)
      if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial needs 0 <= p <= 1, got ${p}`)
      if (n === 0 || p === 0) return 0
      if (p === 1) return n
      // Count the rarer outcome: fewer steps, and the recurrence is most accurate there.
      return p <= 0.5 ? binomialSmallP(n, p) : n - binomialSmallP(n, 1 - p)
    },
  }
}
