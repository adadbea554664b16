// exposure: failure rates x measured traffic x cost per failure = dollars at risk per day.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { computeExposure } from '../../metrics/exposure.ts'

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
})
