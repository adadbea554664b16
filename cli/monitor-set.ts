// The rule jobs (detect_versions, evaluate) for a command that runs jobs — `start` and
// `jobs` — with the Kafka producer their rollback triggers need: connected only when
// evaluate may run and alerts.kafka is on. close() disconnects it.

import { monitorJobs } from '../jobs/evaluate/monitor-jobs.ts'
import type { JobDefinition } from '../jobs/registry.ts'
import type { Store } from '../store/store.ts'
import { type AppContext, kafkaFor } from './context.ts'
import type { CliIO } from './io.ts'

export interface MonitorSet {
  jobs: JobDefinition[]
  close(): Promise<void>
}

export async function monitorSet(
  ctx: AppContext,
  io: CliIO,
  store: Store,
  mayEvaluate: boolean,
): Promise<MonitorSet> {
  const producer = mayEvaluate && ctx.config.alerts.kafka ? await connectProducer(ctx) : undefined
  const jobs = monitorJobs({ config: ctx.config, store, env: io.env, log: ctx.log, producer })
  return { jobs, close: async () => producer?.disconnect() }
}

async function connectProducer(ctx: AppContext) {
  const { kafka } = await kafkaFor(ctx)
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  return producer
}
