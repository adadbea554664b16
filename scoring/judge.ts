// Llama-as-judge: grades one interaction (helpfulness, clarity, safety 1–5, hallucination,
// short reason) with a versioned prompt from prompts/, at temperature 0, and accepts only the
// strict JSON object (optionally inside one ```json fence). A malformed reply gets exactly
// one corrective follow-up; a second bad reply is a ScoringOutputError, never a guessed score.

import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { ConfigError } from '../lib/errors.ts'
import { ScoringOutputError } from './errors.ts'
import type { ChatMessage, CompletionResult, ModelClient, ResponseFormat } from './model-client.ts'
import { scorerVersion } from './scorer-version.ts'
import { fillPlaceholders, placeholdersOf, truncateField } from './template.ts'

/** The prompt shipped with driftwatch. */
export const JUDGE_TEMPLATE_URL: URL = new URL('../prompts/judge-v1.md', import.meta.url)

export interface JudgeTemplate {
  /** File name without extension, e.g. judge-v1. */
  name: string
  /** The whole file; its hash is the prompt part of the scorer version. */
  text: string
  system: string
  userWithContext: string
  userNoContext: string
  correction: string
}

const SECTION = /<!-- begin:([a-z][a-z-]*) -->\r?\n([\s\S]*?)\r?\n?<!-- end:\1 -->/g

const REQUIRED_PLACEHOLDERS: Record<string, string[]> = {
  system: [],
  'user-with-context': ['user_input', 'model_output', 'context'],
  'user-no-context': ['user_input', 'model_output'],
  correction: ['problem'],
}

/** Splits a judge prompt file into its sections and checks each uses exactly the right placeholders. */
export function parseJudgeTemplate(text: string, name = 'judge'): JudgeTemplate {
  const sections = new Map<string, string>()
  for (const match of text.matchAll(SECTION)) sections.set(match[1]!, match[2]!.trim())
  for (const [section, expected] of Object.entries(REQUIRED_PLACEHOLDERS)) {
    const body = sections.get(section)
    if (body === undefined) {
      throw new ConfigError(`judge prompt ${name} has no "${section}" section`, {
        fix: `add <!-- begin:${section} --> … <!-- end:${section} --> (see prompts/judge-v1.md)`,
      })
    }
    const used = placeholdersOf(body).sort()
    if (used.join(',') !== [...expected].sort().join(',')) {
      throw new ConfigError(
        `judge prompt ${name} section "${section}" uses placeholders [${used.join(', ')}], expected [${expected.join(', ')}]`,
        { fix: 'use exactly the documented placeholders in each section' },
      )
    }
  }
  return {
    name,
    text,
    system: sections.get('system')!,
    userWithContext: sections.get('user-with-context')!,
    userNoContext: sections.get('user-no-context')!,
    correction: sections.get('correction')!,
  }
}

export async function loadJudgeTemplate(source: string | URL = JUDGE_TEMPLATE_URL): Promise<JudgeTemplate> {
  const text = await readFile(source, 'utf8')
  const file = source instanceof URL ? source.pathname : source
  const name = (file.split('/').pop() ?? 'judge').replace(/\.[^.]*$/, '')
  return parseJudgeTemplate(text, name)
}

/**
 * What the judge must answer. Strict: unknown keys are rejected (a judge that renames
 * `reason` to `reasoning` is not following the prompt). Integers only: 4.5 or "4" fail.
 * `reason` may be up to 1000 chars and is cut to REASON_MAX_CHARS when stored: a wordy
 * explanation is not worth a retry, the scores are what matter.
 */
export const judgeAnswerSchema = z.strictObject({
  helpfulness: z.int().min(1).max(5),
  clarity: z.int().min(1).max(5),
  safety: z.int().min(1).max(5),
  hallucination: z.boolean(),
  reason: z.string().trim().min(1).max(1000),
})

export type JudgeAnswer = z.infer<typeof judgeAnswerSchema>

export const REASON_MAX_CHARS = 300

export type JudgeParseResult = { ok: true; answer: JudgeAnswer } | { ok: false; problem: string }

const FENCE = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n[ \t]*```$/i

/**
 * Accepts the bare JSON object or the object inside one ```json (or ```) fence; nothing else
 * (no prose around it, no second object). `problem` never quotes the reply, so it is safe to
 * send back to the model and to log.
 */
export function parseJudgeAnswer(content: string): JudgeParseResult {
  let text = content.trim()
  if (text === '') return { ok: false, problem: 'the reply was empty' }
  if (text.startsWith('```')) {
    const fenced = FENCE.exec(text)
    if (!fenced)
      return { ok: false, problem: 'the reply had a code fence with something other than one JSON object' }
    text = fenced[1]!.trim()
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, problem: 'the reply was not a single valid JSON object' }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, problem: 'the reply was JSON but not an object' }
  }
  const parsed = judgeAnswerSchema.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 4)
      .map((issue) =>
        issue.code === 'unrecognized_keys'
          ? `unexpected keys ${issue.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`
          : `${issue.path.join('.') || 'object'}: ${issue.message}`,
      )
      .join('; ')
    return { ok: false, problem: `the JSON object did not match the required fields (${problems})` }
  }
  const answer = parsed.data
  if (answer.reason.length > REASON_MAX_CHARS)
    answer.reason = `${answer.reason.slice(0, REASON_MAX_CHARS - 1)}…`
  return { ok: true, answer }
}

export interface JudgeInput {
  userInput: string
  modelOutput: string
  /** Retrieved documents; when non-empty the groundedness variant is used. */
  context?: string | null
}

export type JudgeVariant = 'with-context' | 'no-context'

export function buildJudgeMessages(
  template: JudgeTemplate,
  input: JudgeInput,
  maxFieldChars: number = JUDGE_DEFAULTS.maxFieldChars,
): { variant: JudgeVariant; messages: ChatMessage[] } {
  const hasContext = typeof input.context === 'string' && input.context.trim() !== ''
  const values: Record<string, string> = {
    user_input: truncateField(input.userInput, maxFieldChars),
    model_output: truncateField(input.modelOutput, maxFieldChars),
  }
  if (hasContext) values.context = truncateField(input.context!, maxFieldChars)
  return {
    variant: hasContext ? 'with-context' : 'no-context',
    messages: [
      { role: 'system', content: template.system },
      {
        role: 'user',
        content: fillPlaceholders(hasContext ? template.userWithContext : template.userNoContext, values),
      },
    ],
  }
}

export type JudgeResponseFormat = 'json_object' | 'json_schema' | 'none'

export interface JudgeOptions {
  /** A client configured with the judge model (e.g. Llama-4-Maverick-17B-128E-Instruct-FP8). */
  client: ModelClient
  template: JudgeTemplate
  /**
   * Ask the server to constrain output. json_object is understood by vLLM, Ollama, llama.cpp
   * and OpenAI; use 'none' for servers that reject response_format. The answer is validated
   * either way. scorers.judge.response_format (its default lives in config/schema.ts).
   */
  responseFormat: JudgeResponseFormat
  maxTokens?: number
  maxFieldChars?: number
}

export interface JudgeScore extends JudgeAnswer {
  variant: JudgeVariant
  scorerVersion: string
  /** Summed over both calls when a corrective retry happened. */
  promptTokens: number
  completionTokens: number
  latencyMs: number
  /** 1, or 2 when the first reply was malformed. */
  modelCalls: number
}

export interface Judge {
  readonly scorerVersion: string
  score(input: JudgeInput, signal?: AbortSignal): Promise<JudgeScore>
}

export const JUDGE_DEFAULTS = { maxTokens: 400, maxFieldChars: 8_000 } as const

export function createJudge(options: JudgeOptions): Judge {
  const version = scorerVersion(options.client.model, options.template.text)
  const maxTokens = options.maxTokens ?? JUDGE_DEFAULTS.maxTokens
  const responseFormat = toResponseFormat(options.responseFormat)
  const ask = (messages: ChatMessage[], signal: AbortSignal | undefined) =>
    options.client.complete({ messages, temperature: 0, maxTokens, responseFormat, signal })

  return {
    scorerVersion: version,
    async score(input, signal) {
      const { variant, messages } = buildJudgeMessages(options.template, input, options.maxFieldChars)
      const calls: CompletionResult[] = [await ask(messages, signal)]
      let parsed = parseJudgeAnswer(calls[0]!.content)
      if (!parsed.ok) {
        // One corrective turn: the model sees its own reply and what was wrong with it.
        // HTTP errors (4xx included) are not caught here: they are not malformed output.
        const correction = fillPlaceholders(options.template.correction, { problem: parsed.problem })
        calls.push(
          await ask(
            [
              ...messages,
              { role: 'assistant', content: calls[0]!.content },
              { role: 'user', content: correction },
            ],
            signal,
          ),
        )
        parsed = parseJudgeAnswer(calls[1]!.content)
      }
      const promptTokens = calls.reduce((sum, c) => sum + c.promptTokens, 0)
      const completionTokens = calls.reduce((sum, c) => sum + c.completionTokens, 0)
      if (!parsed.ok) {
        throw new ScoringOutputError(
          'judge',
          `judge reply is not the required JSON object after one corrective retry: ${parsed.problem}`,
          calls[calls.length - 1]!.content,
          { usage: { promptTokens, completionTokens } },
        )
      }
      return {
        ...parsed.answer,
        variant,
        scorerVersion: version,
        promptTokens,
        completionTokens,
        latencyMs: calls.reduce((sum, c) => sum + c.latencyMs, 0),
        modelCalls: calls.length,
      }
    },
  }
}

function toResponseFormat(format: JudgeResponseFormat): ResponseFormat | undefined {
  if (format === 'none') return undefined
  if (format === 'json_object') return { type: 'json_object' }
  return {
    type: 'json_schema',
    json_schema: {
      name: 'judge_answer',
      schema: z.toJSONSchema(judgeAnswerSchema) as Record<string, unknown>,
      strict: true,
    },
  }
}
