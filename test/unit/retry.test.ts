import { describe, expect, it } from 'vitest'
import { HttpError, isRetriable } from '../../lib/errors.ts'
import { backoffDelay, withRetry } from '../../lib/retry.ts'

const noSleep = async () => {}

describe('withRetry', () => {
  it('retries retriable errors and returns the first success', async () => {
    let calls = 0
    const result = await withRetry(
      async () => {
        calls++
        if (calls < 3) throw new HttpError(503, 'unavailable')
        return 'ok'
      },
      { retries: 5, initialMs: 1, maxMs: 10, sleep: noSleep },
    )
    expect(result).toBe('ok')
    expect(calls).toBe(3)
  })

  it('never retries a programming error or a non-retriable error', async () => {
    let calls = 0
    await expect(
      withRetry(
        async () => {
          calls++
          return (null as never as { x: number }).x
        },
        {
          retries: 5,
          initialMs: 1,
          maxMs: 1,
          sleep: noSleep,
        },
      ),
    ).rejects.toThrow(TypeError)
    expect(calls).toBe(1)
    await expect(
      withRetry(
        async () => {
          calls++
          throw new HttpError(400, 'bad')
        },
        { retries: 5, initialMs: 1, maxMs: 1, sleep: noSleep },
      ),
    ).rejects.toThrow('bad')
    expect(calls).toBe(2)
  })

  it("treats fetch's network TypeError as an outage", () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    })
    expect(isRetriable(refused)).toBe(true)
    expect(isRetriable(new TypeError('x is not a function'))).toBe(false)
  })

  it('honours Retry-After, capped', async () => {
    const delays: number[] = []
    let calls = 0
    await withRetry(
      async () => {
        if (calls++ < 2)
          throw new HttpError(429, 'slow down', { retryAfterMs: calls === 1 ? 2000 : 10_000_000 })
      },
      {
        retries: 3,
        initialMs: 1,
        maxMs: 10,
        maxRetryAfterMs: 60_000,
        sleep: async (ms) => void delays.push(ms),
      },
    )
    expect(delays).toEqual([2000, 60_000])
  })

  it('grows the backoff exponentially up to the cap, with bounded jitter', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 0.2 }
    expect(backoffDelay(0, opts, () => 0)).toBe(80)
    expect(backoffDelay(0, opts, () => 1)).toBe(100)
    expect(backoffDelay(3, opts, () => 1)).toBe(800)
    expect(backoffDelay(10, opts, () => 1)).toBe(1000)
  })
})
