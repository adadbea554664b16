// Sample ratio mismatch (SRM) check: did traffic really split between variants as configured
// (e.g. 90/10 control/canary)? A mismatch means the assignment or the logging is broken, and
// every comparison between those variants is then biased, so driftwatch checks it first.

import { chiSquareSf } from './distributions.ts'

export interface SampleRatioInput {
  /** Observed interactions per variant. */
  readonly observed: readonly number[]
  /** Configured split per variant, same order; any positive weights (normalized here). */
  readonly expectedWeights: readonly number[]
  /** p-value below which the split is declared broken. Default 0.001 (the industry habit: SRM
   * checks run on every experiment, continuously, so a strict level keeps false alarms rare). */
  readonly threshold?: number
}

export interface SampleRatioResult {
  /** Pearson's X² = Σ (O - E)² / E. */
  readonly chiSquare: number
  readonly df: number
  readonly pValue: number
  readonly expected: readonly number[]
  readonly mismatch: boolean
}

/**
 * Pearson chi-square goodness of fit with df = k - 1, p-value from the chi-square survival
 * function (regularized upper incomplete gamma). Same numbers as
 * `scipy.stats.chisquare(observed, f_exp=expected)`. simple-statistics'
 * `chiSquaredGoodnessOfFit` only compares against a printed table of critical values.
 */
export function sampleRatioMismatch(input: SampleRatioInput): SampleRatioResult {
  const { observed, expectedWeights } = input
  const threshold = input.threshold ?? 0.001
  if (observed.length < 2) throw new RangeError('sampleRatioMismatch needs at least 2 variants')
  if (observed.length !== expectedWeights.length) {
    throw new RangeError(
      `observed has ${observed.length} variants but expectedWeights has ${expectedWeights.length}`,
    )
  }
  for (const o of observed) if (!(o >= 0)) throw new RangeError(`observed counts must be >= 0, got ${o}`)
  for (const w of expectedWeights)
    if (!(w > 0)) throw new RangeError(`expected weights must be > 0, got ${w}`)
  const total = observed.reduce((a, b) => a + b, 0)
  const weightSum = expectedWeights.reduce((a, b) => a + b, 0)
  const expected = expectedWeights.map((w) => (total * w) / weightSum)
  let chiSquare = 0
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i] as number
    const d = (observed[i] as number) - e
    chiSquare += e > 0 ? (d * d) / e : 0
  }
  const df = observed.length - 1
  const pValue = total === 0 ? 1 : chiSquareSf(chiSquare, df)
  return { chiSquare, df, pValue, expected, mismatch: pValue < threshold }
}
