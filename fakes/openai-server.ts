// fakes/: protocol-faithful local fakes (real sockets, real status codes and headers) shared by
// the tests (test/) and the benchmarks (bench/), which may not import each other. Never used by
// production code.
//
// A real local HTTP server (node:http, port 0) speaking the OpenAI chat-completions protocol,
// so scoring code is tested over real sockets, status codes and headers instead of a mocked
// fetch. Behaviour is programmable per request (verdicts, judge JSON, failure modes) and
// every request is recorded (bodies, count, max concurrency seen) for assertions.
// POST /v1/embeddings answers with deterministic vectors (fakeEmbedding: identical text ->
// identical vector, unrelated text -> a distant one) and the same failure modes.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeChatMessage {
  role: string
  content: string | Array<{ type: string; text?: string }>
}

/** The validated request body, as the behaviour sees it. */
export interface FakeChatRequest {
  model: string
  messages: FakeChatMessage[]
  temperature?: number
  max_tokens?: number
  response_format?: { type: string; [key: string]: unknown }
  [key: string]: unknown
}

export interface RecordedRequest {
  /** 0-based arrival order across all requests to the server. */
  index: number
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown
  /** performance.now() at arrival; for ordering / spacing assertions. */
  receivedAt: number
  /** Status code sent, or undefined when the client went away first / the socket was dropped. */
  status?: number
}

export type FakeReply =
  | {
      kind: 'content'
      content: string
      finishReason?: string
      promptTokens?: number
      completionTokens?: number
      /** Leave `usage` out of the answer (some servers do). */
      omitUsage?: boolean
    }
  | {
      kind: 'error'
      status: number
      message?: string
      type?: string
      code?: string | null
      retryAfter?: string
    }
  | { kind: 'raw'; status?: number; body: string; contentType?: string }
  | { kind: 'delay'; ms: number; then: FakeReply }
  /** Destroy the socket without answering (connection reset). */
  | { kind: 'drop' }

export interface BehaviourContext {
  /** 0-based index of this chat-completions request (valid requests only). */
  call: number
  headers: IncomingHttpHeaders
}

export type FakeBehaviour = (
  request: FakeChatRequest,
  context: BehaviourContext,
) => FakeReply | Promise<FakeReply>

/** Reply builders, to keep tests short. */
export const reply = {
  content: (
    content: string,
    extra: Omit<Extract<FakeReply, { kind: 'content' }>, 'kind' | 'content'> = {},
  ): FakeReply => ({
    kind: 'content',
    content,
    ...extra,
  }),
  error: (
    status: number,
    extra: Omit<Extract<FakeReply, { kind: 'error' }>, 'kind' | 'status'> = {},
  ): FakeReply => ({
    kind: 'error',
    status,
    ...extra,
  }),
  rateLimited: (retryAfter?: string): FakeReply => ({
    kind: 'error',
    status: 429,
    type: 'rate_limit_error',
    code: 'rate_limit_exceeded',
    message: 'Rate limit reached, please retry later.',
    ...(retryAfter === undefined ? {} : { retryAfter }),
  }),
  serverError: (status = 500): FakeReply => ({
    kind: 'error',
    status,
    type: status === 503 ? 'service_unavailable' : 'server_error',
    message:
      status === 503 ? 'The server is overloaded.' : 'The server had an error processing your request.',
  }),
  /** 200 with a body that is not JSON. */
  malformedBody: (): FakeReply => ({
    kind: 'raw',
    status: 200,
    body: '{"id": "chatcmpl-1", "choices": [',
    contentType: 'application/json',
  }),
  delay: (ms: number, then: FakeReply): FakeReply => ({ kind: 'delay', ms, then }),
  /** Embeddings: the deterministic vectors (fakeEmbedding) of every input. */
  vectors: (): FakeEmbeddingsReply => ({ kind: 'vectors' }),
  /** Embeddings: answer after `ms` (a client timeout shorter than that fires). */
  delayVectors: (ms: number, then: FakeEmbeddingsReply = { kind: 'vectors' }): FakeEmbeddingsReply => ({
    kind: 'delay',
    ms,
    then,
  }),
  drop: (): FakeReply => ({ kind: 'drop' }),
}

/** The n-th request gets the n-th entry; the last entry repeats. */
export function sequence(...steps: Array<FakeReply | FakeBehaviour>): FakeBehaviour {
  if (steps.length === 0) throw new Error('sequence needs at least one step')
  let n = 0
  return (request, context) => {
    const step = steps[Math.min(n++, steps.length - 1)]!
    return typeof step === 'function' ? step(request, context) : step
  }
}

/** All message text of a request, joined (content parts flattened). */
export function requestText(request: FakeChatRequest): string {
  return request.messages.map((m) => messageText(m)).join('\n')
}

function messageText(message: FakeChatMessage): string {
  if (typeof message.content === 'string') return message.content
  return message.content.map((part) => part.text ?? '').join('')
}

/**
 * Default behaviour: decide from the model name and markers in the conversation.
 * Llama Guard (model name contains "guard"):
 *   `[[guard:unsafe:S1,S10]]` → "unsafe\nS1,S10";  `[[guard:say:TEXT]]` → TEXT (`\n` unescaped);
 *   otherwise "safe".
 * Judge (any other model):
 *   `[[judge:scores:H,C,S,HALL]]` → those scores (HALL = true|false);
 *   `[[judge:fenced]]` → valid JSON inside a ```json fence;
 *   `[[judge:malformed]]` → prose, never JSON;
 *   `[[judge:malformed-once]]` → prose unless the request already carries the judge's previous
 *     (assistant) answer, i.e. on the corrective retry the answer is valid;
 *   otherwise {helpfulness:4, clarity:4, safety:5, hallucination:false}.
 */
export const defaultBehaviour: FakeBehaviour = (request) => {
  const text = requestText(request)
  if (/guard/i.test(request.model)) {
    const say = /\[\[guard:say:([\s\S]*?)\]\]/.exec(text)
    if (say) return reply.content(say[1]!.replace(/\\n/g, '\n'))
    const unsafe = /\[\[guard:unsafe:([A-Za-z0-9, ]+)\]\]/.exec(text)
    if (unsafe) return reply.content(`unsafe\n${unsafe[1]!.replace(/\s+/g, '')}`)
    return reply.content('safe')
  }
  const isRetry = request.messages.some((m) => m.role === 'assistant')
  if (text.includes('[[judge:malformed]]') || (text.includes('[[judge:malformed-once]]') && !isRetry)) {
    return reply.content('Sure! Overall I would rate this answer as helpful (4/5) and clear.')
  }
  const scores = /\[\[judge:scores:(\d),(\d),(\d),(true|false)\]\]/.exec(text)
  const answer = {
    helpfulness: scores ? Number(scores[1]) : 4,
    clarity: scores ? Number(scores[2]) : 4,
    safety: scores ? Number(scores[3]) : 5,
    hallucination: scores ? scores[4] === 'true' : false,
    reason: 'The answer addresses the question directly and is easy to follow.',
  }
  const json = JSON.stringify(answer)
  return reply.content(text.includes('[[judge:fenced]]') ? '```json\n' + json + '\n```' : json)
}

/** The validated embeddings request body (OpenAI's POST /v1/embeddings). */
export interface FakeEmbeddingsRequest {
  model: string
  input: string | string[]
  encoding_format?: 'float' | 'base64'
  dimensions?: number
  [key: string]: unknown
}

/**
 * An embeddings answer: vectors (fakeEmbedding of each input) or any failure of FakeReply
 * (reply.rateLimited(), reply.serverError(), reply.malformedBody(), reply.drop(), delays). A
 * chat `content` reply has no meaning here: it is answered 500, naming the test's mistake.
 */
export type FakeEmbeddingsReply =
  | { kind: 'vectors' }
  | Exclude<FakeReply, { kind: 'delay' }>
  | { kind: 'delay'; ms: number; then: FakeEmbeddingsReply | FakeReply }

export type FakeEmbeddingsBehaviour = (
  request: FakeEmbeddingsRequest,
  context: BehaviourContext,
) => FakeEmbeddingsReply | Promise<FakeEmbeddingsReply>

export const FAKE_EMBEDDING_DIMENSIONS = 256

/**
 * A deterministic unit vector for a text: a signed bag of its lower-cased word tokens, each
 * hashed (FNV-1a) to one of `dimensions` coordinates. Identical texts give identical vectors;
 * texts sharing no word are nearly orthogonal (cosine distance near 1). Not a language model:
 * paraphrases with other words look unrelated, which is what the tests need to control.
 */
export function fakeEmbedding(text: string, dimensions = FAKE_EMBEDDING_DIMENSIONS): number[] {
  const v = new Array<number>(dimensions).fill(0)
  for (const token of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 0x811c9dc5
    for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193) >>> 0
    v[h % dimensions]! += h & 0x80000000 ? -1 : 1
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0))
  return norm === 0 ? v : v.map((x) => x / norm)
}

export interface FakeOpenAIOptions {
  /** A handler per request, or one constant reply for every request. */
  behaviour?: FakeBehaviour | FakeReply
  /** Fixed latency added before every answer (errors included), e.g. 200 for a benchmark. */
  latencyMs?: number
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string
  /** POST /v1/embeddings: default vectors for every input. */
  embeddings?: FakeEmbeddingsBehaviour | FakeEmbeddingsReply
}

export interface FakeOpenAI {
  /** API root to use as baseUrl, e.g. http://127.0.0.1:41234/v1 */
  url: string
  requests: RecordedRequest[]
  /** Chat-completions requests only (valid ones, the ones the behaviour saw). */
  chatRequests(): FakeChatRequest[]
  /** Embeddings requests only (valid ones). */
  embeddingsRequests(): FakeEmbeddingsRequest[]
  setEmbeddingsBehaviour(behaviour: FakeEmbeddingsBehaviour | FakeEmbeddingsReply): void
  stats(): { count: number; inFlight: number; maxConcurrency: number }
  /** A handler per request, or one constant reply for every request. */
  setBehaviour(behaviour: FakeBehaviour | FakeReply): void
  setLatency(ms: number): void
  /** Forget recorded requests and concurrency stats (behaviour and latency stay). */
  reset(): void
  close(): Promise<void>
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let behaviour = asBehaviour(options.behaviour ?? defaultBehaviour)
  let latencyMs = options.latencyMs ?? 0
  const requests: RecordedRequest[] = []
  const chat: FakeChatRequest[] = []
  const embeddingRequests: FakeEmbeddingsRequest[] = []
  let embeddings = asEmbeddingsBehaviour(options.embeddings ?? { kind: 'vectors' })
  let embeddingCall = 0
  let inFlight = 0
  let maxConcurrency = 0
  let call = 0

  const server = createServer((req, res) => {
    inFlight++
    if (inFlight > maxConcurrency) maxConcurrency = inFlight
    let counted = true
    const done = () => {
      if (counted) inFlight--
      counted = false
    }
    res.on('close', done)
    handle(req, res).catch((error) => {
      if (!res.headersSent && !res.destroyed) sendError(res, 500, String(error), 'server_error', null)
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: RecordedRequest = {
      index: requests.length,
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0]!,
      headers: req.headers,
      body: undefined,
      receivedAt: performance.now(),
    }
    requests.push(record)
    const raw = await readBody(req)
    try {
      record.body = JSON.parse(raw)
    } catch {
      record.body = raw
    }
    const send = (status: number, write: () => void) => {
      if (res.destroyed) return
      record.status = status
      write()
    }

    if (record.path !== '/v1/chat/completions' && record.path !== '/v1/embeddings') {
      return send(404, () =>
        sendError(
          res,
          404,
          `Unknown request URL: ${record.method} ${record.path}.`,
          'invalid_request_error',
          'unknown_url',
        ),
      )
    }
    if (record.method !== 'POST') {
      return send(405, () =>
        sendError(res, 405, `Method ${record.method} not allowed.`, 'invalid_request_error', null),
      )
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return send(401, () =>
        sendError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'),
      )
    }
    if (record.path === '/v1/embeddings') return handleEmbeddings(req, res, record, send)
    const problem = validateChatRequest(record.body)
    if (problem) return send(400, () => sendError(res, 400, problem, 'invalid_request_error', null))

    const request = record.body as FakeChatRequest
    chat.push(request)
    const answer = await settle(
      await behaviour(request, { call: call++, headers: req.headers }),
      req,
      res,
      send,
    )
    if (!answer) return
    switch (answer.kind) {
      case 'content': {
        const promptTokens = answer.promptTokens ?? Math.ceil(requestText(request).length / 4)
        const completionTokens = answer.completionTokens ?? Math.max(1, Math.ceil(answer.content.length / 4))
        const body = {
          id: `chatcmpl-fake-${record.index}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: request.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: answer.content },
              logprobs: null,
              finish_reason: answer.finishReason ?? 'stop',
            },
          ],
          ...(answer.omitUsage
            ? {}
            : {
                usage: {
                  prompt_tokens: promptTokens,
                  completion_tokens: completionTokens,
                  total_tokens: promptTokens + completionTokens,
                },
              }),
        }
        return send(200, () => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify(body))
        })
      }
    }
  }

  /**
   * What both endpoints do with a configured reply: the server's latency, then any delay
   * replies, then the failure modes (drop, raw, error) answered here. Returns the success
   * reply left for the endpoint to render, or undefined when the request is already answered.
   */
  async function settle(
    first: FakeReply | FakeEmbeddingsReply,
    req: IncomingMessage,
    res: ServerResponse,
    send: (status: number, write: () => void) => void,
  ): Promise<Extract<FakeReply | FakeEmbeddingsReply, { kind: 'content' | 'vectors' }> | undefined> {
    let answer = first
    await sleepUnlessClosed(latencyMs, res)
    while (answer.kind === 'delay') {
      await sleepUnlessClosed(answer.ms, res)
      answer = answer.then
    }
    if (res.destroyed) return undefined
    switch (answer.kind) {
      case 'drop':
        req.socket.destroy()
        return undefined
      case 'raw': {
        const { status = 200, contentType = 'application/json', body } = answer
        send(status, () => {
          res.writeHead(status, { 'content-type': contentType })
          res.end(body)
        })
        return undefined
      }
      case 'error': {
        const { status, message = 'error', type = 'server_error', code = null, retryAfter } = answer
        send(status, () => sendError(res, status, message, type, code, retryAfter))
        return undefined
      }
      default:
        return answer
    }
  }

  async function handleEmbeddings(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    send: (status: number, write: () => void) => void,
  ): Promise<void> {
    const problem = validateEmbeddingsRequest(record.body)
    if (problem) return send(400, () => sendError(res, 400, problem, 'invalid_request_error', null))
    const request = record.body as FakeEmbeddingsRequest
    embeddingRequests.push(request)
    const answer = await settle(
      await embeddings(request, { call: embeddingCall++, headers: req.headers }),
      req,
      res,
      send,
    )
    if (!answer) return
    switch (answer.kind) {
      case 'content':
        return send(500, () =>
          sendError(res, 500, 'fake: a chat reply was configured for /v1/embeddings', 'server_error', null),
        )
      case 'vectors': {
        const inputs = typeof request.input === 'string' ? [request.input] : request.input
        const tokens = inputs.reduce((n, text) => n + Math.max(1, Math.ceil(text.length / 4)), 0)
        const body = {
          object: 'list',
          data: inputs.map((text, index) => {
            const vector = fakeEmbedding(text, request.dimensions ?? FAKE_EMBEDDING_DIMENSIONS)
            return {
              object: 'embedding',
              index,
              embedding:
                request.encoding_format === 'base64'
                  ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
                  : vector,
            }
          }),
          model: request.model,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        }
        return send(200, () => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify(body))
        })
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => chat,
    embeddingsRequests: () => embeddingRequests,
    setEmbeddingsBehaviour(next) {
      embeddings = asEmbeddingsBehaviour(next)
    },
    stats: () => ({ count: requests.length, inFlight, maxConcurrency }),
    setBehaviour(next) {
      behaviour = asBehaviour(next)
    },
    setLatency(ms) {
      latencyMs = ms
    },
    reset() {
      requests.length = 0
      chat.length = 0
      embeddingRequests.length = 0
      call = 0
      embeddingCall = 0
      maxConcurrency = inFlight
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

function asBehaviour(behaviour: FakeBehaviour | FakeReply): FakeBehaviour {
  return typeof behaviour === 'function' ? behaviour : () => behaviour
}

function asEmbeddingsBehaviour(
  behaviour: FakeEmbeddingsBehaviour | FakeEmbeddingsReply,
): FakeEmbeddingsBehaviour {
  return typeof behaviour === 'function' ? behaviour : () => behaviour
}

/** OpenAI's limits on an embeddings request: a non-empty string or array of at most 2048 non-empty strings. */
function validateEmbeddingsRequest(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'We could not parse the JSON body of your request.'
  }
  const b = body as Record<string, unknown>
  if (typeof b.model !== 'string' || b.model === '') return 'you must provide a model parameter'
  const input = b.input
  if (typeof input === 'string') {
    if (input === '') return "'input' : input must be a non-empty string"
  } else if (Array.isArray(input)) {
    if (input.length === 0 || input.length > 2048) return "'input' must be an array of 1 to 2048 strings"
    for (const [i, text] of input.entries()) {
      if (typeof text !== 'string' || text === '') return `'input'[${i}] must be a non-empty string`
    }
  } else return "'input' must be a string or an array of strings"
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && b.encoding_format !== 'base64') {
    return "encoding_format must be one of 'float', 'base64'"
  }
  if (b.dimensions !== undefined && (!Number.isInteger(b.dimensions) || (b.dimensions as number) < 1)) {
    return 'dimensions must be a positive integer'
  }
  return undefined
}

/** Mirrors the checks OpenAI-compatible servers make before running the model. */
function validateChatRequest(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'We could not parse the JSON body of your request.'
  }
  const b = body as Record<string, unknown>
  if (typeof b.model !== 'string' || b.model === '') return 'you must provide a model parameter'
  if (!Array.isArray(b.messages) || b.messages.length === 0) return "'messages' must be a non-empty array"
  for (const [i, m] of b.messages.entries()) {
    if (typeof m !== 'object' || m === null) return `messages[${i}] must be an object`
    const { role, content } = m as Record<string, unknown>
    if (!['system', 'user', 'assistant', 'tool', 'developer'].includes(role as string)) {
      return `messages[${i}].role must be one of system, user, assistant, tool, developer`
    }
    if (typeof content !== 'string' && !Array.isArray(content))
      return `messages[${i}].content must be a string or an array`
  }
  if (
    b.temperature !== undefined &&
    (typeof b.temperature !== 'number' || b.temperature < 0 || b.temperature > 2)
  ) {
    return 'temperature must be a number between 0 and 2'
  }
  if (b.max_tokens !== undefined && (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1)) {
    return 'max_tokens must be a positive integer'
  }
  if (b.stream === true) return 'this fake server does not implement streaming'
  if (b.response_format !== undefined) {
    const type = (b.response_format as { type?: unknown } | null)?.type
    if (!['text', 'json_object', 'json_schema'].includes(type as string)) {
      return "response_format.type must be one of 'text', 'json_object', 'json_schema'"
    }
  }
  return undefined
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null,
  retryAfter?: string,
): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter
  res.writeHead(status, headers)
  res.end(JSON.stringify({ error: { message, type, param: null, code } }))
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** Sleeps, but wakes early when the client disconnects (client timeout) so no timer lingers. */
function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  if (ms <= 0 || res.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms)
    function finish() {
      clearTimeout(timer)
      res.off('close', finish)
      resolve()
    }
    res.once('close', finish)
  })
}
