// Progress of a running job as one human line (done / total, rate, spend, failures, ETA) and
// the throttle that decides when a line is worth printing. Pure; the clock is passed in.

import type { JobProgress } from './registry.ts'

export interface ProgressReport extends JobProgress {
  job: string
  elapsedMs: number
  /** Rows per second since the run started. */
  rate: number
  final: boolean
}

const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

export function formatJobProgress(p: ProgressReport): string {
  const pct = p.total > 0 ? ` (${Math.floor((100 * p.done) / p.total)}%)` : ''
  const parts = [
    `${count.format(p.done)}/${count.format(p.total)} rows${pct}`,
    `${formatRate(p.rate)} rows/s`,
    `$${formatUsd(p.spendUsd)} spent`,
  ]
  if (p.failed > 0) parts.push(`${count.format(p.failed)} failed`)
  if (!p.final && p.rate > 0 && p.total > p.done)
    parts.push(`eta ${formatDuration(((p.total - p.done) / p.rate) * 1000)}`)
  if (p.final) parts.push(`in ${formatDuration(p.elapsedMs)}`)
  return `${p.job}: ${parts.join(', ')}`
}

export function formatUsd(usd: number): string {
  return usd >= 1 ? usd.toFixed(2) : usd.toFixed(4)
}

function formatRate(rate: number): string {
  return rate >= 100 ? count.format(rate) : rate.toFixed(1)
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${s}s`
  const m = Math.floor(s / 60)
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

/** Turns a stream of progress calls into reports at most every intervalMs, plus the final one. */
export function createProgressThrottle(
  job: string,
  intervalMs: number,
  startedAt: number,
  now: () => number,
) {
  let lastAt = startedAt
  let last: JobProgress = { done: 0, total: 0, failed: 0, spendUsd: 0 }
  const report = (p: JobProgress, final: boolean): ProgressReport => {
    const elapsedMs = Math.max(1, now() - startedAt)
    return { ...p, job, elapsedMs, rate: (p.done * 1000) / elapsedMs, final }
  }
  return {
    /** A report when one is due, else undefined. */
    update(p: JobProgress): ProgressReport | undefined {
      last = p
      const t = now()
      if (t - lastAt < intervalMs) return undefined
      lastAt = t
      return report(p, false)
    },
    final(p: JobProgress = last): ProgressReport {
      return report(p, true)
    },
    get last(): JobProgress {
      return last
    },
  }
}
