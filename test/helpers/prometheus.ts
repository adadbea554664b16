// Reads a /metrics answer with a real Prometheus text-format parser, so tests check values
// by metric name and labels instead of matching strings.
import parsePrometheusTextFormat from 'parse-prometheus-text-format'

interface Family {
  name: string
  type: string
  metrics: { value?: string; labels?: Record<string, string>; count?: string; sum?: string }[]
}

export interface Scrape {
  families: Map<string, Family>
  /** Sum of a counter or gauge over the series whose labels include `labels`. */
  value(name: string, labels?: Record<string, string>): number
  /** _count of an unlabelled histogram (the parser folds the series of labelled ones). */
  count(name: string): number
}

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, { headers })
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`)
  const families = new Map(
    (parsePrometheusTextFormat(await response.text()) as Family[]).map((f) => [f.name, f]),
  )
  const matching = (name: string, labels: Record<string, string>) => {
    const family = families.get(name)
    if (!family) throw new Error(`no metric ${name} in /metrics`)
    return family.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  }
  return {
    families,
    value: (name, labels = {}) => matching(name, labels).reduce((sum, m) => sum + Number(m.value), 0),
    count: (name) => matching(name, {}).reduce((sum, m) => sum + Number(m.count ?? 0), 0),
  }
}
