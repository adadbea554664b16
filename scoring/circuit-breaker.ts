// Circuit breaker for one model endpoint: after N consecutive failed calls it stops sending
// requests for a cool-down, then lets exactly one probe through (half-open). This keeps a
// dead or overloaded model server from being hammered by every queued row, and lets the job
// re-queue rows cheaply (CircuitOpenError is retriable) instead of burning retries.

import { CircuitOpenError } from './errors.ts'

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number
  /** How long the circuit stays open before one probe request is allowed. */
  coolDownMs: number
  /** Name used in errors (an endpoint host or model name; never a URL with credentials). */
  name?: string
  now?: () => number
  onStateChange?: (change: { from: CircuitState; to: CircuitState; consecutiveFailures: number }) => void
}

/** Handed out by acquire(); give it back to record() so a probe's outcome is recognised. */
export interface CircuitPermit {
  readonly probe: boolean
}

/**
 * `success`: the endpoint answered sensibly (including 4xx: the server is alive, the request
 * was bad). `failure`: 5xx, 429, timeout, network error, garbage body. `neutral`: we don't
 * know (the caller aborted) — a probe slot is released without judging the endpoint.
 */
export type CallOutcome = 'success' | 'failure' | 'neutral'

const NORMAL: CircuitPermit = Object.freeze({ probe: false })
const PROBE: CircuitPermit = Object.freeze({ probe: true })

export class CircuitBreaker {
  private status: 'closed' | 'open' | 'half-open' = 'closed'
  private failures = 0
  private openedAt = 0
  private probeInFlight = false
  private readonly now: () => number
  private readonly name: string

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!(options.failureThreshold >= 1)) throw new RangeError('failureThreshold must be >= 1')
    if (!(options.coolDownMs >= 0)) throw new RangeError('coolDownMs must be >= 0')
    this.now = options.now ?? Date.now
    this.name = options.name ?? 'model'
  }

  /** Current state; an open circuit whose cool-down has passed reports half-open. */
  get state(): CircuitState {
    if (this.status === 'open' && this.now() - this.openedAt >= this.options.coolDownMs) return 'half-open'
    return this.status
  }

  get consecutiveFailures(): number {
    return this.failures
  }

  /** Cheap pre-check without taking a permit (used before queueing in the limiter). */
  throwIfOpen(): void {
    if (this.status === 'closed') return
    const elapsed = this.now() - this.openedAt
    if (this.status === 'open' && elapsed < this.options.coolDownMs) {
      throw new CircuitOpenError(this.name, this.options.coolDownMs - elapsed)
    }
    // Cool-down over: only one probe at a time decides between open and closed.
    if (this.probeInFlight) throw new CircuitOpenError(this.name, 0)
  }

  /** Permission to send one request, or CircuitOpenError. */
  acquire(): CircuitPermit {
    this.throwIfOpen()
    if (this.status === 'closed') return NORMAL
    this.transition('half-open')
    this.probeInFlight = true
    return PROBE
  }

  record(permit: CircuitPermit, outcome: CallOutcome): void {
    if (permit.probe) this.probeInFlight = false
    if (outcome === 'neutral') return
    if (outcome === 'success') {
      // Any answer proves the endpoint is reachable again, including a late one.
      this.failures = 0
      this.transition('closed')
      return
    }
    if (permit.probe) {
      this.openedAt = this.now()
      this.transition('open')
      return
    }
    // Failures of requests admitted before the circuit opened don't extend the cool-down.
    if (this.status !== 'closed') return
    this.failures++
    if (this.failures >= this.options.failureThreshold) {
      this.openedAt = this.now()
      this.transition('open')
    }
  }

  private transition(to: 'closed' | 'open' | 'half-open'): void {
    const from = this.status
    this.status = to
    if (from !== to) this.options.onStateChange?.({ from, to, consecutiveFailures: this.failures })
  }
}
