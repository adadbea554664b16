// The refusal job: the built-in detector (scoring/refusal.ts) on every answered interaction
// (status = ok), in batches in ingestion order. No model calls, no sampling, no budget.
// Errors and timeouts have no answer to classify: error_rate and timeout_rate cover them.
//
// Progress is a cursor over (ingested_at, request_id), moved after each batch's scores are
// stored. A crash replays at most one batch: the same batch gets the same insert token, and
// request_ids already scored by this detector version are skipped.

import { detectRefusal, REFUSAL_SCORER_VERSION } from '../scoring/refusal.ts'
import { chunkIdsForUrl } from '../store/id-chunks.ts'
import type { Store } from '../store/store.ts'
import { clickhouseTime, parseClickhouseTime } from '../store/time.ts'
import { JobAbortedError, type JobContext, type JobDefinition, type JobOutcome } from './registry.ts'
import { type ScorerIdentity, scoreRows } from './score-rows.ts'
import { readWatermark, type Watermark, writeWatermark } from './watermarks.ts'

export const REFUSAL_JOB = 'refusal'

export interface RefusalJobOptions {
  batchSize: number
  /** The detector's version; changes whenever its rules change. */
  scorerVersion?: string
  detect?: typeof detectRefusal
  defaultSchedule?: string
}

interface KeyRow {
  request_id: string
  ingested_at: string
  timestamp: string
  status: string
  model_version: string
  variant_id: string
  segment: string
  modality: string
}

export function createRefusalJob(options: RefusalJobOptions): JobDefinition {
  const id: ScorerIdentity = {
    scorer: 'refusal',
    scorerVersion: options.scorerVersion ?? REFUSAL_SCORER_VERSION,
    primaryMetric: 'refusal',
  }
  const detect = options.detect ?? detectRefusal
  return {
    name: REFUSAL_JOB,
    description: `built-in refusal detector on every answered interaction (${id.scorerVersion})`,
    defaultSchedule: options.defaultSchedule ?? '* * * * *',
    run: (ctx) => runRefusal(ctx, id, detect, options.batchSize),
  }
}

async function runRefusal(
  ctx: JobContext,
  id: ScorerIdentity,
  detect: typeof detectRefusal,
  batchSize: number,
): Promise<JobOutcome> {
  const { store, config, runId, signal } = ctx
  const upTo = clickhouseTime(ctx.now() - config.jobs.settle_seconds * 1000)
  let watermark = await readWatermark(store, REFUSAL_JOB, id.scorerVersion)
  const hours = config.jobs.backfill_hours
  const notBefore = watermark || hours === 'all' ? undefined : clickhouseTime(ctx.now() - hours * 3_600_000)
  const range = rangeFilter(watermark, upTo, notBefore)
  const total = Number(
    (
      await store.query<{ n: number }>(
        `SELECT count() AS n FROM interactions WHERE ${range.sql}`,
        range.params,
      )
    )[0]?.n ?? 0,
  )
  let done = 0
  let scored = 0
  let refusals = 0
  let alreadyScored = 0
  let unanswered = 0
  const outcome = (): Omit<JobOutcome, 'status'> => ({
    rowsDone: done,
    rowsTotal: total,
    spendUsd: 0,
    message: `${scored} answered interactions scored, ${refusals} refusals; ${unanswered} errors/timeouts have no answer to score`,
    detail: {
      scorer_version: id.scorerVersion,
      read: done,
      scored,
      refusals,
      unanswered,
      already_scored: alreadyScored,
    },
  })
  for (;;) {
    if (signal.aborted) throw new JobAbortedError(outcome())
    const { sql, params } = rangeFilter(watermark, upTo, notBefore)
    const keys = await store.query<KeyRow>(
      `SELECT request_id, ingested_at, timestamp, status, model_version, variant_id, segment, modality
       FROM interactions WHERE ${sql}
       ORDER BY ingested_at, request_id LIMIT {batch:UInt32}`,
      { ...params, batch: batchSize },
    )
    if (keys.length === 0) break
    const answered = dedupe(keys.filter((k) => k.status === 'ok'))
    unanswered += keys.filter((k) => k.status !== 'ok').length
    const skip = await scoredAlready(
      store,
      id,
      answered.map((k) => k.request_id),
    )
    const todo = answered.filter((k) => !skip.has(k.request_id))
    alreadyScored += answered.length - todo.length
    const outputs = await fetchOutputs(store, todo, keys[0]!.ingested_at, keys[keys.length - 1]!.ingested_at)
    const at = ctx.now()
    const rows = todo.flatMap((k) => {
      const result = detect(outputs.get(k.request_id) ?? '')
      if (result.refusal) refusals++
      const interaction = { ...k, timestamp: parseClickhouseTime(k.timestamp) }
      const metric = {
        metric: 'refusal',
        value: result.refusal ? 1 : 0,
        label: result.refusal ? 'refusal' : 'answer',
        detail: result.pattern ?? '',
      }
      return scoreRows(id, interaction, [metric], { promptTokens: 0, completionTokens: 0 }, 0, runId, at)
    })
    const last = keys[keys.length - 1]!
    const cursor = { cursorMs: parseClickhouseTime(last.ingested_at), cursorId: last.request_id, runId }
    await store.insert('scores', rows, {
      dedupToken: `scores:refusal:${id.scorerVersion}:${keys[0]!.ingested_at}:${keys[0]!.request_id}:${last.request_id}:${keys.length}`,
    })
    watermark = await writeWatermark(store, REFUSAL_JOB, id.scorerVersion, cursor, watermark)
    scored += rows.length
    done += keys.length
    ctx.progress({ done, total: Math.max(total, done), failed: 0, spendUsd: 0 })
    if (keys.length < batchSize) break
  }
  return { status: 'ok', ...outcome() }
}

/** Rows after the cursor (ingested_at, request_id) and not after upTo; `notBefore` bounds a first run. */
function rangeFilter(watermark: Watermark | undefined, upTo: string, notBefore: string | undefined) {
  const params: Record<string, unknown> = {
    c_ts: clickhouseTime(watermark?.cursorMs ?? 0),
    c_id: watermark?.cursorId ?? '',
    up_to: upTo,
  }
  let sql = `(ingested_at > {c_ts:DateTime64(3, 'UTC')} OR (ingested_at = {c_ts:DateTime64(3, 'UTC')} AND request_id > {c_id:String}))
    AND ingested_at <= {up_to:DateTime64(3, 'UTC')}`
  if (notBefore) {
    sql += ` AND timestamp >= {not_before:DateTime64(3, 'UTC')}`
    params.not_before = notBefore
  }
  return { sql, params }
}

function dedupe(rows: KeyRow[]): KeyRow[] {
  const seen = new Set<string>()
  return rows.filter((r) => !seen.has(r.request_id) && seen.add(r.request_id))
}

async function scoredAlready(store: Store, id: ScorerIdentity, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (const chunk of chunkIdsForUrl(ids)) {
    const rows = await store.query<{ request_id: string }>(
      `SELECT DISTINCT request_id FROM scores
       WHERE scorer_version = {v:String} AND metric = {m:String} AND request_id IN {ids:Array(String)}`,
      { v: id.scorerVersion, m: id.primaryMetric, ids: chunk },
    )
    for (const r of rows) found.add(r.request_id)
  }
  return found
}

/** Texts are read separately, for the batch's rows only: the key scan stays narrow. */
async function fetchOutputs(
  store: Store,
  rows: KeyRow[],
  from: string,
  to: string,
): Promise<Map<string, string>> {
  const outputs = new Map<string, string>()
  for (const ids of chunkIdsForUrl(rows.map((r) => r.request_id))) {
    const texts = await store.query<{ request_id: string; model_output: string }>(
      `SELECT request_id, model_output FROM interactions
       WHERE request_id IN {ids:Array(String)}
         AND ingested_at >= {from:DateTime64(3, 'UTC')} AND ingested_at <= {to:DateTime64(3, 'UTC')}
       LIMIT 1 BY request_id`,
      {
        ids,
        from: clickhouseTime(parseClickhouseTime(from)),
        to: clickhouseTime(parseClickhouseTime(to)),
      },
    )
    for (const t of texts) outputs.set(t.request_id, t.model_output)
  }
  return outputs
}
