// Client-side admission control for model calls: a FIFO concurrency limiter plus a token-bucket
// rate limiter. Both are O(1) per call with at most one pending timer for the whole bucket (no
// polling), because they sit in front of every scoring request.

export interface TokenBucketOptions {
  /** Tokens added per second. Infinity disables the rate limit. */
  ratePerSecond: number
  /** Bucket size: how many requests may go out back-to-back after an idle period. */
  burst: number
  now?: () => number
}

/** Pure token bucket (clock injected) so its arithmetic is testable without timers. */
export class TokenBucket {
  private tokens: number
  private last: number
  private readonly now: () => number

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0))
      throw new RangeError('ratePerSecond must be > 0 (Infinity for no limit)')
    if (!(options.burst >= 1)) throw new RangeError('burst must be >= 1')
    this.now = options.now ?? (() => performance.now())
    this.tokens = options.burst
    this.last = this.now()
  }

  get unlimited(): boolean {
    return this.options.ratePerSecond === Number.POSITIVE_INFINITY
  }

  /** Takes one token if available. */
  tryTake(): boolean {
    if (this.unlimited) return true
    this.refill()
    if (this.tokens >= 1) {
      this.tokens -= 1
      return true
    }
    return false
  }

  /** Milliseconds until one token is available (0 if one is available now). */
  msUntilToken(): number {
    if (this.unlimited) return 0
    this.refill()
    if (this.tokens >= 1) return 0
    return Math.ceil(((1 - this.tokens) * 1000) / this.options.ratePerSecond)
  }

  private refill(): void {
    const now = this.now()
    const elapsed = now - this.last
    this.last = now
    if (elapsed > 0)
      this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.ratePerSecond) / 1000)
  }
}

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError')
}

function enqueue(queue: Waiter[], signal: AbortSignal | undefined, after?: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const waiter: Waiter = { resolve, reject, signal, onAbort: undefined }
    if (signal) {
      waiter.onAbort = () => {
        const index = queue.indexOf(waiter)
        if (index >= 0) queue.splice(index, 1)
        reject(abortReason(signal))
      }
      signal.addEventListener('abort', waiter.onAbort, { once: true })
    }
    queue.push(waiter)
    after?.()
  })
}

function settle(waiter: Waiter): void {
  if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort)
  waiter.resolve()
}

/** Waits for tokens from a TokenBucket in FIFO order with a single timer. */
export class RateLimiter {
  private readonly waiters: Waiter[] = []
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly bucket: TokenBucket) {}

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    // Fast path keeps FIFO: only skip the queue when nobody is waiting.
    if (this.waiters.length === 0 && this.bucket.tryTake()) return Promise.resolve()
    return enqueue(this.waiters, signal, () => this.schedule())
  }

  get queued(): number {
    return this.waiters.length
  }

  private schedule(): void {
    if (this.timer !== undefined || this.waiters.length === 0) return
    // Timers may fire a little early; a 1 ms floor avoids a busy loop of 0 ms timers.
    const wait = Math.max(1, this.bucket.msUntilToken())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.drain()
    }, wait)
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.bucket.tryTake()) settle(this.waiters.shift()!)
    this.schedule()
  }
}

/** FIFO semaphore. */
export class ConcurrencyLimiter {
  private active = 0
  private maxSeen = 0
  private readonly waiters: Waiter[] = []

  constructor(readonly maxConcurrency: number) {
    if (!(maxConcurrency >= 1) || !Number.isInteger(maxConcurrency)) {
      throw new RangeError('maxConcurrency must be an integer >= 1')
    }
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal)
    if (this.active < this.maxConcurrency && this.waiters.length === 0) {
      this.take()
      return
    }
    // release() hands the slot over directly (active stays counted) so nobody can cut in.
    await enqueue(this.waiters, signal)
  }

  release(): void {
    const next = this.waiters.shift()
    if (next) {
      settle(next)
      return
    }
    this.active--
  }

  get stats(): { active: number; queued: number; maxActiveSeen: number } {
    return { active: this.active, queued: this.waiters.length, maxActiveSeen: this.maxSeen }
  }

  private take(): void {
    this.active++
    if (this.active > this.maxSeen) this.maxSeen = this.active
  }
}

export interface LimiterOptions {
  maxConcurrency: number
  /** Sustained requests per second; Infinity for no rate limit. */
  requestsPerSecond: number
  /** Token-bucket size; default 1 (strict spacing, never more than rps+1 in any second). */
  burst?: number
  now?: () => number
}

export interface LimiterStats {
  active: number
  waitingForSlot: number
  waitingForToken: number
  maxActiveSeen: number
}

export interface Limiter {
  /** Runs fn once a concurrency slot and a rate token are both held; the slot is freed after. */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>
  stats(): LimiterStats
}

export function createLimiter(options: LimiterOptions): Limiter {
  const slots = new ConcurrencyLimiter(options.maxConcurrency)
  const rate = new RateLimiter(
    new TokenBucket({
      ratePerSecond: options.requestsPerSecond,
      burst: options.burst ?? 1,
      now: options.now,
    }),
  )
  let waitingForToken = 0
  return {
    async run(fn, signal) {
      await slots.acquire(signal)
      try {
        // Slot first, then token: the token is spent at the moment the request really goes
        // out, so the server never sees more than the configured rate.
        waitingForToken++
        try {
          await rate.acquire(signal)
        } finally {
          waitingForToken--
        }
        return await fn()
      } finally {
        slots.release()
      }
    },
    stats() {
      const s = slots.stats
      return { active: s.active, waitingForSlot: s.queued, waitingForToken, maxActiveSeen: s.maxActiveSeen }
    },
  }
}
