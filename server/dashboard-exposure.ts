// The risk-exposure page's JSON (GET /api/exposure): expected failures per day and dollars at
// risk per segment and version, from the config `exposure:` and measured traffic. Measuring is
// here (the registry's metric definitions through metrics/scope-stats.ts, bounded by a time
// window); the money is metrics/exposure.ts, the same code experiment and replay reports use.

import type { Config } from '../config/schema.ts'
import { storeDeployments } from '../deploy/api.ts'
import { dailyKey } from '../experiments/measure.ts'
import { exposureByVersion, pricedPairs, type VersionRate } from '../metrics/exposure.ts'
import { metricDefinition } from '../metrics/registry.ts'
import { fetchScopeStats, latestScorerVersion } from '../metrics/scope-stats.ts'
import type { Store } from '../store/store.ts'
import { clickhouseTime } from '../store/time.ts'

export interface ExposureWindow {
  from: number
  to: number
}

export async function exposureReport(store: Store, config: Config, window: ExposureWindow) {
  const entries = config.exposure
  if (entries.length === 0)
    return { configured: false, window, baseline_version: null, daily_traffic: [], rows: [] }
  const baselineVersion = (await storeDeployments(store).lastStable())?.model_version ?? null
  const pairs = pricedPairs(entries)
  const rates: VersionRate[] = []
  const priced = new Set(pairs.map((p) => `${p.segment}\u0000${p.metric}`))
  // One query per metric over the window, every segment; the unpriced segments are dropped here.
  for (const metricName of [...new Set(pairs.map((p) => p.metric))]) {
    const metric = metricDefinition(metricName)
    const scorerVersion =
      metric.source === 'scores'
        ? await latestScorerVersion(store, metric.scorer, metric.scoreMetric)
        : undefined
    if (metric.source === 'scores' && !scorerVersion) continue // nothing scored yet
    const stats = await fetchScopeStats(store, {
      metric,
      scorerVersion,
      poolVariants: true,
      from: window.from,
      to: window.to,
    })
    for (const s of stats)
      if (s.n > 0 && priced.has(`${s.scope.segment}\u0000${metricName}`))
        rates.push({
          model_version: s.scope.model_version,
          segment: s.scope.segment,
          modality: s.scope.modality,
          metric: metricName,
          n: s.n,
          rate: s.value,
        })
  }
  const daily = await windowTraffic(store, window, [...new Set(pairs.map((p) => p.segment))])
  const traffic = (segment: string, modality: string) => daily.get(dailyKey(segment, modality)) ?? 0
  const rows = exposureByVersion(entries, rates, traffic, baselineVersion).slice(0, 500)
  const slices = [...new Set(rows.map((r) => dailyKey(r.segment, r.modality)))].map((k) => {
    const [segment = '', modality = ''] = k.split('\u0000')
    return { segment, modality, interactions_per_day: traffic(segment, modality) }
  })
  return { configured: true, window, baseline_version: baselineVersion, daily_traffic: slices, rows }
}

/**
 * Interactions per day of each priced segment x modality, measured over the page's window
 * (bounded, unlike the 7-day look of experiments/measure.ts measureDailyTraffic): the count
 * over the span the data covers in the window (at least an hour), scaled to a day.
 */
async function windowTraffic(
  store: Store,
  window: ExposureWindow,
  segments: readonly string[],
): Promise<Map<string, number>> {
  const rows = await store.query<{ segment: string; modality: string; n: number; span_ms: number }>(
    `SELECT segment, modality, count() AS n,
            greatest(3600000, toUnixTimestamp64Milli(max(timestamp)) - toUnixTimestamp64Milli(min(timestamp))) AS span_ms
     FROM interactions
     WHERE timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
       AND segment IN {segments:Array(String)} AND variant_id != 'replay'
     GROUP BY segment, modality LIMIT 10000`,
    { from: clickhouseTime(window.from), to: clickhouseTime(window.to), segments },
  )
  return new Map(
    rows.map((r) => [dailyKey(r.segment, r.modality), (Number(r.n) / Number(r.span_ms)) * 86_400_000]),
  )
}
