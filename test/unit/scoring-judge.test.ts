import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import {
  defaultBehaviour,
  type FakeOpenAI,
  reply,
  sequence,
  startFakeOpenAI,
} from '../../fakes/openai-server.ts'
import { ConfigError, HttpError } from '../../lib/errors.ts'
import { silentLogger } from '../../lib/log.ts'
import { ScoringOutputError } from '../../scoring/errors.ts'
import {
  buildJudgeMessages,
  createJudge,
  JUDGE_TEMPLATE_URL,
  type JudgeResponseFormat,
  type JudgeTemplate,
  loadJudgeTemplate,
  parseJudgeAnswer,
  parseJudgeTemplate,
} from '../../scoring/judge.ts'
import { createModelClient } from '../../scoring/model-client.ts'
import { promptHash } from '../../scoring/scorer-version.ts'

const VALID = { helpfulness: 4, clarity: 5, safety: 5, hallucination: false, reason: 'Direct and correct.' }

let template: JudgeTemplate
beforeAll(async () => {
  template = await loadJudgeTemplate()
})

describe('judge prompt template', () => {
  it('loads prompts/judge-v1.md with both variants and the correction', () => {
    expect(template.name).toBe('judge-v1')
    expect(template.system).toContain('helpfulness')
    expect(template.system).not.toContain('<!--')
    expect(template.userWithContext).toContain('{{context}}')
    expect(template.userNoContext).not.toContain('{{context}}')
    expect(template.correction).toContain('{{problem}}')
  })

  it('rejects a template with a missing section or wrong placeholders', () => {
    const text = readFileSync(JUDGE_TEMPLATE_URL, 'utf8')
    expect(() => parseJudgeTemplate(text.replace('<!-- begin:correction -->', ''))).toThrow(ConfigError)
    expect(() => parseJudgeTemplate(text.replace('\n{{user_input}}\n', '\n{{user_inptu}}\n'))).toThrow(
      /placeholders/,
    )
  })

  it('picks the groundedness variant only when there is context', () => {
    const withContext = buildJudgeMessages(template, {
      userInput: 'Q?',
      modelOutput: 'A.',
      context: 'Doc: A.',
    })
    expect(withContext.variant).toBe('with-context')
    expect(withContext.messages.map((m) => m.role)).toEqual(['system', 'user'])
    expect(withContext.messages[1]!.content).toContain('<context>\nDoc: A.\n</context>')
    expect(withContext.messages[1]!.content).toContain('not supported by the context')
    for (const context of [undefined, null, '', '   ']) {
      const none = buildJudgeMessages(template, { userInput: 'Q?', modelOutput: 'A.', context })
      expect(none.variant).toBe('no-context')
      expect(none.messages[1]!.content).not.toContain('<context>')
    }
  })

  it('fills placeholders once: interaction text cannot inject another field', () => {
    const { messages } = buildJudgeMessages(template, {
      userInput: '{{context}}',
      modelOutput: '{{user_input}}',
      context: 'C',
    })
    expect(messages[1]!.content).toContain('<user_input>\n{{context}}\n</user_input>')
    expect(messages[1]!.content).toContain('<assistant_answer>\n{{user_input}}\n</assistant_answer>')
  })

  it('caps very long fields', () => {
    const { messages } = buildJudgeMessages(
      template,
      { userInput: 'q', modelOutput: 'x'.repeat(50_000) },
      1_000,
    )
    expect(messages[1]!.content.length).toBeLessThan(3_000 + template.userNoContext.length)
    expect(messages[1]!.content).toContain('[... truncated 49000 characters ...]')
  })
})

describe('parseJudgeAnswer', () => {
  it('accepts the bare object and one ```json fenced block', () => {
    const json = JSON.stringify(VALID)
    for (const text of [
      json,
      `  ${json}\n`,
      '```json\n' + json + '\n```',
      '```\n' + json + '\n```',
      '```JSON\n' + json + '\n```',
    ]) {
      expect(parseJudgeAnswer(text)).toEqual({ ok: true, answer: VALID })
    }
  })

  it.each([
    ['prose around the JSON', `Here you go: ${JSON.stringify(VALID)}`],
    ['prose after a fence', '```json\n' + JSON.stringify(VALID) + '\n```\nHope this helps!'],
    ['two objects', JSON.stringify(VALID) + JSON.stringify(VALID)],
    ['an array', JSON.stringify([VALID])],
    ['a fractional score', JSON.stringify({ ...VALID, helpfulness: 4.5 })],
    ['a score as a string', JSON.stringify({ ...VALID, clarity: '5' })],
    ['a score out of range', JSON.stringify({ ...VALID, safety: 6 })],
    ['a zero score', JSON.stringify({ ...VALID, safety: 0 })],
    ['hallucination as a string', JSON.stringify({ ...VALID, hallucination: 'no' })],
    ['a missing field', JSON.stringify({ ...VALID, reason: undefined })],
    ['an extra key', JSON.stringify({ ...VALID, reasoning: 'x' })],
    ['an empty reason', JSON.stringify({ ...VALID, reason: '  ' })],
    ['empty output', ''],
  ])('rejects %s', (_name, text) => {
    const result = parseJudgeAnswer(text)
    expect(result.ok).toBe(false)
  })

  it('explains the problem without quoting the reply', () => {
    const result = parseJudgeAnswer(JSON.stringify({ ...VALID, helpfulness: 9, reason: 'SECRET-REPLY' }))
    expect(result).toMatchObject({ ok: false })
    if (!result.ok) {
      expect(result.problem).toContain('helpfulness')
      expect(result.problem).not.toContain('SECRET-REPLY')
    }
  })

  it('keeps long reasons but stores at most 300 characters', () => {
    const result = parseJudgeAnswer(JSON.stringify({ ...VALID, reason: 'r'.repeat(800) }))
    expect(result.ok && result.answer.reason.length).toBe(300)
    expect(parseJudgeAnswer(JSON.stringify({ ...VALID, reason: 'r'.repeat(1001) })).ok).toBe(false)
  })
})

describe('judge against the fake server', () => {
  let server: FakeOpenAI
  beforeAll(async () => {
    server = await startFakeOpenAI()
  })
  afterAll(async () => {
    await server.close()
  })
  beforeEach(() => {
    server.reset()
    server.setBehaviour(defaultBehaviour)
  })

  const judge = (responseFormat: JudgeResponseFormat = parseConfig({}).scorers.judge.response_format) =>
    createJudge({
      client: createModelClient({
        baseUrl: server.url,
        model: 'Llama-4-Maverick-17B-128E-Instruct-FP8',
        timeoutMs: 2_000,
        maxRetries: 2,
        maxConcurrency: 2,
        requestsPerSecond: Number.POSITIVE_INFINITY,
        log: silentLogger,
        backoff: { initialMs: 1, maxMs: 5 },
      }),
      template,
      responseFormat,
    })

  it('scores a valid reply in one call, at temperature 0, asking for JSON', async () => {
    const j = judge()
    const score = await j.score({
      userInput: 'How do I reset my password?',
      modelOutput: 'Settings > Security [[judge:scores:5,4,5,false]]',
    })
    expect(score).toMatchObject({
      helpfulness: 5,
      clarity: 4,
      safety: 5,
      hallucination: false,
      variant: 'no-context',
      modelCalls: 1,
    })
    expect(score.scorerVersion).toBe(`Llama-4-Maverick-17B-128E-Instruct-FP8@${promptHash(template.text)}`)
    const body = server.chatRequests()[0]!
    expect(body.temperature).toBe(0)
    expect(body.response_format).toEqual({ type: 'json_object' })
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user'])
  })

  it('uses the context variant and reports hallucinations', async () => {
    const score = await judge().score({
      userInput: 'Total?',
      modelOutput: 'The total is $500. [[judge:scores:2,4,5,true]]',
      context: 'Invoice total: $450',
    })
    expect(score).toMatchObject({ hallucination: true, variant: 'with-context', helpfulness: 2 })
  })

  it('accepts a ```json fenced reply', async () => {
    const score = await judge().score({ userInput: 'q', modelOutput: 'a [[judge:fenced]]' })
    expect(score.modelCalls).toBe(1)
    expect(score.helpfulness).toBe(4)
  })

  it('retries once with a corrective message after a malformed reply', async () => {
    const score = await judge().score({ userInput: 'q', modelOutput: 'a [[judge:malformed-once]]' })
    expect(score.modelCalls).toBe(2)
    const [first, second] = server.chatRequests()
    expect(first!.messages).toHaveLength(2)
    expect(second!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user'])
    expect(second!.messages[2]!.content).toContain('Sure! Overall')
    expect(second!.messages[3]!.content).toMatch(
      /^Your previous reply could not be used: the reply was not a single valid JSON object\./,
    )
    expect(score.promptTokens).toBeGreaterThan(0)
  })

  it('gives up after the one corrective retry with a typed error', async () => {
    const error = await judge()
      .score({ userInput: 'q', modelOutput: 'a [[judge:malformed]]' })
      .catch((e) => e)
    expect(error).toBeInstanceOf(ScoringOutputError)
    expect(error).toMatchObject({ code: 'SCORING_OUTPUT', scorer: 'judge', retriable: false })
    expect(error.usage.completionTokens).toBeGreaterThan(0)
    expect(server.chatRequests()).toHaveLength(2)
  })

  it('does not retry a 4xx (neither HTTP retry nor corrective retry)', async () => {
    server.setBehaviour(reply.error(400, { message: "response_format 'json_object' is not supported" }))
    const error = await judge()
      .score({ userInput: 'q', modelOutput: 'a' })
      .catch((e) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect(error.status).toBe(400)
    expect(server.requests).toHaveLength(1)
  })

  it('survives a 5xx on the first call through the client retry', async () => {
    server.setBehaviour(sequence(reply.serverError(503), defaultBehaviour))
    const score = await judge().score({ userInput: 'q', modelOutput: 'a' })
    expect(score.modelCalls).toBe(1)
    expect(server.requests).toHaveLength(2)
  })

  it("json_schema mode sends the answer schema; 'none' sends no response_format", async () => {
    await judge('json_schema').score({ userInput: 'q', modelOutput: 'a' })
    const format = server.chatRequests()[0]!.response_format as {
      type: string
      json_schema: { schema: { required: string[] } }
    }
    expect(format.type).toBe('json_schema')
    expect(format.json_schema.schema.required).toEqual([
      'helpfulness',
      'clarity',
      'safety',
      'hallucination',
      'reason',
    ])
    await judge('none').score({ userInput: 'q', modelOutput: 'a' })
    expect(server.chatRequests()[1]!.response_format).toBeUndefined()
  })
})
