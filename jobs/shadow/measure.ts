// Measures the distance of each shadow pair: cosine distance of embeddings when an endpoint is
// configured, within its daily budget and answering; lexical (token-set Jaccard) otherwise.
// A failing endpoint (after the client's own retries) or an exhausted budget switches the rest
// of the run to lexical, and says so: a warn log line, fallback_reason on every pair measured
// lexically, and the job's outcome.

import { DriftwatchError, errorMessage } from '../../lib/errors.ts'
import type { Logger } from '../../lib/log.ts'
import type { EmbeddingsClient } from '../../scoring/embeddings-client.ts'
import {
  cosineDistance,
  type JudgedSide,
  judgeDisagreement,
  trivialDistance,
} from '../../shadow/divergence.ts'
import { LEXICAL_METHOD_VERSION, lexicalDistance } from '../../shadow/lexical.ts'
import type { MeasuredPair, ShadowPair } from '../../shadow/pair.ts'

export interface EmbeddingsSetup {
  client: EmbeddingsClient
  /** Texts per request. */
  batchSize: number
  pricePer1kTokens: number
  /** Tokens and USD left today; undefined = no cap. */
  remaining(): { tokens?: number; usd?: number }
  /** Records what a call spent (ledger + today's counters). */
  spent(tokens: number, usd: number): void
}

/** State carried across the batches of one run. */
export interface MeasureState {
  /** Set once the run fell back: every later batch is lexical without asking the endpoint. */
  fallbackReason: string
  embeddingCalls: number
  embeddingTokens: number
  embeddingUsd: number
}

export function newMeasureState(): MeasureState {
  return { fallbackReason: '', embeddingCalls: 0, embeddingTokens: 0, embeddingUsd: 0 }
}

const approxTokens = (text: string) => Math.ceil(text.length / 4)

export async function measurePairs(
  pairs: readonly ShadowPair[],
  judged: ReadonlyMap<string, Map<string, JudgedSide>>,
  options: { embeddings?: EmbeddingsSetup; state: MeasureState; log: Logger; signal: AbortSignal },
): Promise<MeasuredPair[]> {
  const { embeddings, state } = options
  const judge = (p: ShadowPair) => disagreementOf(judged.get(p.production_id), judged.get(p.shadow_id))
  const lexical = (p: ShadowPair, reason: string): MeasuredPair => ({
    pair: p,
    distance:
      trivialDistance(p.production_output, p.shadow_output) ??
      lexicalDistance(p.production_output, p.shadow_output),
    method: 'lexical',
    methodVersion: LEXICAL_METHOD_VERSION,
    fallbackReason: reason,
    judge: judge(p),
  })
  if (!embeddings) return pairs.map((p) => lexical(p, ''))
  if (state.fallbackReason) return pairs.map((p) => lexical(p, state.fallbackReason))

  const methodVersion = `embedding:${embeddings.client.model}`
  const texts: string[] = []
  const index = new Map<string, number>()
  for (const p of pairs) {
    if (trivialDistance(p.production_output, p.shadow_output) !== undefined) continue
    for (const t of [p.production_output, p.shadow_output]) {
      if (!index.has(t)) {
        index.set(t, texts.length)
        texts.push(t)
      }
    }
  }
  const vectors: number[][] = []
  try {
    for (let i = 0; i < texts.length; i += embeddings.batchSize) {
      const chunk = texts.slice(i, i + embeddings.batchSize)
      const left = embeddings.remaining()
      const estimate = chunk.reduce((n, t) => n + approxTokens(t), 0)
      if (
        (left.tokens !== undefined && estimate > left.tokens) ||
        (left.usd !== undefined && (estimate / 1000) * embeddings.pricePer1kTokens > left.usd)
      ) {
        throw new EmbeddingsBudgetError()
      }
      const r = await embeddings.client.embed(chunk, options.signal)
      const usd = (r.promptTokens / 1000) * embeddings.pricePer1kTokens
      embeddings.spent(r.promptTokens, usd)
      state.embeddingCalls++
      state.embeddingTokens += r.promptTokens
      state.embeddingUsd += usd
      vectors.push(...r.vectors)
    }
  } catch (error) {
    if (options.signal.aborted) throw error
    state.fallbackReason =
      error instanceof EmbeddingsBudgetError
        ? 'embeddings budget exhausted (shadow.embeddings.tokens_per_day / usd_per_day)'
        : `embeddings endpoint failed: ${errorMessage(error)}`
    options.log.warn('shadow: falling back to lexical similarity', {
      reason: error instanceof DriftwatchError ? error.code : 'UNKNOWN',
      detail: state.fallbackReason,
      pairs: pairs.length,
    })
    return pairs.map((p) => lexical(p, state.fallbackReason))
  }
  return pairs.map((p) => {
    const trivial = trivialDistance(p.production_output, p.shadow_output)
    const distance =
      trivial ??
      cosineDistance(vectors[index.get(p.production_output)!]!, vectors[index.get(p.shadow_output)!]!)
    return { pair: p, distance, method: 'embedding', methodVersion, fallbackReason: '', judge: judge(p) }
  })
}

class EmbeddingsBudgetError extends DriftwatchError {
  constructor() {
    super('EMBEDDINGS_BUDGET', 'embeddings budget exhausted for today', { retriable: false })
  }
}

/** Judge disagreement over the scorer versions both sides were judged with (the newest first). */
function disagreementOf(
  production: Map<string, JudgedSide> | undefined,
  shadow: Map<string, JudgedSide> | undefined,
) {
  if (production && shadow) {
    const common = [...production.keys()].filter((v) => shadow.has(v)).sort()
    const version = common[common.length - 1]
    if (version !== undefined) return judgeDisagreement(production.get(version), shadow.get(version))
  }
  return judgeDisagreement(undefined, undefined)
}
