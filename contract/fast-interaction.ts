// The hot-path twin of InteractionSchema, written by hand for plain-JSON messages (50k+/s):
// one pass over the parsed object, no issue objects, no intermediate copies. It answers
// only "valid, and here is the normalised interaction" or "not valid"; for "not valid" the
// decoder asks zod, which stays the schema of record and writes the dead-letter reason.
// test/unit/contract-fast-interaction.test.ts proves both agree on generated valid and
// invalid events: same accept/reject, same output. Change both together.

import {
  type Interaction,
  MAX_TIMESTAMP_MS,
  MIN_TIMESTAMP_MS,
  MODALITIES,
  type Modality,
  parseTimestamp,
  STATUSES,
  type Status,
} from './interaction.ts'

const MODALITY_SET: ReadonlySet<string> = new Set(MODALITIES)
const STATUS_SET: ReadonlySet<string> = new Set(STATUSES)
const MAX_COUNT = 2_147_483_647

/** The normalised interaction, or undefined when InteractionSchema would reject `value`. */
export function fastInteraction(value: unknown): Interaction | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const v = value as Record<string, unknown>
  const request_id = v.request_id
  if (!isString(request_id, 1, 128)) return undefined
  const timestamp = fastTimestamp(v.timestamp)
  if (timestamp === undefined) return undefined
  const user_id = v.user_id
  if (!isString(user_id, 1, 256)) return undefined
  const session_id = optionalString(v.session_id, 256)
  if (session_id === false) return undefined
  const variant_id = v.variant_id
  const model_name = v.model_name
  const model_version = v.model_version
  const system_prompt_version = v.system_prompt_version
  const segment = v.segment
  if (
    !isString(variant_id, 1, 128) ||
    !isString(model_name, 1, 128) ||
    !isString(model_version, 1, 128) ||
    !isString(system_prompt_version, 1, 128) ||
    !isString(segment, 1, 128)
  )
    return undefined
  const modality = v.modality
  if (typeof modality !== 'string' || !MODALITY_SET.has(modality)) return undefined
  const user_input = v.user_input
  const model_output = v.model_output
  if (typeof user_input !== 'string' || typeof model_output !== 'string') return undefined
  const context = fastContext(v.context)
  if (context === undefined) return undefined
  const latency_ms = v.latency_ms
  if (!isNonNegative(latency_ms)) return undefined
  const ttft_ms = optionalNonNegative(v.ttft_ms)
  if (ttft_ms === false) return undefined
  const prompt_tokens = v.prompt_tokens
  const completion_tokens = v.completion_tokens
  if (!isCount(prompt_tokens) || !isCount(completion_tokens)) return undefined
  const cost_usd = optionalNonNegative(v.cost_usd)
  if (cost_usd === false) return undefined
  const status = v.status
  if (typeof status !== 'string' || !STATUS_SET.has(status)) return undefined
  const finish_reason = optionalString(v.finish_reason, 64)
  if (finish_reason === false) return undefined
  let safety_flag = v.safety_flag
  if (safety_flag === undefined) safety_flag = null
  else if (safety_flag !== null && typeof safety_flag !== 'boolean') return undefined
  let user_feedback_score = v.user_feedback_score
  if (user_feedback_score === undefined) user_feedback_score = null
  else if (user_feedback_score !== null && !isFiniteNumber(user_feedback_score)) return undefined
  const attributes = fastAttributes(v.attributes)
  if (attributes === undefined) return undefined
  const shadow_of = optionalString(v.shadow_of, 256)
  if (shadow_of === false) return undefined
  return {
    request_id,
    timestamp,
    user_id,
    session_id,
    variant_id,
    model_name,
    model_version,
    system_prompt_version,
    segment,
    modality: modality as Modality,
    user_input,
    model_output,
    context,
    latency_ms,
    ttft_ms,
    prompt_tokens,
    completion_tokens,
    cost_usd,
    status: status as Status,
    finish_reason,
    safety_flag: safety_flag as boolean | null,
    user_feedback_score: user_feedback_score as number | null,
    attributes,
    shadow_of,
  }
}

function isString(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max
}

/** null for absent or null, false for invalid. */
function optionalString(value: unknown, max: number): string | null | false {
  if (value === undefined || value === null) return null
  return typeof value === 'string' && value.length <= max ? value : false
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function isNonNegative(value: unknown): value is number {
  return isFiniteNumber(value) && value >= 0
}

function optionalNonNegative(value: unknown): number | null | false {
  if (value === undefined || value === null) return null
  return isNonNegative(value) ? value : false
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_COUNT
}

function fastTimestamp(value: unknown): number | undefined {
  // Epoch ms, the common case, without a call.
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined
    const ms = Math.trunc(value)
    return ms >= MIN_TIMESTAMP_MS && ms < MAX_TIMESTAMP_MS ? ms : undefined
  }
  if (typeof value !== 'string') return undefined
  const ms = parseTimestamp(value)
  return typeof ms === 'number' ? ms : undefined
}

function fastContext(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return []
  if (typeof value === 'string') return [value]
  if (!Array.isArray(value)) return undefined
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return undefined
  return value as string[]
}

function fastAttributes(value: unknown): Record<string, string> | undefined {
  const out: Record<string, string> = {}
  if (value === undefined || value === null) return out
  if (typeof value !== 'object' || Array.isArray(value)) return undefined
  const map = value as Record<string, unknown>
  for (const key in map) {
    const v = map[key]
    const t = typeof v
    if (t === 'string') out[key] = v as string
    else if ((t === 'number' && Number.isFinite(v)) || t === 'boolean') out[key] = String(v)
    else return undefined
  }
  return out
}
