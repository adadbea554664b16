// A message that cannot become a row is kept twice, with its original bytes and the reason:
// on the dead-letter topic (for reprocessing) and in `ingest_errors` (for SQL). This module
// builds both shapes; it does no I/O.

import type { IHeaders, KafkaMessage, Message } from 'kafkajs'
import { clickhouseTime } from '../store/time.ts'
import type { KafkaSource } from './rows.ts'

/** Header names on dead-lettered messages. Original headers are kept as they were. */
export const DLQ_HEADERS = {
  reason: 'dlq.reason',
  detail: 'dlq.detail',
  topic: 'dlq.source.topic',
  partition: 'dlq.source.partition',
  offset: 'dlq.source.offset',
  failedAt: 'dlq.failed_at',
} as const

const MAX_DETAIL = 1000

export interface Poison {
  source: KafkaSource
  message: KafkaMessage
  reason: string
  detail: string
}

export function deadLetterMessage(poison: Poison, now = Date.now()): Message {
  const { source, message } = poison
  const headers: IHeaders = { ...(message.headers ?? {}) }
  headers[DLQ_HEADERS.reason] = poison.reason
  headers[DLQ_HEADERS.detail] = poison.detail.slice(0, MAX_DETAIL)
  headers[DLQ_HEADERS.topic] = source.topic
  headers[DLQ_HEADERS.partition] = String(source.partition)
  headers[DLQ_HEADERS.offset] = source.offset
  headers[DLQ_HEADERS.failedAt] = new Date(now).toISOString()
  return { key: message.key, value: message.value, headers }
}

export function ingestErrorRow(poison: Poison): Record<string, unknown> {
  const { source, message } = poison
  const raw = message.value ?? Buffer.alloc(0)
  return {
    kafka_topic: source.topic,
    kafka_partition: source.partition,
    kafka_offset: Number(source.offset),
    reason: poison.reason,
    detail: poison.detail.slice(0, MAX_DETAIL),
    raw_base64: raw.toString('base64'),
    raw_bytes: raw.length,
    message_key: message.key ? message.key.toString('base64') : null,
    headers: headersToStrings(message.headers),
    first_seen: clickhouseTime(Date.now()),
  }
}

/** Header values as text: UTF-8 when printable, else base64 prefixed with `base64:`. */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue
    const values = Array.isArray(value) ? value : [value]
    out[name] = values.map(headerText).join(',')
  }
  return out
}

function headerText(value: Buffer | string): string {
  if (typeof value === 'string') return value
  const text = value.toString('utf8')
  // U+FFFD means the bytes were not valid UTF-8; control characters mean binary.
  const binary =
    text.includes('\uFFFD') || [...text].some((c) => c.charCodeAt(0) < 0x20 && !'\t\n\r'.includes(c))
  return binary ? `base64:${value.toString('base64')}` : text
}
