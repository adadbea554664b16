// Log lines: JSON or pretty with the same fields; kafkajs's routine broker answers at debug.
import { describe, expect, it } from 'vitest'
import { kafkaLogLevel } from '../../lib/kafka-log.ts'
import { createLogger } from '../../lib/log.ts'

function capture(format: 'json' | 'pretty') {
  const lines: string[] = []
  const log = createLogger({
    level: 'debug',
    format,
    write: (l) => lines.push(l),
    fields: { component: 'x' },
  })
  return { log, lines }
}

describe('logs', () => {
  it('writes one JSON object per line by default, with every field', () => {
    const { log, lines } = capture('json')
    log.warn('store unavailable', { attempt: 2, error: new Error('boom') })
    const record = JSON.parse(lines[0]!)
    expect(record).toMatchObject({ level: 'warn', msg: 'store unavailable', component: 'x', attempt: 2 })
    expect(record.error).toEqual({ name: 'Error', message: 'boom' })
    expect(lines[0]!.endsWith('\n')).toBe(true)
  })

  it('writes the same fields as one readable line in pretty format', () => {
    const { log, lines } = capture('pretty')
    log.info('ingest consumer started', { topics: ['a', 'b'], group: 'g 1' })
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\S+Z INFO {2}ingest consumer started component=x topics="\[\\"a\\",\\"b\\"\]" group="g 1"\n$/,
    )
  })

  it('puts kafkajs retriable and handled broker answers at debug, real failures stay errors', () => {
    const ERROR = 1
    const WARN = 2
    const loading = "The coordinator is loading and hence can't process requests for this group"
    expect(kafkaLogLevel(ERROR, 'Response InitProducerId(key: 22, version: 1)', { error: loading })).toBe(
      'debug',
    )
    expect(
      kafkaLogLevel(
        ERROR,
        'Failed to send messages: This server is not the leader for that topic-partition',
        {},
      ),
    ).toBe('debug')
    expect(
      kafkaLogLevel(ERROR, 'Response JoinGroup', {
        error: 'The group is rebalancing, so a rejoin is needed',
      }),
    ).toBe('debug')
    expect(
      kafkaLogLevel(ERROR, 'Response Metadata', {
        error: 'There is no leader for this topic-partition as we are in the middle of a leadership election',
      }),
    ).toBe('debug')
    expect(
      kafkaLogLevel(ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: The coordinator is loading', {}),
    ).toBe('error')
    expect(kafkaLogLevel(ERROR, 'Response SaslAuthenticate', { error: 'Authentication failed' })).toBe(
      'error',
    )
    expect(kafkaLogLevel(WARN, 'something odd', {})).toBe('warn')
  })
})
