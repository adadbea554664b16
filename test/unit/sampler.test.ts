// The sampler's rule, on the pure mirror of the SQL: deterministic by request_id (order,
// reruns and other rows do not matter for the rate part), the per-scope minimum on a skewed
// stream, errors and flagged rows always in, and budget priorities.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { scopeLabel } from '../../contract/scope.ts'
import {
  hashUnit,
  PRIORITY,
  requestHash,
  resolveSamplingPolicy,
  ruleForScope,
  type SampleCandidate,
  type SamplingPolicy,
  selectSample,
} from '../../jobs/sampler.ts'

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0)

function row(i: number, scope: Partial<SampleCandidate> = {}, minute = 0): SampleCandidate {
  return {
    request_id: `req-${i}`,
    timestamp: T0 + minute * 60_000 + (i % 1000),
    model_version: 'v1',
    variant_id: 'control',
    segment: 'customer_support',
    modality: 'text',
    status: 'ok',
    safety_flag: null,
    ...scope,
  }
}

const policy = (patch: Partial<SamplingPolicy> = {}): SamplingPolicy => ({
  rate: 0.05,
  minPerScope: 20,
  windowMinutes: 60,
  alwaysErrors: true,
  alwaysFlagged: true,
  overrides: [],
  ...patch,
})

/** A skewed stream: one huge scope, a mid one, and two rare ones (a rare segment and modality). */
function skewedStream(): SampleCandidate[] {
  const rows: SampleCandidate[] = []
  let i = 0
  for (let k = 0; k < 10_000; k++) rows.push(row(i++))
  for (let k = 0; k < 150; k++) rows.push(row(i++, { segment: 'invoice_extraction' }))
  for (let k = 0; k < 7; k++) rows.push(row(i++, { segment: 'legal_review' }))
  for (let k = 0; k < 12; k++) rows.push(row(i++, { modality: 'audio' }))
  return rows
}

const ids = (rows: { row: { request_id: string } }[]) => rows.map((r) => r.row.request_id)

describe('sampler hash', () => {
  it('is the first 48 bits of sha256, the same value ClickHouse computes', () => {
    // SELECT reinterpretAsUInt64(reverse(substring(SHA256('abc'), 1, 6))) = 205024940494593
    expect(requestHash('abc')).toBe(205024940494593)
    expect(hashUnit('abc')).toBe(205024940494593 / 2 ** 48)
  })

  it('is uniform enough that a 5% rate picks about 5% of 20,000 ids', () => {
    let n = 0
    for (let i = 0; i < 20_000; i++) if (hashUnit(`id-${i}`) < 0.05) n++
    expect(n / 20_000).toBeGreaterThan(0.045)
    expect(n / 20_000).toBeLessThan(0.055)
  })

  it('gives a salted hash independent of the plain one', () => {
    let both = 0
    for (let i = 0; i < 20_000; i++)
      if (hashUnit(`id-${i}`) < 0.1 && hashUnit(`id-${i}`, 'review:') < 0.1) both++
    expect(both / 20_000).toBeGreaterThan(0.006)
    expect(both / 20_000).toBeLessThan(0.014)
  })
})

describe('selectSample', () => {
  it('is deterministic: same rows in another order, or rerun, give the same selection in the same order', () => {
    const rows = skewedStream()
    const first = ids(selectSample(rows, policy()))
    const shuffled = [...rows].sort(
      (a, b) => hashUnit(a.request_id, 'shuffle') - hashUnit(b.request_id, 'shuffle'),
    )
    expect(ids(selectSample(shuffled, policy()))).toEqual(first)
    expect(ids(selectSample(rows, policy()))).toEqual(first)
  })

  it('chooses a rate-sampled row by its own hash, whatever other rows arrive (replicas agree)', () => {
    const rows = skewedStream()
    const big = rows.filter((r) => r.segment === 'customer_support' && r.modality === 'text')
    const half = big.filter((_, i) => i % 2 === 0)
    const rateOnly = (rs: SampleCandidate[]) =>
      new Set(selectSample(rs, policy({ minPerScope: 0 })).map((r) => r.row.request_id))
    const fromAll = rateOnly(big)
    const fromHalf = rateOnly(half)
    for (const r of half) expect(fromHalf.has(r.request_id)).toBe(fromAll.has(r.request_id))
  })

  it('meets the minimum per scope per window on a skewed stream, and keeps the rate elsewhere', () => {
    const selected = selectSample(skewedStream(), policy())
    const perScope = new Map<string, number>()
    for (const s of selected) perScope.set(scopeLabel(s.row), (perScope.get(scopeLabel(s.row)) ?? 0) + 1)
    expect(perScope.get('v1 | control | legal_review | text')).toBe(7) // fewer than the minimum: all
    expect(perScope.get('v1 | control | customer_support | audio')).toBe(12)
    expect(perScope.get('v1 | control | invoice_extraction | text')).toBe(20) // 5% of 150 < 20: the minimum
    const big = perScope.get('v1 | control | customer_support | text')!
    expect(big).toBeGreaterThan(430) // ~5% of 10,000
    expect(big).toBeLessThan(570)
  })

  it('takes the lowest-hash rows for the minimum, so the minimum nests inside the rate sample', () => {
    const rows = skewedStream().filter((r) => r.segment === 'invoice_extraction')
    const selected = selectSample(rows, policy({ minPerScope: 10 }))
    const lowest = [...rows]
      .sort((a, b) => requestHash(a.request_id) - requestHash(b.request_id))
      .slice(0, selected.length)
    expect(new Set(ids(selected))).toEqual(new Set(lowest.map((r) => r.request_id)))
    expect(selected.filter((s) => s.priority === PRIORITY.minimum)).toHaveLength(10)
  })

  it('applies the minimum per window: a rare scope gets it again in the next hour', () => {
    const rows = [...Array(30)].map((_, i) => row(i, { segment: 'legal_review' }, i < 15 ? 0 : 60))
    const selected = selectSample(rows, policy({ minPerScope: 5, rate: 0 }))
    expect(selected).toHaveLength(10)
    expect(new Set(selected.map((s) => s.window)).size).toBe(2)
  })

  it('always scores errors and app-flagged rows, unless switched off', () => {
    const rows = [...Array(2000)].map((_, i) =>
      row(i, i % 100 === 0 ? { status: 'error' } : i % 100 === 1 ? { safety_flag: true } : {}),
    )
    const on = selectSample(rows, policy({ minPerScope: 0, rate: 0 }))
    expect(on).toHaveLength(40)
    expect(on.every((s) => s.priority === PRIORITY.forced)).toBe(true)
    expect(
      selectSample(rows, policy({ minPerScope: 0, rate: 0, alwaysErrors: false, alwaysFlagged: false })),
    ).toHaveLength(0)
  })

  it('orders the work minimum first, then forced rows, then the rest of the rate sample', () => {
    const rows = skewedStream().map((r, i) => (i % 500 === 3 ? { ...r, status: 'error' } : r))
    const priorities = selectSample(rows, policy()).map((s) => s.priority)
    expect(priorities).toEqual([...priorities].sort((a, b) => a - b))
    expect(new Set(priorities)).toEqual(new Set([0, 1, 2]))
  })

  it('counts a request_id seen twice once', () => {
    const rows = [row(1, { segment: 'x' }), row(1, { segment: 'x' }), row(2, { segment: 'x' })]
    expect(selectSample(rows, policy())).toHaveLength(2)
  })

  it('lets the first matching override set rate and minimum per scope', () => {
    const p = policy({
      overrides: [
        { where: { segment: 'invoice_extraction', modality: 'text' }, rate: 0.5 },
        { where: { segment: 'invoice_extraction' }, rate: 0.2, minPerScope: 3 },
      ],
    })
    const scope = {
      model_version: 'v1',
      variant_id: 'control',
      segment: 'invoice_extraction',
      modality: 'text',
    }
    expect(ruleForScope(p, scope)).toEqual({ rate: 0.5, minPerScope: 20 })
    expect(ruleForScope(p, { ...scope, modality: 'image' })).toEqual({ rate: 0.2, minPerScope: 3 })
    expect(ruleForScope(p, { ...scope, segment: 'other' })).toEqual({ rate: 0.05, minPerScope: 20 })
  })
})

describe('sampling config', () => {
  it('documents its defaults and lets a scorer replace single keys', () => {
    const config = parseConfig({ scorers: { judge: { sampling: { rate: 0.01 } } } })
    expect(config.sampling).toEqual({
      rate: 0.05,
      min_per_scope: 20,
      window_minutes: 60,
      always_errors: true,
      always_flagged: true,
      overrides: [],
    })
    const judge = resolveSamplingPolicy(config.sampling, config.scorers.judge.sampling)
    expect(judge).toMatchObject({ rate: 0.01, minPerScope: 20, windowMinutes: 60 })
  })

  it('rejects an override that names no scope key, with the path', () => {
    expect(() => parseConfig({ sampling: { overrides: [{ where: {}, rate: 0.1 }] } })).toThrow(
      /sampling\.overrides\.0\.where/,
    )
  })
})
