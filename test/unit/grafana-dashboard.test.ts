// The Grafana dashboard in infra/ queries only metrics that /metrics really exports.
import { readFileSync } from 'node:fs'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../lib/log.ts'
import { createTelemetry } from '../../server/telemetry.ts'
import type { Store } from '../../store/store.ts'

describe('infra/grafana-dashboard.json', () => {
  it('names only exported metrics', () => {
    // The store is read only when /metrics is scraped, which this test never does.
    const registry = createTelemetry({
      registry: new Registry(),
      store: {} as Store,
      log: silentLogger,
    }).registry
    const dashboard = JSON.parse(
      readFileSync(new URL('../../infra/grafana-dashboard.json', import.meta.url), 'utf8'),
    )
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.map((t) => t.expr),
    )
    const names = new Set(exprs.flatMap((e) => e.match(/driftwatch_[a-z0-9_]+/g) ?? []))
    expect(names.size).toBeGreaterThan(10)
    for (const name of names) {
      const base = name.replace(/_(bucket|sum|count)$/, '')
      expect(registry.getSingleMetric(base) ?? registry.getSingleMetric(name), name).toBeDefined()
    }
  })
})
