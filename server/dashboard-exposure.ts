// The risk-exposure page's JSON (GET /api/exposure): expected failures per day and dollars at
// risk per segment and version, from the config `exposure:` and measured traffic. Measuring is
// here (the registry's metric definitions through metrics/scope-stats.ts, bounded by a time
// window); the money is metrics/exposure.ts, the same code experiment and replay reports use.

import type { Config } from '../config/schema.ts'
import { storeDeployments } from '../deploy/api.ts'
import { dailyKey, measureDailyTraffic } from '../experiments/measure.ts'
import { exposureByVersion, pricedPairs, type VersionRate } from '../metrics/exposure.ts'
import { metricDefinition } from '../metrics/registry.ts'
import { fetchScopeStats, latestScorerVersion } from '../metrics/scope-stats.ts'
import type { Store } from '../store/store.ts'

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
  for (const metricName of [...new Set(pairs.map((p) => p.metric))]) {
    const metric = metricDefinition(metricName)
    const scorerVersion =
      metric.source === 'scores'
        ? await latestScorerVersion(store, metric.scorer, metric.scoreMetric)
        : undefined
    if (metric.source === 'scores' && !scorerVersion) continue // nothing scored yet
    const segments = pairs.filter((p) => p.metric === metricName).map((p) => p.segment)
    for (const segment of segments) {
      const stats = await fetchScopeStats(store, {
        metric,
        where: { segment },
        scorerVersion,
        poolVariants: true,
        from: window.from,
        to: window.to,
      })
      for (const s of stats)
        if (s.n > 0)
          rates.push({
            model_version: s.scope.model_version,
            segment: s.scope.segment,
            modality: s.scope.modality,
            metric: metricName,
            n: s.n,
            rate: s.value,
          })
    }
  }
  const daily = await measureDailyTraffic((sql, params) => store.query(sql, params))
  const traffic = (segment: string, modality: string) => daily.get(dailyKey(segment, modality)) ?? 0
  const rows = exposureByVersion(entries, rates, traffic, baselineVersion).slice(0, 500)
  const slices = [...new Set(rows.map((r) => dailyKey(r.segment, r.modality)))].map((k) => {
    const [segment = '', modality = ''] = k.split('\u0000')
    return { segment, modality, interactions_per_day: traffic(segment, modality) }
  })
  return { configured: true, window, baseline_version: baselineVersion, daily_traffic: slices, rows }
}
