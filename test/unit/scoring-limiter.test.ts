import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../../scoring/circuit-breaker.ts'
import { CircuitOpenError } from '../../scoring/errors.ts'
import { ConcurrencyLimiter, createLimiter, TokenBucket } from '../../scoring/limiter.ts'

describe('TokenBucket (fake clock)', () => {
  it('allows a burst, then one token per 1/rate seconds', () => {
    let t = 0
    const bucket = new TokenBucket({ ratePerSecond: 4, burst: 2, now: () => t })
    expect(bucket.tryTake()).toBe(true)
    expect(bucket.tryTake()).toBe(true)
    expect(bucket.tryTake()).toBe(false)
    expect(bucket.msUntilToken()).toBe(250)
    t += 100
    expect(bucket.tryTake()).toBe(false)
    expect(bucket.msUntilToken()).toBe(150)
    t += 150
    expect(bucket.tryTake()).toBe(true)
    t += 10_000 // long idle refills only up to the burst
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false])
  })

  it('Infinity means unlimited', () => {
    const bucket = new TokenBucket({ ratePerSecond: Number.POSITIVE_INFINITY, burst: 1 })
    for (let i = 0; i < 1000; i++) expect(bucket.tryTake()).toBe(true)
    expect(bucket.msUntilToken()).toBe(0)
  })

  it('rejects nonsense settings', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError)
    expect(() => new TokenBucket({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError)
    expect(() => new ConcurrencyLimiter(0)).toThrow(RangeError)
    expect(() => new ConcurrencyLimiter(1.5)).toThrow(RangeError)
  })
})

describe('ConcurrencyLimiter', () => {
  it('admits waiters in FIFO order and hands slots over directly', async () => {
    const limiter = new ConcurrencyLimiter(1)
    await limiter.acquire()
    const order: number[] = []
    const waiting = [1, 2, 3].map((n) => limiter.acquire().then(() => order.push(n)))
    expect(limiter.stats).toMatchObject({ active: 1, queued: 3 })
    for (let i = 0; i < 3; i++) {
      limiter.release()
      await Promise.resolve()
      await Promise.resolve()
    }
    await Promise.all(waiting)
    expect(order).toEqual([1, 2, 3])
    limiter.release()
    expect(limiter.stats).toMatchObject({ active: 0, queued: 0, maxActiveSeen: 1 })
  })

  it('an aborted waiter leaves the queue', async () => {
    const limiter = new ConcurrencyLimiter(1)
    await limiter.acquire()
    const controller = new AbortController()
    const waiting = limiter.acquire(controller.signal)
    controller.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
    expect(limiter.stats.queued).toBe(0)
    limiter.release()
    expect(limiter.stats.active).toBe(0)
  })
})

describe('createLimiter', () => {
  it('runs at most maxConcurrency functions at once and frees slots on failure', async () => {
    const limiter = createLimiter({ maxConcurrency: 2, requestsPerSecond: Number.POSITIVE_INFINITY })
    let running = 0
    let peak = 0
    const task = (fail: boolean) =>
      limiter.run(async () => {
        running++
        peak = Math.max(peak, running)
        await new Promise((r) => setTimeout(r, 5))
        running--
        if (fail) throw new Error('boom')
        return 'ok'
      })
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => task(i % 3 === 0)))
    expect(peak).toBe(2)
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4)
    expect(limiter.stats()).toMatchObject({
      active: 0,
      waitingForSlot: 0,
      waitingForToken: 0,
      maxActiveSeen: 2,
    })
  })

  it('releases its token wait when aborted', async () => {
    const limiter = createLimiter({ maxConcurrency: 5, requestsPerSecond: 1 })
    await limiter.run(async () => {}) // spends the only token
    const controller = new AbortController()
    const pending = limiter.run(async () => 'never', controller.signal)
    controller.abort(new Error('cancelled'))
    await expect(pending).rejects.toThrow('cancelled')
    expect(limiter.stats()).toMatchObject({ active: 0, waitingForToken: 0 })
  })
})

describe('CircuitBreaker (fake clock)', () => {
  function breaker(threshold = 3, coolDownMs = 1_000) {
    let t = 0
    const changes: string[] = []
    const b = new CircuitBreaker({
      failureThreshold: threshold,
      coolDownMs,
      now: () => t,
      onStateChange: ({ from, to }) => changes.push(`${from}->${to}`),
    })
    return { b, changes, advance: (ms: number) => (t += ms) }
  }

  it('only consecutive failures count', () => {
    const { b } = breaker(3)
    for (const outcome of ['failure', 'failure', 'success', 'failure', 'failure'] as const)
      b.record(b.acquire(), outcome)
    expect(b.state).toBe('closed')
    b.record(b.acquire(), 'failure')
    expect(b.state).toBe('open')
  })

  it('open → half-open probe → closed on success', () => {
    const { b, changes, advance } = breaker(1, 1_000)
    b.record(b.acquire(), 'failure')
    expect(() => b.acquire()).toThrow(CircuitOpenError)
    advance(999)
    expect(() => b.acquire()).toThrow(CircuitOpenError)
    advance(1)
    const probe = b.acquire()
    expect(probe.probe).toBe(true)
    expect(() => b.acquire()).toThrow(CircuitOpenError) // one probe at a time
    b.record(probe, 'success')
    expect(b.state).toBe('closed')
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed'])
  })

  it('a failed probe re-opens with a fresh cool-down; a neutral one frees the probe slot', () => {
    const { b, advance } = breaker(1, 1_000)
    b.record(b.acquire(), 'failure')
    advance(1_000)
    b.record(b.acquire(), 'failure')
    expect(b.state).toBe('open')
    advance(500)
    expect(() => b.acquire()).toThrow(CircuitOpenError)
    advance(500)
    const probe = b.acquire()
    b.record(probe, 'neutral') // caller aborted: we learnt nothing
    expect(b.acquire().probe).toBe(true)
  })

  it('late failures of requests admitted before opening do not extend the cool-down', () => {
    const { b, advance } = breaker(2, 1_000)
    const early = [b.acquire(), b.acquire(), b.acquire()]
    b.record(early[0]!, 'failure')
    b.record(early[1]!, 'failure')
    advance(900)
    b.record(early[2]!, 'failure')
    advance(100)
    expect(b.state).toBe('half-open')
  })

  it('CircuitOpenError is typed and retriable with the remaining cool-down', () => {
    const { b, advance } = breaker(1, 1_000)
    b.record(b.acquire(), 'failure')
    advance(300)
    try {
      b.acquire()
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(CircuitOpenError)
      expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', retriable: true, retryAfterMs: 700 })
    }
  })
})
