// Turns a validated interaction and its Kafka coordinates into an `interactions` row: as an
// object (interactionRow) or, on the ingest hot path, straight into one JSONCompactEachRow
// line (interactionLine) that the engine parses itself. Pure: tested without servers.

import type { Interaction } from '../contract/interaction.ts'
import { clickhouseTime } from '../store/time.ts'

export interface KafkaSource {
  topic: string
  partition: number
  offset: string
}

export function interactionRow(event: Interaction, source: KafkaSource): Record<string, unknown> {
  return {
    request_id: event.request_id,
    timestamp: clickhouseTime(event.timestamp),
    user_id: event.user_id,
    session_id: event.session_id ?? null,
    variant_id: event.variant_id,
    model_name: event.model_name,
    model_version: event.model_version,
    system_prompt_version: event.system_prompt_version,
    segment: event.segment,
    modality: event.modality,
    user_input: event.user_input,
    model_output: event.model_output,
    context: event.context ?? [],
    latency_ms: event.latency_ms,
    ttft_ms: event.ttft_ms ?? null,
    prompt_tokens: event.prompt_tokens,
    completion_tokens: event.completion_tokens,
    cost_usd: event.cost_usd ?? null,
    status: event.status,
    finish_reason: event.finish_reason ?? null,
    safety_flag: event.safety_flag ?? null,
    user_feedback_score: event.user_feedback_score ?? null,
    attributes: event.attributes,
    shadow_of: event.shadow_of ?? null,
    kafka_topic: source.topic,
    kafka_partition: source.partition,
    kafka_offset: Number(source.offset),
  }
}

/** The columns of interactionRow, in its order: the column list of interactionLine. */
export const INTERACTION_COLUMNS = [
  'request_id',
  'timestamp',
  'user_id',
  'session_id',
  'variant_id',
  'model_name',
  'model_version',
  'system_prompt_version',
  'segment',
  'modality',
  'user_input',
  'model_output',
  'context',
  'latency_ms',
  'ttft_ms',
  'prompt_tokens',
  'completion_tokens',
  'cost_usd',
  'status',
  'finish_reason',
  'safety_flag',
  'user_feedback_score',
  'attributes',
  'shadow_of',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
] as const

const str = JSON.stringify
const orNull = (value: unknown) => (value === null ? 'null' : str(value))

/**
 * A DateTime64(3) value in a JSON line: epoch milliseconds as a plain integer, which ClickHouse
 * reads as the column's scaled Unix time (documented for DateTime64), so no date text is
 * formatted per row; the text form only for a time that is not a whole, positive millisecond.
 */
function lineTime(ms: number): string {
  return Number.isSafeInteger(ms) && ms >= 0 ? String(ms) : `"${clickhouseTime(ms)}"`
}

/**
 * The row of interactionRow(event, source) as one JSONCompactEachRow line (no newline), in
 * INTERACTION_COLUMNS order: what JSON.stringify of its values would give (the timestamp as
 * epoch milliseconds, see lineTime), without building the row object or the values array.
 */
export function interactionLine(event: Interaction, source: KafkaSource): string {
  return `[${str(event.request_id)},${lineTime(event.timestamp)},${str(event.user_id)},${orNull(
    event.session_id,
  )},${str(event.variant_id)},${str(event.model_name)},${str(event.model_version)},${str(
    event.system_prompt_version,
  )},${str(event.segment)},${str(event.modality)},${str(event.user_input)},${str(event.model_output)},${str(
    event.context,
  )},${str(event.latency_ms)},${orNull(event.ttft_ms)},${event.prompt_tokens},${event.completion_tokens},${orNull(
    event.cost_usd,
  )},${str(event.status)},${orNull(event.finish_reason)},${orNull(event.safety_flag)},${orNull(
    event.user_feedback_score,
  )},${str(event.attributes)},${orNull(event.shadow_of ?? null)},${str(source.topic)},${source.partition},${Number(source.offset)}]`
}
