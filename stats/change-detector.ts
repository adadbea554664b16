// Change detection for silent drift (`compare_to: { trailing }`): Page's CUSUM on the binned
// stream (one bin per evaluation look, e.g. a minute). A cumulative test since some start is
// diluted by every healthy hour before a drift; CUSUM forgets them: its statistic
//   S_t = max(0, S_{t-1} + ln LR(bin_t))
// restarts from 0 whenever the evidence for a change turns negative, so its delay after a
// change does not depend on how long the stream was healthy before it.
//
// Calibration. With exact log-likelihood-ratio increments, the average run length to a false
// alarm when nothing changed satisfies ARL_0 >= e^h (Lorden 1971; Siegmund 1985, ch. II), in
// bins. We pick h = ln(binsPerDay / alpha): at most one false alarm per 1/alpha days on
// average, i.e. ~alpha false alarms per day (alpha = 1 - confidence: 1 %/rule/day at the
// default 0.99). The bound holds for any null value below the reference value, as each
// increment has E[e^{ln LR}] <= 1 there. test/unit/stats-change-detector.test.ts measures the
// per-day rate by simulation.
//
// The state is plain JSON (persist it per rule × scope × version): the statistic and the
// counts since it was last 0 (the change point's estimate, whose rate the alert reports).

export interface ChangeState {
  /** CUSUM statistic S_t (natural log units), >= 0. */
  readonly s: number
  /** Bins since S was last 0, and their counts / sums (the post-change estimate). */
  readonly bins: number
  readonly n: number
  readonly x: number
  readonly sum: number
  readonly sumsq: number
  readonly looks: number
}

export const initialChangeState: ChangeState = { s: 0, bins: 0, n: 0, x: 0, sum: 0, sumsq: 0, looks: 0 }

/** One bin of data: n observations, x events (rates) or their sum and sum of squares (means). */
export interface ChangeBin {
  readonly n: number
  readonly x?: number
  readonly sum?: number
  readonly sumsq?: number
}

/** h = ln(binsPerDay / alpha): ARL_0 >= binsPerDay / alpha bins, about alpha false alarms a day. */
export function cusumThreshold(alpha: number, binsPerDay = 1440): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`)
  if (!(binsPerDay >= 1)) throw new RangeError(`binsPerDay must be >= 1, got ${binsPerDay}`)
  return Math.log(binsPerDay / alpha)
}

export interface ChangeLook {
  readonly state: ChangeState
  /** The increment this bin added (before the max with 0). */
  readonly increment: number
  readonly threshold: number
  /** S_t >= h. */
  readonly alarm: boolean
}

function advance(state: ChangeState, bin: ChangeBin, llr: number, threshold: number): ChangeLook {
  const next = state.s + llr
  const s = Math.max(0, next)
  const keep = s > 0
  const out: ChangeState = keep
    ? {
        s,
        bins: state.bins + 1,
        n: state.n + bin.n,
        x: state.x + (bin.x ?? 0),
        sum: state.sum + (bin.sum ?? 0),
        sumsq: state.sumsq + (bin.sumsq ?? 0),
        looks: state.looks + 1,
      }
    : { ...initialChangeState, looks: state.looks + 1 }
  return { state: out, increment: llr, threshold, alarm: s >= threshold }
}

/**
 * Bernoulli CUSUM of rate p0 (in control) against p1 > p0 (the change to detect), on a bin of
 * n trials with x events: ln LR = x ln(p1/p0) + (n - x) ln((1-p1)/(1-p0)).
 */
export function bernoulliCusumStep(
  state: ChangeState,
  bin: ChangeBin,
  options: { p0: number; p1: number; threshold: number },
): ChangeLook {
  const { p0, p1, threshold } = options
  if (!(p0 > 0 && p0 < 1 && p1 > p0 && p1 < 1))
    throw new RangeError(`need 0 < p0 < p1 < 1, got p0=${p0} p1=${p1}`)
  const x = bin.x ?? 0
  if (!(bin.n >= 0 && x >= 0 && x <= bin.n)) throw new RangeError(`bin needs 0 <= x <= n, got ${x}/${bin.n}`)
  if (bin.n === 0) return advance(state, bin, 0, threshold)
  const llr = x * Math.log(p1 / p0) + (bin.n - x) * Math.log((1 - p1) / (1 - p0))
  return advance(state, bin, llr, threshold)
}

/**
 * Gaussian CUSUM of mean mu0 against mu1 > mu0 with known per-observation variance, on a bin's
 * sum: ln LR = (mu1 - mu0)/σ² · (sum - n (mu0 + mu1)/2).
 */
export function gaussianCusumStep(
  state: ChangeState,
  bin: ChangeBin,
  options: { mu0: number; mu1: number; variance: number; threshold: number },
): ChangeLook {
  const { mu0, mu1, variance, threshold } = options
  if (!(mu1 > mu0) || !(variance > 0)) throw new RangeError(`need mu1 > mu0 and variance > 0`)
  if (bin.n === 0) return advance(state, bin, 0, threshold)
  const llr = ((mu1 - mu0) / variance) * ((bin.sum ?? 0) - (bin.n * (mu0 + mu1)) / 2)
  return advance(state, bin, llr, threshold)
}
