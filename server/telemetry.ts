// The process's own health as Prometheus metrics (GET /metrics), on a prom-client Registry
// passed in (never the global default, so two instances in one process never mix).
// Nothing here is threaded through the loops: it subscribes to what they already publish
// (the ingest consumer's chunk events, the scheduler's progress reports) and reads rule
// states from the store at scrape time.

import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client'
import type { IngestService } from '../consumers/ingest-service.ts'
import { EVALUATE_JOB } from '../jobs/evaluate/evaluate-job.ts'
import { loadRuleStates } from '../jobs/evaluate/state-store.ts'
import type { ProgressReport } from '../jobs/progress.ts'
import { DEFAULT_SCHEDULES } from '../jobs/start-jobs.ts'
import { errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { Store } from '../store/store.ts'
import type { Route } from './http.ts'

const SCORERS = new Set<string>(Object.keys(DEFAULT_SCHEDULES))
const RULE_STATUSES = ['inconclusive', 'ok', 'pending', 'firing', 'resolved'] as const

export interface Telemetry {
  readonly registry: Registry
  /** Counts what the ingest consumer stores and dead-letters; lag and readiness at scrape time. */
  watchIngest(service: IngestService): void
  /** A scheduler progress report (pass as, or call from, the scheduler's onProgress). */
  onJobReport(report: ProgressReport): void
  /** Consumer-group lag of the watched ingest service; undefined when none or unknown. */
  ingestLag(): Promise<number | undefined>
  /** GET /metrics, GET /health, GET /ready. */
  routes(): Record<string, Route>
}

export function createTelemetry(options: {
  registry: Registry
  store: Store
  log: Logger
  /** What /health reports besides status. */
  describe?: Record<string, unknown>
  /** Process metrics (CPU, memory, event loop); default true. */
  processMetrics?: boolean
}): Telemetry {
  const { registry, store, log } = options
  const registers = [registry]
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'driftwatch_' })

  const ingestRows = new Counter({
    name: 'driftwatch_ingest_rows_total',
    help: 'Interactions read from Kafka, by outcome: stored, dead_lettered, skipped (already stored).',
    labelNames: ['outcome'],
    registers,
  })
  const ingestBytes = new Counter({
    name: 'driftwatch_ingest_bytes_total',
    help: 'Bytes of Kafka message values ingested (stored, dead-lettered or skipped).',
    registers,
  })
  const deadLettered = new Counter({
    name: 'driftwatch_ingest_dead_lettered_total',
    help: 'Messages sent to the dead-letter topic, by reason.',
    labelNames: ['reason'],
    registers,
  })
  const insertSeconds = new Histogram({
    name: 'driftwatch_ingest_insert_duration_seconds',
    help: 'Time to store one chunk (decode, insert, dead-letter) before its offsets are committed.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  })
  let ingest: IngestService | undefined
  new Gauge({
    name: 'driftwatch_ingest_lag_messages',
    help: 'Messages in the ingest topics not yet committed by the consumer group.',
    registers,
    async collect() {
      const lag = ingest ? await ingest.lag() : undefined
      if (lag) this.set(lag.total)
    },
  })
  new Gauge({
    name: 'driftwatch_ingest_in_group',
    help: '1 while the ingest consumer is a member of its consumer group.',
    registers,
    collect() {
      if (ingest) this.set(ingest.consumer.inGroup ? 1 : 0)
    },
  })

  const scoringRows = new Counter({
    name: 'driftwatch_scoring_requests_total',
    help: 'Rows a scorer handled, by scorer and outcome: ok (scored, or skipped as unanswered by the refusal detector), failed (gave up after retries).',
    labelNames: ['scorer', 'outcome'],
    registers,
  })
  const spend = new Counter({
    name: 'driftwatch_scoring_spend_usd_total',
    help: 'Model spend of the scorers in US dollars, at the configured prices.',
    labelNames: ['scorer'],
    registers,
  })
  const jobSeconds = new Histogram({
    name: 'driftwatch_job_duration_seconds',
    help: 'Duration of a scheduled job run, by job.',
    labelNames: ['job'],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
    registers,
  })
  const cycleSeconds = new Histogram({
    name: 'driftwatch_evaluation_cycle_seconds',
    help: 'Duration of one rule evaluation cycle (all rules, all scopes).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  })
  const lastCycle = new Gauge({
    name: 'driftwatch_evaluation_last_cycle_timestamp_seconds',
    help: 'When the last evaluation cycle finished (Unix seconds).',
    registers,
  })

  new Gauge({
    name: 'driftwatch_rule_scopes',
    help: 'Rule × scope states as last evaluated, by rule and state.',
    labelNames: ['rule', 'state'],
    registers,
    async collect() {
      this.reset()
      for (const s of await ruleStates()) this.inc({ rule: s.rule, state: s.status })
    },
  })
  new Gauge({
    name: 'driftwatch_incidents_firing',
    help: 'Incidents firing now (rule × scope), by rule and action.',
    labelNames: ['rule'],
    registers,
    async collect() {
      this.reset()
      for (const s of await ruleStates()) if (s.status === 'firing') this.inc({ rule: s.rule })
    },
  })
  // Both rule gauges read the same states: one query per scrape.
  let statesAt = 0
  let states: Promise<{ rule: string; status: string }[]> = Promise.resolve([])
  const ruleStates = () => {
    if (Date.now() - statesAt > 1000) {
      statesAt = Date.now()
      states = loadRuleStates(store, undefined, log).then(
        (m) => [...m.values()].filter((s) => (RULE_STATUSES as readonly string[]).includes(s.status)),
        (error) => {
          log.warn('metrics: cannot read rule states', { error: errorMessage(error) })
          return []
        },
      )
    }
    return states
  }

  // Progress reports are cumulative within a run: count the increase since the last one.
  const lastReport = new Map<string, { done: number; failed: number; spendUsd: number }>()

  return {
    registry,
    watchIngest(service) {
      ingest = service
      service.consumer.on('chunk', (chunk) => {
        ingestRows.inc({ outcome: 'stored' }, chunk.stored)
        ingestRows.inc({ outcome: 'dead_lettered' }, chunk.poisoned)
        ingestRows.inc({ outcome: 'skipped' }, chunk.skipped)
        ingestBytes.inc(chunk.bytes)
        for (const [reason, n] of Object.entries(chunk.reasons)) deadLettered.inc({ reason }, n)
        insertSeconds.observe(chunk.durationMs / 1000)
      })
    },
    async ingestLag() {
      return ingest ? (await ingest.lag())?.total : undefined
    },
    onJobReport(report) {
      const before = lastReport.get(report.job) ?? { done: 0, failed: 0, spendUsd: 0 }
      if (SCORERS.has(report.job)) {
        const failed = Math.max(0, report.failed - before.failed)
        const done = Math.max(0, report.done - before.done)
        scoringRows.inc({ scorer: report.job, outcome: 'ok' }, Math.max(0, done - failed))
        scoringRows.inc({ scorer: report.job, outcome: 'failed' }, failed)
        spend.inc({ scorer: report.job }, Math.max(0, report.spendUsd - before.spendUsd))
      }
      if (report.final) {
        lastReport.delete(report.job)
        jobSeconds.observe({ job: report.job }, report.elapsedMs / 1000)
        if (report.job === EVALUATE_JOB) {
          cycleSeconds.observe(report.elapsedMs / 1000)
          lastCycle.set(Date.now() / 1000)
        }
      } else {
        lastReport.set(report.job, { done: report.done, failed: report.failed, spendUsd: report.spendUsd })
      }
    },
    routes() {
      return {
        'GET /metrics': async () => ({
          status: 200,
          body: await registry.metrics(),
          contentType: registry.contentType,
        }),
        'GET /health': async () => ({
          status: 200,
          body: { status: 'ok', pid: process.pid, ...options.describe },
        }),
        'GET /ready': async () => {
          const storeUp = await store.ping()
          const consumer = ingest ? ingest.consumer.inGroup : undefined
          const ready = storeUp && consumer !== false
          return {
            status: ready ? 200 : 503,
            body: { ready, store: storeUp, consumer_in_group: consumer ?? null },
          }
        },
      }
    },
  }
}
