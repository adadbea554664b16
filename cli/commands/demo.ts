// driftwatch demo (what `npm start` runs): a local Kafka broker, the embedded store, a
// synthetic producer at a steady rate and the monitor, all on this machine, with live
// progress. Ctrl-C stops everything cleanly; the broker keeps running for the next demo
// (`driftwatch kafka down` stops it).

import { kafkaUp } from '../../infra/kafka-local.ts'
import { errorMessage } from '../../lib/errors.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import { ensureTopics } from '../../lib/kafka-topics.ts'
import { produceSynthetic } from '../../producers/produce.ts'
import { interactionJsonBytes } from '../../producers/synthetic.ts'
import { intFlag, numberFlag, parseCommandArgs } from '../args.ts'
import { appContext } from '../context.ts'
import type { Command } from '../io.ts'
import { runMonitor } from './start.ts'

const USAGE = 'driftwatch demo [--rate EVENTS_PER_S] [--seconds N] [--config FILE]'

export const demoCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs(
    'demo',
    argv,
    { rate: { type: 'string' }, seconds: { type: 'string' } },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const rate = numberFlag('rate', values.rate, { min: 0.1, fallback: 200 })!
  const seconds = intFlag('seconds', values.seconds, { min: 1 })
  const ctx = appContext(io, values.config)
  if (!ctx.config.kafka.brokers) {
    io.stderr(
      'demo: starting the local Kafka broker (first run downloads it with Maven; later runs reuse it)\n',
    )
    const up = await kafkaUp({ cwd: io.cwd, env: io.env, log: ctx.log, signal: io.signal })
    io.stderr(`demo: KAFKA_BROKERS=${up.brokers}${up.reused ? ' (already running)' : ''}\n`)
    ctx.config.kafka.brokers = up.brokers.split(',')
  }
  const kafka = createKafka({ config: ctx.config.kafka, brokers: ctx.config.kafka.brokers!, log: ctx.log })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopics(
      admin,
      [...ctx.config.kafka.topics, ctx.config.kafka.dead_letter_topic],
      ctx.config.kafka.default_partitions,
    )
  } finally {
    await admin.disconnect()
  }

  const stop = new AbortController()
  io.signal.addEventListener('abort', () => stop.abort(), { once: true })
  const timer = seconds ? setTimeout(() => stop.abort(), seconds * 1000) : undefined
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  io.stderr(
    `demo: producing ${rate} synthetic interactions/s to ${ctx.config.kafka.topics[0]}; Ctrl-C to stop\n`,
  )
  const producing = produceSynthetic({
    producer,
    topic: ctx.config.kafka.topics[0]!,
    count: Number.MAX_SAFE_INTEGER,
    rate,
    synthetic: { seed: Math.floor(Math.random() * 2 ** 31), startMs: Date.now(), intervalMs: 1000 / rate },
    encode: (interaction) => ({ value: interactionJsonBytes(interaction) }),
    signal: stop.signal,
  }).catch((error) => {
    io.stderr(`demo: producer stopped: ${errorMessage(error)}\n`)
    return 0
  })
  try {
    return await runMonitor(ctx, io, stop.signal)
  } finally {
    if (timer) clearTimeout(timer)
    stop.abort()
    await producing
    await producer.disconnect()
  }
}
