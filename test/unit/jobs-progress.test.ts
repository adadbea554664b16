// Progress lines of a long scoring run: done / total, rate, spend, failures, ETA; throttled.
import { describe, expect, it } from 'vitest'
import { createProgressThrottle, formatJobProgress } from '../../jobs/progress.ts'

describe('job progress', () => {
  it('reads as done/total, rate, spend, failures and ETA', () => {
    const line = formatJobProgress({
      job: 'judge',
      done: 120,
      total: 400,
      failed: 2,
      spendUsd: 0.0123,
      elapsedMs: 15_000,
      rate: 8,
      final: false,
    })
    expect(line).toBe('judge: 120/400 rows (30%), 8.0 rows/s, $0.0123 spent, 2 failed, eta 35s')
  })

  it('reports at most once per interval, and always a final line', () => {
    let t = 0
    const throttle = createProgressThrottle('refusal', 1000, 0, () => t)
    const p = (done: number) => ({ done, total: 100, failed: 0, spendUsd: 0 })
    t = 200
    expect(throttle.update(p(10))).toBeUndefined()
    t = 1200
    expect(throttle.update(p(50))?.rate).toBeCloseTo(50 / 1.2)
    t = 1500
    expect(throttle.update(p(60))).toBeUndefined()
    t = 2000
    const final = throttle.final(p(100))
    expect(final).toMatchObject({ done: 100, final: true, elapsedMs: 2000 })
    expect(formatJobProgress(final)).toBe('refusal: 100/100 rows (100%), 50.0 rows/s, $0.0000 spent, in 2.0s')
  })
})
