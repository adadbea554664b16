// Turns a validated interaction and its Kafka coordinates into an `interactions` row, and
// a poison message into an `ingest_errors` row. Pure: tested without servers.

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
    kafka_topic: source.topic,
    kafka_partition: source.partition,
    kafka_offset: Number(source.offset),
  }
}
