// Job progress kept in ClickHouse (job_watermarks): a cursor over ingested_at (plus a
// request_id tie-breaker) per job and key, e.g. per scorer version. Read at the start of a
// run, written only after the rows it covers are stored, so a crash replays, never skips.

import type { Store } from '../store/store.ts'
import { clickhouseTime, parseClickhouseTime } from '../store/time.ts'

export interface Watermark {
  /** Epoch ms of the last ingested_at covered. */
  cursorMs: number
  /** request_id of the last row covered at cursorMs ('' when whole milliseconds are covered). */
  cursorId: string
  revision: number
}

export async function readWatermark(store: Store, job: string, key: string): Promise<Watermark | undefined> {
  const rows = await store.query<{ cursor_ts: string; cursor_id: string; revision: number }>(
    'SELECT cursor_ts, cursor_id, revision FROM job_watermarks FINAL WHERE job = {job:String} AND key = {key:String}',
    { job, key },
  )
  const row = rows[0]
  if (!row) return undefined
  return {
    cursorMs: parseClickhouseTime(row.cursor_ts),
    cursorId: row.cursor_id,
    revision: Number(row.revision),
  }
}

export async function writeWatermark(
  store: Store,
  job: string,
  key: string,
  next: { cursorMs: number; cursorId: string; runId: string },
  previous: Watermark | undefined,
): Promise<Watermark> {
  const revision = (previous?.revision ?? 0) + 1
  await store.insert(
    'job_watermarks',
    [
      {
        job,
        key,
        cursor_ts: clickhouseTime(next.cursorMs),
        cursor_id: next.cursorId,
        run_id: next.runId,
        revision,
      },
    ],
    { dedupToken: `job_watermarks:${job}:${key}:${revision}:${next.cursorMs}:${next.cursorId}` },
  )
  return { cursorMs: next.cursorMs, cursorId: next.cursorId, revision }
}
