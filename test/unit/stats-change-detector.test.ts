// The CUSUM change detector of compare_to: trailing rules (stats/change-detector.ts), seeded
// simulations at ~200 samples per one-minute bin: the false-alarm rate per day at the edge of
// the in-control null stays within alpha (h = ln(1440 / alpha)), and the delay after a drift
// does not grow with the hours of healthy data before it (a cumulative test's does).
import { describe, expect, it } from 'vitest'
import {
  bernoulliCusumStep,
  type ChangeState,
  createRng,
  cusumThreshold,
  initialChangeState,
  initialRateThresholdState,
  rateThresholdMsprtStep,
} from '../../stats/index.ts'

const P0 = 0.00625 // baseline 0.5 % + a quarter of a 0.5-point limit
const P1 = 0.01 // baseline + the limit

function run(
  seed: number,
  runs: number,
  minutes: number,
  rateAt: (minute: number) => number,
  threshold: number,
) {
  const rng = createRng(seed)
  const alarms: number[] = []
  for (let r = 0; r < runs; r++) {
    let state: ChangeState = initialChangeState
    let at = Number.POSITIVE_INFINITY
    for (let m = 0; m < minutes; m++) {
      const n = rng.binomial(400, 0.5)
      const look = bernoulliCusumStep(
        state,
        { n, x: rng.binomial(n, rateAt(m)) },
        { p0: P0, p1: P1, threshold },
      )
      state = look.state
      if (look.alarm) {
        at = m
        break
      }
    }
    alarms.push(at)
  }
  return alarms
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe('CUSUM change detector', () => {
  it('false alarms per day at the in-control edge stay within alpha', () => {
    const alpha = 0.05
    const alarms = run(11, 300, 1440, () => P0, cusumThreshold(alpha))
    const perDay = alarms.filter(Number.isFinite).length / alarms.length
    expect(perDay).toBeLessThanOrEqual(alpha + 0.02)
    // The bound ARL >= e^h is conservative (overshoot); a threshold of 4 nats alarms often.
    const loose = run(11, 300, 1440, () => P0, 4)
    expect(loose.filter(Number.isFinite).length / loose.length).toBeGreaterThan(3 * alpha)
  })

  it('detects 0.5 % -> 1.5 % with the same delay after 1 h or 12 h of healthy data', () => {
    const alpha = 0.01
    const delaysAfter = (start: number) =>
      run(12 + start, 100, start + 180, (m) => (m < start ? 0.005 : 0.015), cusumThreshold(alpha))
    const d1 = delaysAfter(60).map((m) => m - 60)
    const d12 = delaysAfter(720).map((m) => m - 720)
    expect(d1.every((d) => d >= 0 && Number.isFinite(d))).toBe(true)
    expect(d12.filter((d) => d >= 0 && Number.isFinite(d)).length).toBeGreaterThanOrEqual(99)
    expect(median(d1)).toBeLessThanOrEqual(40)
    expect(Math.abs(median(d12) - median(d1))).toBeLessThanOrEqual(5)
    // A cumulative always-valid test since the start is diluted by the healthy hours.
    const rng = createRng(13)
    let state = initialRateThresholdState({ confidence: 0.99, threshold: P1 })
    let n = 0
    let x = 0
    let fired = Number.POSITIVE_INFINITY
    for (let m = 0; m < 720 + 180 && !Number.isFinite(fired); m++) {
      const k = 200
      n += k
      x += rng.binomial(k, m < 720 ? 0.005 : 0.015)
      const look = rateThresholdMsprtStep(state, { x, n }, { confidence: 0.99, threshold: P1 })
      state = look.state
      if (look.fire) fired = m - 720
    }
    expect(fired).toBeGreaterThan(2 * median(d12))
  })
})
