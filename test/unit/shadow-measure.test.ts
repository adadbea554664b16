// measurePairs: embeddings when the endpoint answers and the budget allows, lexical with the
// reason when either fails; once fallen back, a run does not ask the endpoint again.
import { describe, expect, it } from 'vitest'
import { fakeEmbedding } from '../../fakes/openai-server.ts'
import { type EmbeddingsSetup, measurePairs, newMeasureState } from '../../jobs/shadow/measure.ts'
import { HttpError } from '../../lib/errors.ts'
import { silentLogger } from '../../lib/log.ts'
import type { EmbeddingsClient } from '../../scoring/embeddings-client.ts'
import type { ShadowPair } from '../../shadow/pair.ts'

const pair = (id: string, production: string, shadow: string): ShadowPair => ({
  shadow_id: id,
  production_id: `p-${id}`,
  timestamp: 0,
  shadow_version: 'v2-shadow',
  production_version: 'v1',
  variant_id: 'shadow',
  segment: 's',
  modality: 'text',
  shadow_output: shadow,
  production_output: production,
  shadow_status: 'ok',
  production_status: 'ok',
  shadow_latency_ms: 1,
  production_latency_ms: 1,
  shadow_cost_usd: null,
  production_cost_usd: null,
})
const pairs = [
  pair('a', 'reset the router and sign in again', 'reset the router and sign in again'),
  pair('b', 'reset the router and sign in again', 'contact our specialists by email'),
  pair('c', 'the refund takes five days', 'refund takes five days, the'),
]

function setup(client: Partial<EmbeddingsClient>, tokensLeft?: number) {
  const calls: string[][] = []
  const spent: number[] = []
  const embeddings: EmbeddingsSetup = {
    client: {
      model: 'embed-small',
      stats: () => ({}) as never,
      embed: async (texts) => {
        calls.push([...texts])
        return client.embed
          ? client.embed(texts)
          : { vectors: texts.map((t) => fakeEmbedding(t)), promptTokens: 10, latencyMs: 1, attempts: 1 }
      },
    },
    batchSize: 2,
    pricePer1kTokens: 1,
    remaining: () => ({ tokens: tokensLeft }),
    spent: (t) => spent.push(t),
  }
  return { embeddings, calls, spent }
}
const options = (embeddings: EmbeddingsSetup | undefined, state = newMeasureState()) => ({
  embeddings,
  state,
  log: silentLogger,
  signal: new AbortController().signal,
})

describe('measurePairs', () => {
  it('embeds distinct non-trivial texts in batches and measures cosine distance', async () => {
    const { embeddings, calls, spent } = setup({})
    const state = newMeasureState()
    const out = await measurePairs(pairs, new Map(), options(embeddings, state))
    expect(out.map((m) => m.method)).toEqual(['embedding', 'embedding', 'embedding'])
    expect(out[0]!.distance).toBe(0) // identical: no model call needed
    expect(out[1]!.distance).toBeGreaterThan(0.7)
    expect(out[2]!.distance).toBeCloseTo(0, 10) // same words: same fake vector
    // 4 distinct texts of pairs b and c, 2 per request.
    expect(calls.map((c) => c.length)).toEqual([2, 2])
    expect(spent).toEqual([10, 10])
    expect(state).toMatchObject({
      embeddingCalls: 2,
      embeddingTokens: 20,
      embeddingUsd: 0.02,
      fallbackReason: '',
    })
  })

  it('lexical without an endpoint, with no fallback reason', async () => {
    const out = await measurePairs(pairs, new Map(), options(undefined))
    expect(out.map((m) => [m.method, m.fallbackReason])).toEqual([
      ['lexical', ''],
      ['lexical', ''],
      ['lexical', ''],
    ])
    expect(out[2]!.distance).toBe(0)
  })

  it('a failing endpoint: lexical with the reason, and later batches do not call it again', async () => {
    const { embeddings, calls } = setup({
      embed: async () => {
        throw new HttpError(503, 'model endpoint 127.0.0.1 answered 503: overloaded')
      },
    })
    const state = newMeasureState()
    const out = await measurePairs(pairs, new Map(), options(embeddings, state))
    expect(out.every((m) => m.method === 'lexical')).toBe(true)
    expect(state.fallbackReason).toMatch(/^embeddings endpoint failed: .*503/)
    expect(out[1]!.fallbackReason).toBe(state.fallbackReason)
    await measurePairs(pairs, new Map(), options(embeddings, state))
    expect(calls.length).toBe(1)
  })

  it('an exhausted budget: lexical, naming the budget keys, no call made', async () => {
    const { embeddings, calls } = setup({}, 0)
    const state = newMeasureState()
    const out = await measurePairs(pairs, new Map(), options(embeddings, state))
    expect(calls.length).toBe(0)
    expect(out[1]!.fallbackReason).toMatch(/budget exhausted \(shadow\.embeddings\.tokens_per_day/)
  })

  it('judge disagreement over the newest judge version both sides share', async () => {
    const judged = new Map([
      ['p-a', new Map([['judge-v1', { helpfulness: 5, hallucination: 0 }]])],
      ['a', new Map([['judge-v1', { helpfulness: 3, hallucination: 1 }]])],
    ])
    const [a, b] = await measurePairs(pairs, judged, options(undefined))
    expect(a!.judge).toEqual({ helpfulness: 0.5, hallucination: 1 })
    expect(b!.judge).toEqual({ helpfulness: null, hallucination: null })
  })
})
