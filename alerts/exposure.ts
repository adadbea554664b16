// Dollars at risk on an alert: the rule's observed failure rate (candidate) and its baseline,
// priced by the config `exposure:` on the scope's measured daily traffic (metrics/exposure.ts,
// the same arithmetic as experiment and replay reports). Pure, plus an emitter wrapper that
// measures the traffic and attaches the block before any sink builds its payload.

import type { ExposureEntry } from '../config/schema.ts'
import { errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import { computeExposure } from '../metrics/exposure.ts'
import { METRICS } from '../metrics/registry.ts'
import type { Alert, AlertExposure } from './alert.ts'
import type { AlertEmitter } from './emitter.ts'

/** The exposure of one alert, or undefined when `exposure:` does not price its segment and metric. */
export function alertExposure(
  alert: Pick<Alert, 'metric' | 'scope' | 'observed' | 'baseline'>,
  entries: readonly ExposureEntry[],
  dailyTraffic: number,
): AlertExposure | undefined {
  const metric = METRICS[alert.metric]
  if (metric?.kind !== 'rate' || metric.worse !== 'higher') return undefined
  const [e] = computeExposure(entries, [
    {
      segment: alert.scope.segment,
      modality: alert.scope.modality,
      metric: alert.metric,
      dailyTraffic,
      baselineRate: alert.baseline,
      candidateRate: alert.observed,
    },
  ])
  if (!e) return undefined
  return {
    usd_per_failure: e.usd_per_failure,
    daily_traffic: e.daily_traffic,
    candidate: e.candidate,
    baseline: e.baseline,
    delta_usd_per_day: e.delta_usd_per_day,
  }
}

export interface ExposureEmitterOptions {
  entries: readonly ExposureEntry[]
  /** Measured interactions per day of a segment x modality (experiments/measure.ts measureDailyTraffic). */
  dailyTraffic: (segment: string, modality: string) => Promise<number>
  log: Logger
}

/**
 * Wraps an emitter so every alert it sends carries its exposure. A failed traffic measurement
 * never blocks the page: the alert goes out without the block, and the failure is logged.
 */
export function withExposure(emitter: AlertEmitter, options: ExposureEmitterOptions): AlertEmitter {
  if (options.entries.length === 0) return emitter
  return {
    sinksFor: (alert, emitOptions) => emitter.sinksFor(alert, emitOptions),
    async emit(alert, emitOptions) {
      let enriched = alert
      if (alert.exposure === undefined && alertExposure(alert, options.entries, 0)) {
        try {
          const traffic = await options.dailyTraffic(alert.scope.segment, alert.scope.modality)
          const exposure = alertExposure(alert, options.entries, traffic)
          if (exposure) enriched = { ...alert, exposure }
        } catch (error) {
          options.log.warn('exposure not measured; alert sent without it', {
            dedup_key: alert.dedup_key,
            error: errorMessage(error),
          })
        }
      }
      return emitter.emit(enriched, emitOptions)
    },
  }
}
