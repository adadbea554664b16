// Adapters from the model scorers (scoring/llama-guard.ts, scoring/judge.ts) to what the
// scoring job needs: a version, a primary metric and "interaction in, metric values out".
// Also builds each scorer's HTTP client from driftwatch.yaml; the API key is read from the
// environment variable the config names, never from the YAML.

import { resolve } from 'node:path'
import type { JudgeConfig, LlamaGuardConfig } from '../config/schema.ts'
import { ConfigError } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { TokenUsage } from '../scoring/errors.ts'
import { createJudge, JUDGE_TEMPLATE_URL, loadJudgeTemplate } from '../scoring/judge.ts'
import { createLlamaGuardScorer } from '../scoring/llama-guard.ts'
import { createModelClient, type ModelClient, type ModelClientOptions } from '../scoring/model-client.ts'
import type { MetricValue, ScorerIdentity } from './score-rows.ts'

/** An interaction with the text a model scorer reads. */
export interface InteractionText {
  request_id: string
  user_input: string
  model_output: string
  context: string[]
}

export interface ModelScoring {
  metrics: MetricValue[]
  usage: TokenUsage
}

export interface ModelScorerAdapter extends ScorerIdentity {
  readonly client: ModelClient
  score(row: InteractionText, signal: AbortSignal): Promise<ModelScoring>
  /** Rough usage of one call before any call was made (the budget's first guess). */
  estimate(row: InteractionText): TokenUsage
}

/** Code-level knobs of the HTTP client that are not in driftwatch.yaml (tests, benchmarks). */
export type ClientOverrides = Partial<
  Pick<ModelClientOptions, 'backoff' | 'circuitBreaker' | 'maxRetryAfterMs' | 'fetch' | 'burst'>
>

export interface AdapterOptions {
  log: Logger
  env?: NodeJS.ProcessEnv
  cwd?: string
  client?: ClientOverrides
}

type ModelScorerConfig = LlamaGuardConfig | JudgeConfig

export function createScorerClient(
  name: string,
  config: ModelScorerConfig,
  options: AdapterOptions,
): ModelClient {
  if (!config.base_url || !config.model) {
    throw new ConfigError(`scorers.${name} needs base_url and model`, {
      fix: `set scorers.${name}.base_url and scorers.${name}.model`,
    })
  }
  const apiKey = apiKeyFromEnv(`scorers.${name}`, config.api_key_env, options.env ?? process.env)
  return createModelClient({
    baseUrl: config.base_url,
    model: config.model,
    apiKey,
    timeoutMs: config.timeout_ms,
    maxRetries: config.max_retries,
    maxConcurrency: config.max_concurrency,
    requestsPerSecond: config.requests_per_second,
    configKey: `scorers.${name}`,
    log: options.log,
    ...options.client,
  })
}

const approxTokens = (text: string) => Math.ceil(text.length / 4)

export function createLlamaGuardAdapter(
  config: LlamaGuardConfig,
  options: AdapterOptions,
): ModelScorerAdapter {
  const client = createScorerClient('llama_guard', config, options)
  const scorer = createLlamaGuardScorer({ client, promptMode: config.prompt_mode })
  return {
    scorer: 'llama_guard',
    scorerVersion: scorer.scorerVersion,
    primaryMetric: 'unsafe',
    client,
    async score(row, signal) {
      const verdict = await scorer.score({ userInput: row.user_input, modelOutput: row.model_output }, signal)
      return {
        usage: { promptTokens: verdict.promptTokens, completionTokens: verdict.completionTokens },
        metrics: [
          {
            metric: 'unsafe',
            value: verdict.unsafe ? 1 : 0,
            label: verdict.unsafe ? 'unsafe' : 'safe',
            categories: verdict.categories,
            categoryNames: verdict.categoryNames,
          },
        ],
      }
    },
    estimate: (row) => ({
      promptTokens: approxTokens(row.user_input + row.model_output) + 350,
      completionTokens: 5,
    }),
  }
}

export async function createJudgeAdapter(
  config: JudgeConfig,
  options: AdapterOptions,
): Promise<ModelScorerAdapter> {
  const client = createScorerClient('judge', config, options)
  const source = config.prompt ? resolve(options.cwd ?? process.cwd(), config.prompt) : JUDGE_TEMPLATE_URL
  const template = await loadJudgeTemplate(source).catch((error: unknown) => {
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new ConfigError(`scorers.judge.prompt: ${String(source)} does not exist`, {
        fix: 'point it at a prompt file (see prompts/judge-v1.md) or remove it to use the shipped one',
        cause: error,
      })
    }
    throw error
  })
  const judge = createJudge({ client, template, responseFormat: config.response_format })
  return {
    scorer: 'judge',
    scorerVersion: judge.scorerVersion,
    primaryMetric: 'hallucination',
    client,
    async score(row, signal) {
      const context = row.context.filter((c) => c.trim() !== '').join('\n\n')
      const answer = await judge.score(
        { userInput: row.user_input, modelOutput: row.model_output, context: context || null },
        signal,
      )
      return {
        usage: { promptTokens: answer.promptTokens, completionTokens: answer.completionTokens },
        metrics: [
          {
            metric: 'hallucination',
            value: answer.hallucination ? 1 : 0,
            label: answer.hallucination ? 'hallucinated' : 'supported',
            detail: answer.reason,
          },
          { metric: 'helpfulness', value: answer.helpfulness, label: answer.variant },
          { metric: 'clarity', value: answer.clarity, label: answer.variant },
          { metric: 'safety', value: answer.safety, label: answer.variant },
        ],
      }
    },
    estimate: (row) => ({
      promptTokens:
        approxTokens(row.user_input + row.model_output + row.context.join('')) +
        approxTokens(template.system) +
        150,
      completionTokens: 80,
    }),
  }
}

/**
 * The API key a model endpoint's config names by `api_key_env` (`at` is the config path, for
 * the error); undefined when no variable is named (an endpoint without authentication).
 */
export function apiKeyFromEnv(
  at: string,
  name: string | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (!name) return undefined
  const apiKey = env[name]
  if (!apiKey)
    throw new ConfigError(`${at}.api_key_env names ${name}, which is not set`, {
      fix: `export ${name}=<key>, or remove api_key_env for an endpoint without authentication`,
    })
  return apiKey
}
