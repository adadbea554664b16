import type { KafkaMessage } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import {
  DLQ_HEADERS,
  deadLetterMessage,
  headersToStrings,
  ingestErrorRow,
} from '../../consumers/dead-letter.ts'

const message = (value: Buffer | null, headers: KafkaMessage['headers'] = {}): KafkaMessage => ({
  key: Buffer.from('k1'),
  value,
  headers,
  offset: '42',
  timestamp: '0',
  attributes: 0,
  size: undefined,
})

describe('dead-letter messages', () => {
  const source = { topic: 'llm.interactions', partition: 2, offset: '42' }

  it('keeps the original key, bytes and headers and adds reason and source', () => {
    const original = Buffer.from([0xff, 0x00, 0x01])
    const dlq = deadLetterMessage(
      {
        source,
        message: message(original, { trace: 'abc' }),
        reason: 'bad_magic_byte',
        detail: 'first byte 0xff',
      },
      0,
    )
    expect(dlq.value).toBe(original)
    expect(dlq.key?.toString()).toBe('k1')
    expect(dlq.headers).toMatchObject({
      trace: 'abc',
      [DLQ_HEADERS.reason]: 'bad_magic_byte',
      [DLQ_HEADERS.topic]: 'llm.interactions',
      [DLQ_HEADERS.partition]: '2',
      [DLQ_HEADERS.offset]: '42',
      [DLQ_HEADERS.failedAt]: '1970-01-01T00:00:00.000Z',
    })
  })

  it('truncates long details', () => {
    const dlq = deadLetterMessage({
      source,
      message: message(Buffer.from('x')),
      reason: 'schema_invalid',
      detail: 'y'.repeat(5000),
    })
    expect(String(dlq.headers?.[DLQ_HEADERS.detail]).length).toBe(1000)
  })

  it('stores the raw bytes as base64 in ingest_errors, with coordinates', () => {
    const row = ingestErrorRow({
      source,
      message: message(Buffer.from('not json')),
      reason: 'not_json',
      detail: 'Unexpected token',
    })
    expect(Buffer.from(String(row.raw_base64), 'base64').toString()).toBe('not json')
    expect(row).toMatchObject({
      kafka_topic: 'llm.interactions',
      kafka_partition: 2,
      kafka_offset: 42,
      reason: 'not_json',
      raw_bytes: 8,
    })
  })

  it('records an empty message as zero bytes', () => {
    expect(ingestErrorRow({ source, message: message(null), reason: 'empty', detail: '' })).toMatchObject({
      raw_base64: '',
      raw_bytes: 0,
    })
  })

  it('renders binary header values as base64 and text as text', () => {
    expect(
      headersToStrings({ a: Buffer.from('plain'), b: Buffer.from([0, 0, 0, 0, 7]), c: undefined }),
    ).toEqual({
      a: 'plain',
      b: 'base64:AAAAAAc=',
    })
  })
})
