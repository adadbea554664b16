// exposure: failure rates x measured traffic x cost per failure = dollars at risk per day.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import {
  computeExposure,
  exposureByVersion,
  failureRateMetrics,
  pricedPairs,
} from '../../metrics/exposure.ts'

describe('exposure', () => {
  const { exposure } = parseConfig({
    exposure: [
      { segment: 'invoice_extraction', metric: 'hallucination_rate', usd_per_failure: 50 },
      { segment: 'invoice_extraction', usd_per_failure: 5 },
    ],
  })

  it('turns rates into failures and dollars per day, candidate vs baseline; metric entries win', () => {
    const [h, r] = computeExposure(exposure, [
      {
        segment: 'invoice_extraction',
        modality: 'text',
        metric: 'hallucination_rate',
        dailyTraffic: 2000,
        baselineRate: 0.01,
        candidateRate: 0.015,
      },
      {
        segment: 'invoice_extraction',
        modality: 'text',
        metric: 'refusal_rate',
        dailyTraffic: 2000,
        baselineRate: 0.02,
        candidateRate: 0.02,
      },
      {
        segment: 'code_assist',
        modality: 'text',
        metric: 'refusal_rate',
        dailyTraffic: 9000,
        baselineRate: 0.02,
        candidateRate: 0.5,
      },
    ])
    // 2,000/day x 1 % = 20 failures = $1,000; x 1.5 % = 30 = $1,500: $500/day more at risk.
    expect(h!.baseline!.failures_per_day).toBeCloseTo(20, 9)
    expect(h!.candidate!.usd_per_day).toBeCloseTo(1500, 9)
    expect(h!.delta_usd_per_day).toBeCloseTo(500, 9)
    expect(r!.usd_per_failure).toBe(5)
    expect(r!.delta_usd_per_day).toBeCloseTo(0, 9)
  })

  it('only failure-rate metrics can be priced; the error names the key', () => {
    expect(() =>
      parseConfig({ exposure: [{ segment: 's', metric: 'latency_p95_ms', usd_per_failure: 1 }] }),
    ).toThrow(/exposure\.0\.metric: not a failure-rate metric/)
  })

  it('per version: each version against the baseline version in the same slice; unpriced slices dropped', () => {
    const rows = exposureByVersion(
      exposure,
      [
        {
          model_version: 'v1',
          segment: 'invoice_extraction',
          modality: 'text',
          metric: 'hallucination_rate',
          n: 900,
          rate: 0.01,
        },
        {
          model_version: 'v2',
          segment: 'invoice_extraction',
          modality: 'text',
          metric: 'hallucination_rate',
          n: 100,
          rate: 0.03,
        },
        {
          model_version: 'v2',
          segment: 'invoice_extraction',
          modality: 'image',
          metric: 'hallucination_rate',
          n: 50,
          rate: 0.1,
        },
        {
          model_version: 'v2',
          segment: 'unpriced',
          modality: 'text',
          metric: 'error_rate',
          n: 50,
          rate: 0.5,
        },
      ],
      (_segment, modality) => (modality === 'text' ? 2_000 : 100),
      'v1',
    )
    expect(rows.map((r) => `${r.model_version}/${r.modality}`)).toEqual(['v2/text', 'v1/text', 'v2/image']) // most USD/day first
    const [v2text, v1text, v2image] = rows
    // 2,000/day x 3 % x $50 = $3,000 vs 2,000 x 1 % x $50 = $1,000.
    expect(v2text!.candidate!.usd_per_day).toBeCloseTo(3000, 9)
    expect(v2text!.delta_usd_per_day).toBeCloseTo(2000, 9)
    expect(v2text!.baseline_version).toBe('v1')
    // No baseline measured in that slice: the candidate side only.
    expect(v2image!.baseline).toBeNull()
    expect(v2image!.baseline_version).toBeNull()
    expect(v2image!.candidate!.failures_per_day).toBeCloseTo(10, 9)
    expect(v1text!.delta_usd_per_day).toBe(0)
  })

  it('pricedPairs: a segment-wide entry covers every failure rate', () => {
    const pairs = pricedPairs(exposure).map((p) => `${p.segment}:${p.metric}`)
    expect(pairs).toContain('invoice_extraction:hallucination_rate')
    for (const m of failureRateMetrics()) expect(pairs.some((p) => p.endsWith(`:${m}`))).toBe(true)
    expect(failureRateMetrics()).not.toContain('latency_p95_ms')
  })
})
