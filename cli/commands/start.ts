// driftwatch start: the monitor in one process — ingest, scheduled jobs and the local
// HTTP endpoint — because the embedded store can be opened by one process only.

import { startIngestService } from '../../consumers/ingest-service.ts'
import { formatJobProgress } from '../../jobs/progress.ts'
import { startJobs } from '../../jobs/start-jobs.ts'
import type { Store } from '../../store/store.ts'
import { parseCommandArgs } from '../args.ts'
import { type AppContext, appContext, kafkaFor } from '../context.ts'
import { type CliIO, type Command, untilAborted } from '../io.ts'
import { monitorSet } from '../monitor-set.ts'
import { ownStore } from '../owner.ts'
import { formatCount, formatIngestProgress } from '../progress.ts'

const USAGE = 'driftwatch start [--config FILE]'

export const startCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs('start', argv, {}, USAGE)
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  return runMonitor(appContext(io, values.config), io, io.signal)
}

export interface MonitorHooks {
  /** Called once the store is open and migrated, before ingest starts. */
  onStoreReady?: (store: Store) => Promise<void>
  /** Called every `statusIntervalMs` with the store, e.g. to print rule states. */
  onStatus?: (store: Store) => Promise<void>
  statusIntervalMs?: number
}

/** Runs until `signal` aborts; shared by `start` and `demo`. */
export async function runMonitor(
  ctx: AppContext,
  io: CliIO,
  signal: AbortSignal,
  hooks: MonitorHooks = {},
): Promise<number> {
  const owned = await ownStore(ctx, 'start')
  let statusTimer: NodeJS.Timeout | undefined
  try {
    await hooks.onStoreReady?.(owned.store)
    const { kafka, brokers } = await kafkaFor(ctx)
    io.stderr(
      `driftwatch: monitoring ${ctx.config.kafka.topics.join(', ')} on ${brokers.join(',')}; store ${owned.store.kind} ${owned.store.location}; http ${owned.server.url}\n`,
    )
    const ingest = await startIngestService({
      kafka,
      store: owned.store,
      config: ctx.config,
      log: ctx.log,
      brokers,
      signal,
      onProgress: (p) => io.stderr(`${formatIngestProgress(p)}\n`),
    })
    owned.telemetry.watchIngest(ingest)
    const monitor = await monitorSet(ctx, io, owned.store, true)
    const jobsStop = new AbortController()
    const scheduler = await startJobs({
      store: owned.store,
      config: ctx.config,
      log: ctx.log,
      env: io.env,
      cwd: io.cwd,
      signal: jobsStop.signal,
      jobs: monitor.jobs,
      onProgress: (report) => {
        ctx.log.info(formatJobProgress(report), { job: report.job })
        owned.telemetry.onJobReport(report)
      },
    })
    io.stderr(
      `driftwatch: ${ctx.config.rules.length} rules; jobs ${scheduler.registry
        .list()
        .map((j) => j.name)
        .join(', ')}; verdicts at ${owned.server.url}/verdict?version=V\n`,
    )
    if (hooks.onStatus) {
      const onStatus = hooks.onStatus
      statusTimer = setInterval(() => {
        onStatus(owned.store).catch((error) => ctx.log.warn('status failed', { error: String(error) }))
      }, hooks.statusIntervalMs ?? 30_000)
    }
    let crashed: Error | undefined
    try {
      crashed = await Promise.race([untilAborted(signal).then(() => undefined), ingest.failed])
    } finally {
      if (statusTimer) clearInterval(statusTimer)
      jobsStop.abort()
      await scheduler.stop()
      await ingest.stop()
      await monitor.close()
    }
    if (crashed) {
      io.stderr(
        `driftwatch: ingest stopped on an error it does not retry: ${crashed.message}; exiting (start again to resume from the last commit)\n`,
      )
      return 1
    }
    io.stderr(`driftwatch: stopped; ${formatCount(ingest.consumer.totals.stored)} rows stored this run\n`)
    return 0
  } finally {
    await owned.close()
  }
}
