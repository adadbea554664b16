// The results writer of a model scoring run, as a table writer: buffers scores, failures and
// review rows, and writes them (spend ledger first) in batches — when `batchSize` results are
// buffered, when the oldest buffered result is `flushIntervalMs` old, and on flush() at the end
// of the run. One write at a time, at most one more queued, so model calls go on while
// ClickHouse stores the previous batch. Each batch has its own dedup token per table, so a
// retried insert is not stored twice. The first failed write stops further writes and is
// rethrown by flush().

import type { Store } from '../store/store.ts'
import type { SpendLedger } from './spend.ts'

export type ResultRow = Record<string, unknown>

/** What one scored or failed item adds. */
export interface ItemResult {
  scores?: ResultRow[]
  failures?: ResultRow[]
  review?: ResultRow[]
}

export interface ResultsWriterOptions {
  /** Only insert is used. */
  store: Pick<Store, 'insert'>
  runId: string
  ledger: SpendLedger
  /** Results (items, not rows) buffered before a write starts. */
  batchSize: number
  /** A buffered result is stored within about this long while the run goes on. */
  flushIntervalMs: number
  now: () => number
}

export interface ResultsWriter {
  /** Buffers one item's rows; starts a background write when the batch is full or old enough. */
  add(result: ItemResult): void
  /** Writes everything buffered and waits; throws the first write that failed. */
  flush(): Promise<void>
  /** True once a write failed (the run should stop; flush() throws it). */
  failed(): boolean
}

export function createResultsWriter(options: ResultsWriterOptions): ResultsWriter {
  const { store, runId, ledger, batchSize, flushIntervalMs, now } = options
  let scores: ResultRow[] = []
  let failures: ResultRow[] = []
  let review: ResultRow[] = []
  let pending = 0
  let lastFlush = now()
  let seq = 0
  let writing: Promise<void> = Promise.resolve()
  let queued = false
  let writeError: unknown

  const writeBuffered = async () => {
    const batch = { scores, failures, review }
    scores = []
    failures = []
    review = []
    pending = 0
    lastFlush = now()
    seq++
    // Spend first: after a crash the budget errs on the side of having spent.
    await ledger.flush(store)
    await store.insert('scores', batch.scores, { dedupToken: `scores:${runId}:${seq}` })
    await store.insert('scoring_failures', batch.failures, { dedupToken: `scoring_failures:${runId}:${seq}` })
    await store.insert('review_queue', batch.review, { dedupToken: `review_queue:${runId}:${seq}` })
  }

  const flushSoon = () => {
    if (queued) return
    queued = true
    writing = writing
      .then(async () => {
        queued = false
        if (writeError === undefined) await writeBuffered()
      })
      .catch((error: unknown) => {
        writeError ??= error
      })
  }

  return {
    add(result) {
      if (result.scores) scores.push(...result.scores)
      if (result.failures) failures.push(...result.failures)
      if (result.review) review.push(...result.review)
      pending++
      if (pending >= batchSize || now() - lastFlush >= flushIntervalMs) flushSoon()
    },
    async flush() {
      flushSoon()
      await writing
      if (writeError !== undefined) throw writeError
    },
    failed: () => writeError !== undefined,
  }
}
