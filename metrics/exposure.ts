// Risk in money: a failure rate becomes expected failures per day and dollars at risk per day
// from measured traffic and the configured cost of one failure (driftwatch.yaml `exposure:`),
// for the candidate and the baseline. Pure: rates and traffic in, numbers out.

import type { ExposureEntry } from '../config/schema.ts'

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
