// The selection of a model scoring run (queries only): the windows with interactions ingested
// since the watermark, their deterministic sample minus what this scorer version already
// scored or recorded as failed (jobs/sample-query.ts), the retriable failures due for another
// attempt, in one priority order; and the texts of a page of that work.

import type { Config } from '../config/schema.ts'
import { chunkIdsForUrl } from '../store/id-chunks.ts'
import type { Store } from '../store/store.ts'
import { clickhouseTime, parseClickhouseTime } from '../store/time.ts'
import type { InteractionText, ModelScorerAdapter } from './model-scorers.ts'
import { type SampleQueryRow, sampleQuery, touchedWindowsQuery } from './sample-query.ts'
import { requestHash, type SamplingPolicy } from './sampler.ts'
import type { PreviousFailure, ScoredInteraction } from './score-rows.ts'

export interface WorkItem extends ScoredInteraction {
  priority: number
  hash: number
  /** Set for a failure being tried again. */
  previous?: PreviousFailure
}

export interface SelectionInput {
  adapter: ModelScorerAdapter
  policy: SamplingPolicy
  /** Exclusive lower bound (epoch ms): the watermark, 0 before the first run. */
  after: number
  /** Inclusive upper bound (epoch ms): now minus jobs.settle_seconds. */
  upTo: number
  /** Earliest interaction time on the first run (jobs.backfill_hours), undefined = all. */
  notBefore: string | undefined
  maxAttempts: number
}

export interface Selection {
  windows: number[]
  sampled: WorkItem[]
  retries: WorkItem[]
  /** sampled + retries, minimums first, then by hash and request id (deterministic). */
  work: WorkItem[]
}

export async function selectWork(store: Store, input: SelectionInput): Promise<Selection> {
  const { adapter, policy, after, upTo } = input
  const windows = upTo > after ? await touchedWindows(store, policy, after, upTo, input.notBefore) : []
  const sampled = windows.length > 0 ? await selectCandidates(store, adapter, policy, windows, upTo) : []
  const retries = await dueRetries(store, adapter, input.maxAttempts)
  const work = [...sampled, ...retries].sort(
    (a, b) => a.priority - b.priority || a.hash - b.hash || compare(a.request_id, b.request_id),
  )
  return { windows, sampled, retries, work }
}

/** The first run's lower bound from jobs.backfill_hours (undefined: everything). */
export function backfillStart(config: Config, now: number): string | undefined {
  const hours = config.jobs.backfill_hours
  return hours === 'all' ? undefined : clickhouseTime(now - hours * 3_600_000)
}

async function touchedWindows(
  store: Store,
  policy: SamplingPolicy,
  after: number,
  upTo: number,
  notBefore: string | undefined,
): Promise<number[]> {
  const q = touchedWindowsQuery({
    windowMinutes: policy.windowMinutes,
    after: clickhouseTime(after),
    upTo: clickhouseTime(upTo),
    notBefore,
  })
  const rows = await store.query<{ window_idx: number }>(q.sql, q.params)
  return rows.map((r) => Number(r.window_idx))
}

async function selectCandidates(
  store: Store,
  adapter: ModelScorerAdapter,
  policy: SamplingPolicy,
  windows: number[],
  upTo: number,
): Promise<WorkItem[]> {
  const q = sampleQuery({
    policy,
    windows,
    upTo: clickhouseTime(upTo),
    scorerVersion: adapter.scorerVersion,
    primaryMetric: adapter.primaryMetric,
  })
  const rows = await store.query<SampleQueryRow>(q.sql, q.params)
  return rows.map((r) => ({
    request_id: r.request_id,
    timestamp: parseClickhouseTime(r.timestamp),
    model_version: r.model_version,
    variant_id: r.variant_id,
    segment: r.segment,
    modality: r.modality,
    priority: Number(r.priority),
    hash: Number(r.hash),
  }))
}

interface RetryRow {
  request_id: string
  attempts: number
  first_failed_at: string
  priority: number
  timestamp: string
  model_version: string
  variant_id: string
  segment: string
  modality: string
}

/** Retriable failures of this scorer version below max_attempts, with their interaction's scope. */
async function dueRetries(
  store: Store,
  adapter: ModelScorerAdapter,
  maxAttempts: number,
): Promise<WorkItem[]> {
  const rows = await store.query<RetryRow>(
    `SELECT f.request_id AS request_id, f.attempts AS attempts, f.first_failed_at AS first_failed_at, f.priority AS priority,
       i.timestamp AS timestamp, i.model_version AS model_version, i.variant_id AS variant_id, i.segment AS segment, i.modality AS modality
     FROM (
       SELECT request_id, attempts, first_failed_at, priority FROM scoring_failures FINAL
       WHERE scorer_version = {v:String} AND NOT resolved AND retriable AND attempts < {max:UInt32}
     ) AS f
     INNER JOIN (
       SELECT request_id, timestamp, model_version, variant_id, segment, modality FROM interactions
       WHERE request_id IN (SELECT request_id FROM scoring_failures WHERE scorer_version = {v:String})
       LIMIT 1 BY request_id
     ) AS i ON i.request_id = f.request_id
     WHERE f.request_id NOT IN (SELECT request_id FROM scores WHERE scorer_version = {v:String} AND metric = {m:String})`,
    { v: adapter.scorerVersion, m: adapter.primaryMetric, max: maxAttempts },
  )
  return rows.map((r) => ({
    request_id: r.request_id,
    timestamp: parseClickhouseTime(r.timestamp),
    model_version: r.model_version,
    variant_id: r.variant_id,
    segment: r.segment,
    modality: r.modality,
    priority: Number(r.priority),
    hash: requestHash(r.request_id),
    previous: {
      attempts: Number(r.attempts),
      firstFailedAt: parseClickhouseTime(r.first_failed_at),
      priority: Number(r.priority),
    },
  }))
}

/** The texts of a page of work, by request id; an id missing from the map left the store. */
export async function fetchTexts(store: Store, items: WorkItem[]): Promise<Map<string, InteractionText>> {
  if (items.length === 0) return new Map()
  const times = items.map((i) => i.timestamp)
  const texts = new Map<string, InteractionText>()
  for (const ids of chunkIdsForUrl(items.map((i) => i.request_id))) {
    const rows = await store.query<InteractionText>(
      `SELECT request_id, user_input, model_output, context FROM interactions
       WHERE request_id IN {ids:Array(String)}
         AND timestamp >= {lo:DateTime64(3, 'UTC')} AND timestamp <= {hi:DateTime64(3, 'UTC')}
       LIMIT 1 BY request_id`,
      {
        ids,
        lo: clickhouseTime(Math.min(...times)),
        hi: clickhouseTime(Math.max(...times)),
      },
    )
    for (const r of rows) texts.set(r.request_id, r)
  }
  return texts
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
