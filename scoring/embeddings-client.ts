// HTTP client for an OpenAI-compatible POST {baseUrl}/embeddings (OpenAI, vLLM, Ollama,
// text-embeddings-inference): texts in, one vector per text out, in input order. The same
// caller as the chat client (scoring/model-client.ts): per-attempt timeout, retries honouring
// Retry-After, circuit breaker, concurrency and rate limit. Never logs the texts.

import { z } from 'zod'
import { ModelResponseError } from './errors.ts'
import { createCaller, type ModelClientOptions, type ModelClientStats } from './model-client.ts'

export interface EmbeddingsResult {
  vectors: number[][]
  promptTokens: number
  latencyMs: number
  attempts: number
}

export interface EmbeddingsClient {
  readonly model: string
  embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbeddingsResult>
  stats(): ModelClientStats
}

/** The part of OpenAI's embeddings answer driftwatch relies on; base64 vectors are little-endian float32. */
export const embeddingsResponseSchema = z.object({
  data: z
    .array(
      z.object({
        index: z.number().int().nonnegative(),
        embedding: z.union([z.array(z.number()), z.string()]),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().int().nonnegative() }).optional(),
})

export function createEmbeddingsClient(
  options: ModelClientOptions & { dimensions?: number },
): EmbeddingsClient {
  const caller = createCaller(options)
  const url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`
  return {
    model: options.model,
    stats: caller.stats,
    async embed(texts, signal) {
      const body = JSON.stringify({
        model: options.model,
        input: texts,
        encoding_format: 'float',
        ...(options.dimensions ? { dimensions: options.dimensions } : {}),
      })
      const r = await caller.call(
        url,
        body,
        (text, status) => parseEmbeddings(text, status, texts, options.configKey),
        signal,
        (result) => ({ vectors: result.vectors.length, promptTokens: result.promptTokens }),
      )
      return {
        vectors: r.vectors,
        promptTokens: r.promptTokens,
        latencyMs: r.latencyMs,
        attempts: r.attempts,
      }
    },
  }
}

function parseEmbeddings(
  text: string,
  status: number,
  texts: readonly string[],
  configKey: string | undefined,
): { vectors: number[][]; promptTokens: number } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ModelResponseError(
      `embeddings endpoint answered ${status} with a body that is not JSON (${text.length} bytes)`,
      { cause: error, configKey },
    )
  }
  const parsed = embeddingsResponseSchema.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ')
    throw new ModelResponseError(
      `embeddings endpoint answered ${status} with a body that is not an embeddings list: ${problems}`,
      { configKey },
    )
  }
  const vectors: number[][] = new Array(texts.length)
  for (const item of parsed.data.data) {
    if (item.index >= texts.length) {
      throw new ModelResponseError(
        `embeddings endpoint returned index ${item.index} for ${texts.length} inputs`,
        { configKey },
      )
    }
    vectors[item.index] =
      typeof item.embedding === 'string' ? decodeBase64Floats(item.embedding) : item.embedding
  }
  const missing = texts.findIndex((_, i) => vectors[i] === undefined)
  if (missing >= 0 || new Set(vectors.map((v) => v.length)).size !== 1) {
    throw new ModelResponseError(
      missing >= 0
        ? `embeddings endpoint returned no vector for input ${missing} of ${texts.length}`
        : 'embeddings endpoint returned vectors of different lengths',
      { configKey },
    )
  }
  const estimated = texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0)
  return { vectors, promptTokens: parsed.data.usage?.prompt_tokens ?? estimated }
}

function decodeBase64Floats(text: string): number[] {
  const bytes = Buffer.from(text, 'base64')
  const out: number[] = []
  for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(bytes.readFloatLE(i))
  return out
}
