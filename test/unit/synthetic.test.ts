import { describe, expect, it } from 'vitest'
import { type Interaction, InteractionSchema } from '../../contract/interaction.ts'
import {
  interactionJsonBytes,
  mulberry32,
  REFUSAL_TEXT,
  syntheticInteraction,
  syntheticInteractions,
  syntheticJsonBytes,
  syntheticRequestId,
} from '../../producers/synthetic.ts'

const N = 20_000
const events: Interaction[] = [...syntheticInteractions(N, { seed: 1 })]
const share = (predicate: (e: Interaction) => boolean, of: Interaction[] = events) =>
  of.filter(predicate).length / of.length
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!

describe('synthetic interactions', () => {
  it('are deterministic and random-access: interaction i depends only on (seed, i)', () => {
    expect(syntheticInteraction(123, { seed: 1 })).toEqual(events[123])
    expect([...syntheticInteractions(3, { seed: 1 }, 500)]).toEqual(events.slice(500, 503))
    expect(syntheticJsonBytes(9, { seed: 1 }).equals(interactionJsonBytes(events[9]!))).toBe(true)
    expect(syntheticInteraction(123, { seed: 2 })).not.toEqual(events[123])
  })

  it('have unique, UUID-shaped request ids that differ between seeds', () => {
    const ids = new Set(events.map((e) => e.request_id))
    expect(ids.size).toBe(N)
    for (const id of [...ids].slice(0, 100))
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(syntheticRequestId(1, 0)).not.toBe(syntheticRequestId(2, 0))
    // The low 48 bits are a bijection of i: no collisions even far apart.
    expect(syntheticRequestId(1, 2 ** 40)).not.toBe(syntheticRequestId(1, 0))
  })

  it('are valid under the contract and already normalised', () => {
    for (const event of events.slice(0, 5000)) expect(InteractionSchema.parse(event)).toEqual(event)
  })

  it('are about 1 KB of JSON', () => {
    const sizes = events.map((e) => interactionJsonBytes(e).length)
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length
    expect(mean).toBeGreaterThan(850)
    expect(mean).toBeLessThan(1400)
    expect(Math.max(...sizes)).toBeLessThan(2048)
  })

  it('have ordered timestamps from a fixed start', () => {
    for (let i = 1; i < 1000; i++)
      expect(events[i]!.timestamp).toBeGreaterThanOrEqual(events[i - 1]!.timestamp)
    expect(
      syntheticInteraction(0, { startMs: Date.UTC(2026, 0, 1), seed: 1 }).timestamp,
    ).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 1))
  })

  it('split traffic: control on the stable version, canary and shadow on the canary version', () => {
    expect(share((e) => e.variant_id === 'control')).toBeCloseTo(0.8, 1)
    expect(share((e) => e.variant_id === 'canary')).toBeCloseTo(0.15, 1)
    expect(share((e) => e.variant_id === 'shadow')).toBeGreaterThan(0.03)
    for (const e of events.slice(0, 2000))
      expect(e.model_version).toBe(e.variant_id === 'control' ? 'v1' : 'v2')
    expect(new Set(events.map((e) => e.model_name))).toEqual(new Set(['llama-3.1-8b']))
  })

  it('cover the segments, text dominates modalities, RAG segments carry context', () => {
    expect(new Set(events.map((e) => e.segment))).toEqual(
      new Set(['customer_support', 'invoice_extraction', 'code_assist', 'summarization', 'knowledge_qa']),
    )
    expect(share((e) => e.modality === 'text')).toBeGreaterThan(0.75)
    expect(new Set(events.map((e) => e.modality)).size).toBe(5)
    for (const e of events.slice(0, 2000)) {
      if (e.segment === 'code_assist') expect(e.context).toEqual([])
      else expect(e.context.length).toBeGreaterThan(0)
    }
  })

  it('have small error, timeout and refusal rates with consistent fields', () => {
    expect(share((e) => e.status === 'error')).toBeGreaterThan(0.005)
    expect(share((e) => e.status === 'error')).toBeLessThan(0.02)
    expect(share((e) => e.status === 'timeout')).toBeLessThan(0.01)
    expect(share((e) => e.model_output === REFUSAL_TEXT)).toBeGreaterThan(0.01)
    expect(share((e) => e.model_output === REFUSAL_TEXT)).toBeLessThan(0.03)
    for (const e of events) {
      if (e.status !== 'ok') {
        expect(e.model_output).toBe('')
        expect(e.completion_tokens).toBe(0)
        expect(e.cost_usd).toBeNull()
      }
      if (e.status === 'timeout') expect(e.latency_ms).toBeGreaterThanOrEqual(30_000)
      if (e.ttft_ms !== null) expect(e.ttft_ms).toBeLessThanOrEqual(e.latency_ms)
    }
  })

  it('have plausible latency, tokens and cost', () => {
    const ok = events.filter((e) => e.status === 'ok')
    const p50 = median(ok.map((e) => e.latency_ms))
    expect(p50).toBeGreaterThan(500)
    expect(p50).toBeLessThan(5000)
    expect(median(ok.map((e) => e.ttft_ms!))).toBeGreaterThan(150)
    expect(median(ok.map((e) => e.prompt_tokens))).toBeGreaterThan(300)
    expect(median(ok.map((e) => e.cost_usd!))).toBeGreaterThan(0)
    expect(share((e) => e.user_feedback_score !== null)).toBeCloseTo(0.08, 1)
    expect(Object.keys(events[0]!.attributes).sort()).toEqual([
      'app_version',
      'channel',
      'customer_tier',
      'region',
    ])
  })

  it('shift one version for drift tests without touching the other version', () => {
    const drifted = [
      ...syntheticInteractions(N, {
        seed: 1,
        versions: { v2: { latencyOffsetMs: 300, errorRate: 0.2, refusalRate: 0.1 } },
      }),
    ]
    const ofVersion = (list: Interaction[], v: string) =>
      list.filter((e) => e.model_version === v && e.status === 'ok')
    const shift =
      median(ofVersion(drifted, 'v2').map((e) => e.latency_ms)) -
      median(ofVersion(events, 'v2').map((e) => e.latency_ms))
    expect(shift).toBeGreaterThan(200)
    expect(shift).toBeLessThan(400)
    const v2 = drifted.filter((e) => e.model_version === 'v2')
    expect(share((e) => e.status === 'error', v2)).toBeGreaterThan(0.15)
    expect(share((e) => e.model_output === REFUSAL_TEXT, v2)).toBeGreaterThan(0.06)
    // v1 traffic is byte-for-byte what it was without the knob.
    drifted.forEach((e, i) => {
      if (e.model_version === 'v1') expect(e).toEqual(events[i])
    })
  })

  it('scale latency by a multiplier', () => {
    const slow = [...syntheticInteractions(5000, { seed: 1, versions: { v1: { latencyMultiplier: 2 } } })]
    const ok = (list: Interaction[]) =>
      list.filter((e) => e.model_version === 'v1' && e.status === 'ok').map((e) => e.latency_ms)
    const ratio = median(ok(slow)) / median(ok(events.slice(0, 5000)))
    expect(ratio).toBeGreaterThan(1.9)
    expect(ratio).toBeLessThan(2.1)
  })
})

describe('mulberry32', () => {
  it('is deterministic and uniform enough', () => {
    const a = mulberry32(7)
    const b = mulberry32(7)
    const xs = Array.from({ length: 10_000 }, () => a())
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()))
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1)
  })
})
