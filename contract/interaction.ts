// The event contract: one LLM interaction as producers send it and as driftwatch stores it.
// This zod schema is the single source of truth: the JSON Schema registered for producers is
// generated from it, and every wire format (plain JSON, Avro, JSON Schema, Protobuf) is
// validated by it after decoding, so all formats yield the same normalised `Interaction`.
//
// Validation runs on every Kafka message (50k+/s), so the schema avoids per-field transforms
// where a default will do, and normalises only what downstream code would otherwise branch on
// (timestamp forms, context forms, missing optionals -> null).

import { z } from 'zod'

export const MODALITIES = ['text', 'image', 'audio', 'video', 'multimodal'] as const
export const STATUSES = ['ok', 'error', 'timeout'] as const
export type Modality = (typeof MODALITIES)[number]
export type Status = (typeof STATUSES)[number]

// Timestamps outside [2000-01-01, 2100-01-01) are unit mistakes (epoch seconds, micro- or
// nanoseconds), not real interactions. Fixed bounds, not "now ± skew", keep replays of old
// data and tests deterministic.
export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1)
export const MAX_TIMESTAMP_MS = Date.UTC(2100, 0, 1)

// ISO 8601 date-time: a time part is required (a bare date is not an interaction time).
// Groups: 1 = date-time without zone, 2 = zone (Z, +hh:mm, +hhmm, +hh) or undefined.
const ISO_DATE_TIME =
  /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)([Zz]|[+-]\d{2}(?::?\d{2})?)?$/

/** Parses an ISO 8601 string or epoch milliseconds; returns epoch ms, or an error text. */
export function parseTimestamp(value: string | number): number | string {
  let ms: number
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'expected epoch milliseconds, got a non-finite number'
    ms = Math.trunc(value)
  } else if (/^\d{1,16}$/.test(value)) {
    // Some producers (and other languages' JSON encoders) send epoch ms as a digit string.
    ms = Number(value)
  } else {
    const m = ISO_DATE_TIME.exec(value)
    if (!m) return 'expected an ISO 8601 date-time (e.g. 2024-05-01T12:00:00.000Z) or epoch milliseconds'
    let zone = m[2]
    // No offset means UTC here: JavaScript would read it as the consumer's local time, which
    // makes the same event land in different windows on differently configured hosts.
    if (zone === undefined) zone = 'Z'
    else if (zone.length === 3) zone = `${zone}:00`
    ms = Date.parse(m[1]!.replace(',', '.') + zone)
    if (Number.isNaN(ms)) return 'expected a valid ISO 8601 date-time; month, day or time is out of range'
  }
  if (ms < MIN_TIMESTAMP_MS) {
    if (ms >= MIN_TIMESTAMP_MS / 1000 && ms < MAX_TIMESTAMP_MS / 1000) {
      return `timestamp ${ms} looks like epoch seconds; send epoch milliseconds`
    }
    return `timestamp ${ms} is before 2000-01-01; expected epoch milliseconds`
  }
  if (ms >= MAX_TIMESTAMP_MS) {
    if (ms >= MIN_TIMESTAMP_MS * 1000 && ms < MAX_TIMESTAMP_MS * 1000) {
      return `timestamp ${ms} looks like epoch microseconds; send epoch milliseconds`
    }
    return `timestamp ${ms} is after 2100-01-01; expected epoch milliseconds`
  }
  return ms
}

// Checked by hand instead of z.union([z.string(), z.number()]): a union pays for a failed
// branch on every message. The metadata gives the registered JSON Schema the real shape.
const timestamp = z
  .custom<string | number>((value) => typeof value === 'string' || typeof value === 'number', {
    error: (issue) =>
      issue.input === undefined
        ? 'required field is missing (expected an ISO 8601 string or epoch milliseconds)'
        : `expected an ISO 8601 string or epoch milliseconds, got ${typeOf(issue.input)}`,
  })
  .transform((value, ctx): number => {
    const result = parseTimestamp(value)
    if (typeof result === 'string') {
      ctx.issues.push({ code: 'custom', message: result, input: value })
      return z.NEVER
    }
    return result
  })
  .meta({
    anyOf: [{ type: 'string' }, { type: 'number' }],
    description: 'ISO 8601 date-time (UTC if no offset) or epoch milliseconds; normalised to epoch ms',
  })

const id = (max: number) => z.string().min(1).max(max)
const label = z.string().min(1).max(128)
const count = z.int().min(0).max(2_147_483_647)
const ms = z.number().min(0)

// Optional fields become null, never undefined: rows and reports then have one shape.
const optionalString = (max: number) => z.string().max(max).nullable().default(null)

// Retrieved documents: one string or a list; always an array downstream ([] when absent).
const context = z
  .union([z.string(), z.array(z.string())])
  .nullish()
  .transform((value): string[] => {
    if (value == null || value === '') return []
    return typeof value === 'string' ? [value] : value
  })

// A string map. Numbers and booleans are accepted and stringified: producers often log
// `{"retries": 2}` and losing the whole interaction for that would hide real traffic.
// Checked by hand: z.record of a union costs a third of the whole validation.
const attributes = z
  .custom<Record<string, string | number | boolean>>(
    (value) => typeof value === 'object' && !Array.isArray(value),
    {
      error: (issue) => `expected an object of strings, got ${typeOf(issue.input)}`,
    },
  )
  .nullish()
  .transform((value, ctx): Record<string, string> => {
    const out: Record<string, string> = {}
    if (value == null) return out
    for (const key in value) {
      const v = value[key]
      const t = typeof v
      if (t === 'string') out[key] = v as string
      else if ((t === 'number' && Number.isFinite(v)) || t === 'boolean') out[key] = String(v)
      else
        ctx.issues.push({
          code: 'custom',
          message: `expected a string, got ${typeOf(v)}`,
          input: v,
          path: [key],
        })
    }
    return out
  })
  .meta({
    anyOf: [
      { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      { type: 'null' },
    ],
    default: {},
    description: 'Free-form string map (numbers and booleans are stringified)',
  })

/**
 * One LLM interaction. Unknown top-level fields are stripped (producers may send more than
 * driftwatch needs); known fields are checked strictly.
 */
export const InteractionSchema = z.object({
  request_id: id(128).describe('Unique per interaction; the idempotency key of ingestion'),
  timestamp,
  user_id: id(256),
  session_id: optionalString(256),
  variant_id: label.describe('Experiment arm, e.g. control / canary / shadow'),
  model_name: label,
  model_version: label,
  system_prompt_version: label,
  segment: label.describe('Use case or customer tier, e.g. invoice_extraction'),
  modality: z.enum(MODALITIES),
  user_input: z.string(),
  model_output: z.string(),
  context: context.describe('Retrieved documents (RAG), used to judge groundedness'),
  latency_ms: ms.describe('End-to-end latency in milliseconds'),
  ttft_ms: ms.nullable().default(null).describe('Time to first token in milliseconds'),
  prompt_tokens: count,
  completion_tokens: count,
  cost_usd: z.number().min(0).nullable().default(null),
  status: z.enum(STATUSES),
  finish_reason: optionalString(64).describe('e.g. stop, length, content_filter, tool_calls'),
  safety_flag: z.boolean().nullable().default(null).describe("The application's own guard fired"),
  user_feedback_score: z.number().nullable().default(null),
  attributes,
  shadow_of: optionalString(256).describe(
    'The production request_id this answer shadows or replays (shadow deployments, driftwatch replay); absent for production traffic',
  ),
})

/** A validated, normalised interaction: timestamp is epoch milliseconds (UTC). */
export type Interaction = z.output<typeof InteractionSchema>
/** What producers may send (ISO or epoch-ms timestamp, string or array context, ...). */
export type InteractionInput = z.input<typeof InteractionSchema>

/** Field names in contract order; the Avro and Protobuf schemas must carry exactly these. */
export const INTERACTION_FIELDS = Object.keys(InteractionSchema.shape) as (keyof Interaction)[]

const MAX_LISTED_ISSUES = 10

/**
 * One line naming each failing field and what was expected, e.g.
 * `latency_ms: expected number >= 0; status: expected one of "ok"|"error"|"timeout"`.
 * Used as the dead-letter reason, so it never echoes field values (user text).
 */
export function formatZodIssues(error: z.ZodError): string {
  const issues = error.issues
  const parts: string[] = []
  for (const issue of issues.slice(0, MAX_LISTED_ISSUES)) {
    parts.push(`${formatPath(issue.path)}: ${describeIssue(issue)}`)
  }
  if (issues.length > MAX_LISTED_ISSUES) parts.push(`and ${issues.length - MAX_LISTED_ISSUES} more`)
  return parts.join('; ')
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(root)'
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out += out ? `.${key}` : key
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      // zod drops the input from issues (good: no user text); its message keeps the type.
      const got = received(issue.message)
      if (got === 'undefined') return `required field is missing (expected ${issue.expected})`
      if (issue.expected === 'int') return `expected an integer, got ${got ?? 'another value'}`
      return `expected ${issue.expected}, got ${got ?? 'another type'}`
    }
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return 'expected a non-empty string'
      if (issue.origin === 'string') return `expected a string of at least ${issue.minimum} characters`
      return `expected ${issue.origin} >= ${issue.minimum}`
    case 'too_big':
      if (issue.origin === 'string') return `expected a string of at most ${issue.maximum} characters`
      return `expected ${issue.origin} <= ${issue.maximum}`
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join('|')}`
    case 'invalid_union': {
      const expected = new Set<string>()
      let got: string | undefined
      for (const branch of issue.errors) {
        for (const sub of branch) {
          if (sub.code === 'invalid_type' && sub.path.length === 0) {
            expected.add(sub.expected)
            got ??= received(sub.message)
          } else expected.add('a valid value')
        }
      }
      if (got === 'undefined') return `required field is missing (expected ${[...expected].join(' or ')})`
      return `expected ${[...expected].join(' or ') || 'a valid value'}, got ${got ?? 'another value'}`
    }
    default:
      return issue.message
  }
}

function received(message: string): string | undefined {
  return /received (\w+)/.exec(message)?.[1]
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  return typeof value
}
