// A realistic alert decision, valid against AlertSchema: for docs, the demo and tests, so all
// of them show the same numbers and a change to the contract breaks them together.

import { type Alert, dedupKey } from './alert.ts'

export function exampleAlert(overrides: Partial<Alert> = {}): Alert {
  const scope = {
    model_version: 'llama-3.1-8b-ft-2025-06-02',
    variant_id: 'canary',
    segment: 'invoice_extraction',
    modality: 'text',
  }
  const base: Alert = {
    rule: 'invoice-hallucination',
    metric: 'hallucination_rate',
    action: 'rollback',
    scope,
    state: 'firing',
    model_name: 'llama-3.1-8b-instruct',
    observed: 0.021,
    baseline: 0.006,
    threshold: 0.01,
    comparison: 'above',
    p_value: 0.0003,
    confidence: 0.99,
    ci_low: 0.0142,
    ci_high: 0.0297,
    n: 1204,
    baseline_n: 18311,
    window: { start: '2025-06-03T10:00:00.000Z', end: '2025-06-03T11:00:00.000Z' },
    from_version: scope.model_version,
    to_version: 'llama-3.1-8b-ft-2025-05-20',
    fired_at: '2025-06-03T11:00:12.000Z',
    resolved_at: null,
    dedup_key: dedupKey('invoice-hallucination', scope, scope.model_version),
    reproduce_sql:
      "SELECT countIf(s.label = 'hallucinated') / count() AS hallucination_rate, count() AS n\n" +
      'FROM interactions AS i INNER JOIN scores AS s ON s.request_id = i.request_id\n' +
      "WHERE s.metric = 'hallucination' AND i.model_version = 'llama-3.1-8b-ft-2025-06-02'\n" +
      "  AND i.variant_id = 'canary' AND i.segment = 'invoice_extraction' AND i.modality = 'text'\n" +
      "  AND i.timestamp >= '2025-06-03 10:00:00' AND i.timestamp < '2025-06-03 11:00:00'",
    message: 'hallucination_rate 0.021 > 0.01 (n=1,204, p=0.0003 < 0.01)',
  }
  return { ...base, ...overrides }
}

/** The same incident, healthy again: numbers at resolution, fired_at unchanged. */
export function exampleResolvedAlert(overrides: Partial<Alert> = {}): Alert {
  return exampleAlert({
    state: 'resolved',
    observed: 0.004,
    ci_low: 0.0021,
    ci_high: 0.0068,
    n: 1310,
    window: { start: '2025-06-03T12:00:00.000Z', end: '2025-06-03T13:00:00.000Z' },
    resolved_at: '2025-06-03T13:00:09.000Z',
    message: 'hallucination_rate 0.004 <= 0.01 (n=1,310): healthy',
    ...overrides,
  })
}
