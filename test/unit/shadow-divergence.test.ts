// The shadow job's pure parts: lexical similarity (token-set Jaccard), cosine distance, judge
// disagreement, the rows stored per pair, the review pick, the report's statistics, and the
// synthetic shadow twins.
import { describe, expect, it } from 'vitest'
import { InteractionSchema } from '../../contract/interaction.ts'
import { fakeEmbedding } from '../../fakes/openai-server.ts'
import { SHADOW_REWRITE_TEXT, syntheticInteraction, syntheticShadowTwin } from '../../producers/synthetic.ts'
import { cosineDistance, judgeDisagreement, trivialDistance } from '../../shadow/divergence.ts'
import { jaccardSimilarity, lexicalDistance, tokenSet } from '../../shadow/lexical.ts'
import {
  type MeasuredPair,
  mostDivergent,
  pairRow,
  pairScoreRows,
  type ShadowPair,
} from '../../shadow/pair.ts'
import { buildShadowReport, type StoredPair } from '../../shadow/report.ts'

describe('lexical similarity (token-set Jaccard)', () => {
  it('is 1 for the same words regardless of case, punctuation, order and repeats', () => {
    expect(jaccardSimilarity('Reset your password.', 'reset YOUR password')).toBe(1)
    expect(jaccardSimilarity('a b c', 'c, b; a a a')).toBe(1)
    expect(lexicalDistance('', '')).toBe(0)
    expect([...tokenSet('Ünïcode café 42!')]).toEqual(['ünïcode', 'café', '42'])
  })

  it('is |A∩B| / |A∪B|: computed by hand', () => {
    // {the, cat, sat} vs {the, cat, ran, away}: 2 common of 5 distinct.
    expect(jaccardSimilarity('the cat sat', 'the cat ran away')).toBeCloseTo(2 / 5, 12)
    expect(lexicalDistance('the cat sat', 'the cat ran away')).toBeCloseTo(3 / 5, 12)
    expect(lexicalDistance('alpha beta', 'gamma delta')).toBe(1)
    expect(lexicalDistance('text', '')).toBe(1)
  })
})

describe('cosine distance and judge disagreement', () => {
  it('0 for the same direction, 1 for orthogonal, clamped for opposite', () => {
    expect(cosineDistance([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 12)
    expect(cosineDistance([1, 0], [0, 1])).toBeCloseTo(1, 12)
    expect(cosineDistance([1, 0], [-1, 0])).toBe(1)
    expect(cosineDistance([1, 1], [1, 0])).toBeCloseTo(1 - Math.SQRT1_2, 12)
    expect(cosineDistance([0, 0], [0, 0])).toBe(0)
    expect(() => cosineDistance([1], [1, 2])).toThrow(RangeError)
  })

  it('the fake server embeds identical text identically and a rewrite far away', () => {
    const a = 'Check that the router is on the latest version under Settings > About.'
    expect(cosineDistance(fakeEmbedding(a), fakeEmbedding(a))).toBeCloseTo(0, 12)
    expect(cosineDistance(fakeEmbedding(a), fakeEmbedding(SHADOW_REWRITE_TEXT))).toBeGreaterThan(0.8)
  })

  it('judge disagreement: helpfulness difference / 4, hallucination mismatch', () => {
    expect(
      judgeDisagreement({ helpfulness: 5, hallucination: 0 }, { helpfulness: 2, hallucination: 1 }),
    ).toEqual({
      helpfulness: 0.75,
      hallucination: 1,
    })
    expect(judgeDisagreement({ helpfulness: 4 }, undefined)).toEqual({
      helpfulness: null,
      hallucination: null,
    })
  })

  it('an empty side decides without a model: both empty 0, one empty 1', () => {
    expect(trivialDistance('', ' ')).toBe(0)
    expect(trivialDistance('answer', '')).toBe(1)
    expect(trivialDistance('same', 'same')).toBe(0)
    expect(trivialDistance('a', 'b')).toBeUndefined()
  })
})

const pair = (id: string, extra: Partial<ShadowPair> = {}): ShadowPair => ({
  shadow_id: id,
  production_id: `p-${id}`,
  timestamp: Date.UTC(2026, 0, 1),
  shadow_version: 'v2-shadow',
  production_version: 'v1',
  variant_id: 'shadow',
  segment: 'customer_support',
  modality: 'text',
  shadow_output: 'x',
  production_output: 'y',
  shadow_status: 'ok',
  production_status: 'ok',
  shadow_latency_ms: 100,
  production_latency_ms: 90,
  shadow_cost_usd: 0.002,
  production_cost_usd: 0.001,
  ...extra,
})
const measured = (id: string, distance: number): MeasuredPair => ({
  pair: pair(id),
  distance,
  method: 'lexical',
  methodVersion: 'lexical-jaccard-v1',
  fallbackReason: '',
  judge: { helpfulness: null, hallucination: null },
})

describe('stored rows', () => {
  it('scores carry the shadow scope; divergent is distance > threshold', () => {
    const rows = pairScoreRows(measured('s1', 0.31), 0.3, 'run', 0)
    expect(rows.map((r) => [r.metric, r.value, r.model_version, r.scorer, r.scorer_version])).toEqual([
      ['divergent', 1, 'v2-shadow', 'shadow', 'shadow-v1/lexical-jaccard-v1'],
      ['divergence', 0.31, 'v2-shadow', 'shadow', 'shadow-v1/lexical-jaccard-v1'],
    ])
    expect(pairScoreRows(measured('s1', 0.3), 0.3, 'run', 0)[0]!.value).toBe(0)
    expect(pairRow(measured('s1', 0.5), 0.3, 'run', 0)).toMatchObject({
      shadow_request_id: 's1',
      production_request_id: 'p-s1',
      method: 'lexical',
      divergent: true,
    })
  })

  it('review gets the most divergent pairs above the threshold, most divergent first', () => {
    const picked = mostDivergent(
      [measured('a', 0.9), measured('b', 0.2), measured('c', 0.95), measured('d', 0.5)],
      0.3,
      2,
    )
    expect(picked.map((m) => m.pair.shadow_id)).toEqual(['c', 'a'])
  })
})

describe('shadow report', () => {
  const stored = (i: number, extra: Partial<StoredPair> = {}): StoredPair => ({
    shadow_version: 'v2-shadow',
    production_version: 'v1',
    segment: 'code_assist',
    modality: 'text',
    method: 'embedding',
    fallback_reason: '',
    distance: i % 4 === 0 ? 0.9 : 0,
    divergent: i % 4 === 0,
    judge_helpfulness_diff: null,
    judge_hallucination_disagree: null,
    production_status: 'ok',
    shadow_status: 'ok',
    production_latency_ms: 100 + i,
    shadow_latency_ms: 300 + i,
    production_cost_usd: 0.001 + (i % 3) * 1e-4,
    shadow_cost_usd: 0.002 + (i % 3) * 1e-4,
    ...extra,
  })

  it('divergence mean and rate, latency quantiles and cost per scope; fallbacks are named', () => {
    const rows = [
      ...Array.from({ length: 40 }, (_, i) => stored(i)),
      stored(1, { modality: 'image', method: 'lexical', fallback_reason: 'embeddings endpoint failed: 503' }),
    ]
    const r = buildShadowReport(rows, 0.3)
    expect(r.pairs).toBe(41)
    expect(r.divergent).toBe(10)
    expect(r.fallback).toEqual({ pairs: 1, reasons: ['embeddings endpoint failed: 503'] })
    const text = r.scopes.find((s) => s.modality === 'text')!
    expect(text.divergence_rate).toBe(0.25)
    expect(text.divergence_mean).toBeCloseTo(0.225, 10)
    // Latencies 100..139 vs 300..339: medians 119.5 and 319.5, a shift of exactly 200.
    expect(text.latency_ms.p50).toMatchObject({ production: 119.5, shadow: 319.5, diff: 200 })
    expect(text.latency_ms.p95.ci_low!).toBeGreaterThan(150)
    expect(text.cost_usd.diff).toBeCloseTo(0.001, 9)
    expect(text.cost_usd.p_value!).toBeLessThan(1e-6)
    expect(r.scopes.find((s) => s.modality === 'image')!.methods).toEqual({ embedding: 0, lexical: 1 })
  })
})

describe('synthetic shadow twins', () => {
  const options = { seed: 5, shadow: { version: 'v2-shadow', rewriteRate: 0.25 } }

  it('answer the same request under the shadow version, linked by shadow_of, valid under the contract', () => {
    let twins = 0
    let rewritten = 0
    let identical = 0
    for (let i = 0; i < 2000; i++) {
      const production = syntheticInteraction(i, options)
      const twin = syntheticShadowTwin(i, options)
      if (production.variant_id === 'shadow') {
        expect(twin).toBeUndefined()
        continue
      }
      twins++
      expect(InteractionSchema.parse(twin)).toBeTruthy()
      expect(twin).toMatchObject({
        shadow_of: production.request_id,
        model_version: 'v2-shadow',
        variant_id: 'shadow',
        user_input: production.user_input,
        segment: production.segment,
      })
      expect(twin!.request_id).not.toBe(production.request_id)
      if (twin!.model_output === SHADOW_REWRITE_TEXT) rewritten++
      if (twin!.model_output === production.model_output && production.status === 'ok') identical++
    }
    expect(twins).toBeGreaterThan(1800)
    expect(rewritten / twins).toBeGreaterThan(0.2)
    expect(rewritten / twins).toBeLessThan(0.32)
    expect(identical / twins).toBeGreaterThan(0.6)
    expect(syntheticShadowTwin(7, { seed: 5 })).toBeUndefined()
    expect(syntheticShadowTwin(7, options)).toEqual(syntheticShadowTwin(7, options))
  })
})
