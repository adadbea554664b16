// driftwatch ingest: run the Kafka → ClickHouse consumer until stopped, or with
// --until-caught-up until the group has stored and committed everything there is.

import { startIngestService } from '../../consumers/ingest-service.ts'
import { listFlag, parseCommandArgs } from '../args.ts'
import { appContext, kafkaFor } from '../context.ts'
import { type Command, untilAborted } from '../io.ts'
import { ownStore } from '../owner.ts'
import { formatCount, formatIngestProgress } from '../progress.ts'

const USAGE = 'driftwatch ingest [--topic T ...] [--group G] [--until-caught-up] [--config FILE]'

export const ingestCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs(
    'ingest',
    argv,
    {
      topic: { type: 'string', multiple: true },
      group: { type: 'string' },
      'until-caught-up': { type: 'boolean' },
    },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const ctx = appContext(io, values.config)
  const owned = await ownStore(ctx, 'ingest')
  try {
    const { kafka, brokers } = await kafkaFor(ctx)
    const topics = listFlag(values.topic) ?? ctx.config.kafka.topics
    const groupId = values.group ?? ctx.config.kafka.group_id
    io.stderr(
      `ingest: ${topics.join(', ')} (group ${groupId}, brokers ${brokers.join(',')}) → ${owned.store.kind} store ${owned.store.location}\n`,
    )
    const service = await startIngestService({
      kafka,
      store: owned.store,
      config: ctx.config,
      log: ctx.log,
      topics,
      groupId,
      brokers,
      signal: io.signal,
      onProgress: (p) => io.stderr(`${formatIngestProgress(p)}\n`),
    })
    owned.telemetry.watchIngest(service)
    let crashed: Error | undefined
    try {
      const done = values['until-caught-up'] ? service.waitUntilCaughtUp(io.signal) : untilAborted(io.signal)
      crashed = await Promise.race([done.then(() => undefined), service.failed])
    } finally {
      await service.stop()
    }
    if (crashed) {
      io.stderr(
        `ingest: the consumer stopped on an error it does not retry: ${crashed.message}; exiting (run it again to resume from the last commit)\n`,
      )
      return 1
    }
    const t = service.consumer.totals
    io.stderr(
      `ingest: done, ${formatCount(t.stored)} rows stored, ${formatCount(t.poisoned)} dead-lettered, ${formatCount(t.skipped)} already stored\n`,
    )
    // Stopped by a signal before catching up: not a success for --until-caught-up.
    return values['until-caught-up'] && io.signal.aborted ? 130 : 0
  } finally {
    await owned.close()
  }
}
