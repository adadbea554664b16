// IngestConsumer.stop() against kafkajs' crash handling, with a fake kafkajs client that
// replays what kafkajs 2.2 does (src/consumer/index.js onCrash): disconnect, emit CRASH
// with restart = true, then set the timer that restarts the consumer. When stop() ran in
// between, the restarted consumer outlived stop(): it must be disconnected again.
import { EventEmitter } from 'node:events'
import type { Kafka } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { IngestConsumer } from '../../consumers/ingest-consumer.ts'
import { createDecoder } from '../../contract/decode.ts'
import { createLogger } from '../../lib/log.ts'
import type { Store } from '../../store/store.ts'

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  REBALANCING: 'consumer.rebalancing',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  DISCONNECT: 'consumer.disconnect',
}

function fakeKafka() {
  const emitter = new EventEmitter()
  const consumer = {
    events: EVENTS,
    disconnects: 0,
    restartPending: false,
    on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
    connect: async () => {},
    subscribe: async () => {},
    run: async () => {},
    commitOffsets: async () => {},
    disconnect: async () => {
      consumer.disconnects++
      // kafkajs' stop() clears the restart timer.
      consumer.restartPending = false
    },
    /** kafkajs' onCrash after its own disconnect: CRASH, then the restart timer. */
    crashAndScheduleRestart() {
      emitter.emit(EVENTS.CRASH, { payload: { error: new Error('crashed'), groupId: 'g', restart: true } })
      consumer.restartPending = true
    },
  }
  const producer = { connect: async () => {}, disconnect: async () => {}, send: async () => {} }
  const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka
  return { kafka, consumer }
}

function ingestConsumer(kafka: Kafka): IngestConsumer {
  return new IngestConsumer({
    kafka,
    store: {} as Store,
    decoder: createDecoder({ maxMessageBytes: 1 << 20 }),
    topics: ['t'],
    groupId: 'g',
    deadLetterTopic: 't.dlq',
    config: parseConfig({}).ingest,
    log: createLogger({ level: 'error' }),
  })
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('IngestConsumer.stop and kafkajs crash restarts', () => {
  it('disconnects a consumer kafkajs schedules to restart after stop()', async () => {
    const { kafka, consumer } = fakeKafka()
    const ingest = ingestConsumer(kafka)
    await ingest.start()
    await ingest.stop()
    expect(consumer.disconnects).toBe(1)

    consumer.crashAndScheduleRestart()
    await nextTurn()
    expect(consumer.disconnects).toBe(2)
    expect(consumer.restartPending).toBe(false)
  })

  it('leaves kafkajs to restart a consumer that crashed while running', async () => {
    const { kafka, consumer } = fakeKafka()
    const ingest = ingestConsumer(kafka)
    await ingest.start()
    consumer.crashAndScheduleRestart()
    await nextTurn()
    expect(consumer.disconnects).toBe(0)
    expect(consumer.restartPending).toBe(true)
    await ingest.stop()
    expect(consumer.restartPending).toBe(false)
  })
})
