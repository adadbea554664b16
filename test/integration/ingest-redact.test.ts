// ingest.redact through the real ingest service: the stored user_input and model_output
// carry markers, never the e-mail address, phone or card number that was sent.
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { startIngestService } from '../../consumers/ingest-service.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import { interactionJsonBytes, syntheticInteraction } from '../../producers/synthetic.ts'
import type { Store } from '../../store/store.ts'
import { produceRaw, testLog } from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'
import { createTestStore } from '../helpers/store.ts'

let store: Store
afterAll(async () => {
  await store?.close()
})

describe('ingest: redaction', () => {
  it('stores user_input and model_output with PII replaced', async () => {
    store = await createTestStore()
    const brokers = getBrokers()
    const topic = uniqueTopic('redact')
    await createTopic(brokers, topic, 1)
    const event = {
      ...syntheticInteraction(0, { seed: 5 }),
      user_input: 'I am jane@corp.example, call me on +44 20 7946 0958',
      model_output: 'Charged card 4111 1111 1111 1111 for ticket T-998877.',
    }
    await produceRaw(brokers, topic, [{ value: interactionJsonBytes(event) }])
    const config = parseConfig({
      kafka: {
        brokers: brokers.split(','),
        topics: [topic],
        group_id: `${topic}.g`,
        dead_letter_topic: `${topic}.dlq`,
      },
      ingest: {
        flush_interval_ms: 200,
        redact: {
          emails: true,
          phone_numbers: true,
          card_numbers: true,
          patterns: [{ name: 'ticket', regex: 'T-\\d{6}' }],
        },
      },
    })
    const kafka = createKafka({ config: config.kafka, brokers: brokers.split(','), log: testLog })
    const ingest = await startIngestService({ kafka, store, config, log: testLog })
    try {
      await ingest.waitUntilCaughtUp(AbortSignal.timeout(60_000))
    } finally {
      await ingest.stop()
    }
    const rows = await store.query<{ user_input: string; model_output: string }>(
      'SELECT user_input, model_output FROM interactions WHERE request_id = {id:String}',
      { id: event.request_id },
    )
    expect(rows).toEqual([
      {
        user_input: 'I am [EMAIL], call me on [PHONE]',
        model_output: 'Charged card [CARD] for ticket [TICKET].',
      },
    ])
  })
})
