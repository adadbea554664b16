// Risk in money: a failure rate becomes expected failures per day and dollars at risk per day
// from measured traffic and the configured cost of one failure (driftwatch.yaml `exposure:`),
// for the candidate and the baseline. Pure: rates and traffic in, numbers out.

import type { ExposureEntry } from '../config/schema.ts'
import { METRICS } from './registry.ts'

export interface ExposureInput {
  segment: string
  modality: string
  metric: string
  /** Interactions per day in this segment x modality (measured traffic). */
  dailyTraffic: number
  baselineRate: number | null
  candidateRate: number | null
}

export interface Exposure {
  segment: string
  modality: string
  metric: string
  usd_per_failure: number
  daily_traffic: number
  baseline: { failures_per_day: number; usd_per_day: number } | null
  candidate: { failures_per_day: number; usd_per_day: number } | null
  /** Candidate minus baseline, USD per day (positive = more money at risk). */
  delta_usd_per_day: number | null
}

/** The entry for a segment and metric: a metric-specific entry wins over a segment-wide one. */
export function exposureEntry(
  entries: readonly ExposureEntry[],
  segment: string,
  metric: string,
): ExposureEntry | undefined {
  return (
    entries.find((e) => e.segment === segment && e.metric === metric) ??
    entries.find((e) => e.segment === segment && e.metric === undefined)
  )
}

export function computeExposure(
  entries: readonly ExposureEntry[],
  inputs: readonly ExposureInput[],
): Exposure[] {
  const out: Exposure[] = []
  for (const i of inputs) {
    const entry = exposureEntry(entries, i.segment, i.metric)
    if (!entry) continue
    const side = (rate: number | null) =>
      rate === null
        ? null
        : {
            failures_per_day: rate * i.dailyTraffic,
            usd_per_day: rate * i.dailyTraffic * entry.usd_per_failure,
          }
    const baseline = side(i.baselineRate)
    const candidate = side(i.candidateRate)
    out.push({
      segment: i.segment,
      modality: i.modality,
      metric: i.metric,
      usd_per_failure: entry.usd_per_failure,
      daily_traffic: i.dailyTraffic,
      baseline,
      candidate,
      delta_usd_per_day: baseline && candidate ? candidate.usd_per_day - baseline.usd_per_day : null,
    })
  }
  return out
}

/** Metrics an `exposure:` entry can price: failure rates (kind rate, higher is worse). */
export function failureRateMetrics(): string[] {
  return Object.values(METRICS)
    .filter((m) => m.kind === 'rate' && m.worse === 'higher')
    .map((m) => m.name)
}

/** Every (segment, metric) pair the entries price: a segment-wide entry covers each failure rate. */
export function pricedPairs(entries: readonly ExposureEntry[]): { segment: string; metric: string }[] {
  const pairs = new Map<string, { segment: string; metric: string }>()
  for (const e of entries)
    for (const metric of e.metric ? [e.metric] : failureRateMetrics())
      pairs.set(`${e.segment}\u0000${metric}`, { segment: e.segment, metric })
  return [...pairs.values()]
}

/** One measured failure rate of a version in a segment x modality. */
export interface VersionRate {
  model_version: string
  segment: string
  modality: string
  metric: string
  n: number
  rate: number
}

export type VersionExposure = Exposure & {
  model_version: string
  baseline_version: string | null
  /** The version's measured rate and its sample size. */
  rate: number
  n: number
}

/**
 * Dollars at risk per version: each version's measured rate as the candidate against the
 * baseline version's rate in the same segment x modality x metric, on that slice's daily
 * traffic (as if the version served all of it). The baseline version's own row has a zero delta.
 */
export function exposureByVersion(
  entries: readonly ExposureEntry[],
  rates: readonly VersionRate[],
  dailyTraffic: (segment: string, modality: string) => number,
  baselineVersion: string | null,
): VersionExposure[] {
  const key = (r: Pick<VersionRate, 'segment' | 'modality' | 'metric'>) =>
    `${r.segment}\u0000${r.modality}\u0000${r.metric}`
  const baseline = new Map(
    rates.filter((r) => r.model_version === baselineVersion).map((r) => [key(r), r.rate]),
  )
  const out: VersionExposure[] = []
  for (const r of rates) {
    const [e] = computeExposure(entries, [
      {
        segment: r.segment,
        modality: r.modality,
        metric: r.metric,
        dailyTraffic: dailyTraffic(r.segment, r.modality),
        baselineRate: baseline.get(key(r)) ?? null,
        candidateRate: r.rate,
      },
    ])
    if (e)
      out.push({
        ...e,
        model_version: r.model_version,
        baseline_version: baseline.has(key(r)) ? baselineVersion : null,
        rate: r.rate,
        n: r.n,
      })
  }
  return out.sort(
    (a, b) =>
      (b.candidate?.usd_per_day ?? 0) - (a.candidate?.usd_per_day ?? 0) ||
      a.model_version.localeCompare(b.model_version),
  )
}
