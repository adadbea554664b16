// driftwatch start: the monitor in one process — ingest, scheduled jobs and the local
// HTTP endpoint — because the embedded store can be opened by one process only.

import { parseCommandArgs } from '../args.ts'
import { type AppContext, appContext, kafkaFor } from '../context.ts'
import type { CliIO, Command } from '../io.ts'
import { ownStore } from '../owner.ts'
import { formatCount, formatIngestProgress } from '../progress.ts'
import { startIngestService } from '../../consumers/ingest-service.ts'

const USAGE = 'driftwatch start [--config FILE]'

export const startCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs('start', argv, {}, USAGE)
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  return runMonitor(appContext(io, values.config), io, io.signal)
}

/** Runs until `signal` aborts; shared by `start` and `demo`. */
export async function runMonitor(ctx: AppContext, io: CliIO, signal: AbortSignal): Promise<number> {
  const owned = await ownStore(ctx, 'start')
  try {
    const { kafka, brokers } = await kafkaFor(ctx)
    io.stderr(`driftwatch: monitoring ${ctx.config.kafka.topics.join(', ')} on ${brokers.join(',')}; store ${owned.store.kind} ${owned.store.location}; http ${owned.server.url}\n`)
    const ingest = await startIngestService({
      kafka,
      store: owned.store,
      config: ctx.config,
      log: ctx.log,
      onProgress: (p) => io.stderr(`${formatIngestProgress(p)}\n`),
    })
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve()
        signal.addEventListener('abort', () => resolve(), { once: true })
      })
    } finally {
      await ingest.stop()
    }
    io.stderr(`driftwatch: stopped; ${formatCount(ingest.consumer.totals.stored)} rows stored this run\n`)
    return 0
  } finally {
    await owned.close()
  }
}
