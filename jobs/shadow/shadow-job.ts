// The `shadow` job: pairs interactions of a shadow version (shadow_of = the production
// request_id) with their production twin, measures how far the shadow answer is from
// production's (jobs/shadow/measure.ts), and stores per pair a shadow_pairs row, the two score
// rows behind shadow_divergence_rate / shadow_divergence_mean, and queues the run's most
// divergent pairs for human review.
//
// Incremental without a cursor: each step reads shadow rows that are NOT yet in shadow_pairs
// and whose twin is stored (a shadow answer that arrives before its twin waits for a later
// run), so a rerun, or a crash between two steps, never pairs a shadow answer twice. Order
// of effects per step: scores, then shadow_pairs (the anti-join's source). A crash between
// the two re-measures the same step on the next run; its score insert carries the same token
// (batch ids, not the run id), so ClickHouse drops the repeat.
// Replayed answers (variant_id replay, `driftwatch replay`) are compared by replay itself.

import type { Config, ShadowConfig } from '../../config/schema.ts'
import type { Logger } from '../../lib/log.ts'
import { createEmbeddingsClient, type EmbeddingsClient } from '../../scoring/embeddings-client.ts'
import type { ModelClientOptions } from '../../scoring/model-client.ts'
import type { JudgedSide } from '../../shadow/divergence.ts'
import {
  type MeasuredPair,
  mostDivergent,
  pairRow,
  pairScoreRows,
  SHADOW_SCORER,
  type ShadowPair,
  shadowScorerVersion,
} from '../../shadow/pair.ts'
import { chunkIdsForUrl } from '../../store/id-chunks.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'
import { apiKeyFromEnv } from '../model-scorers.ts'
import { JobAbortedError, type JobContext, type JobDefinition, type JobOutcome } from '../registry.ts'
import { createSpendLedger, loadBudgetState } from '../spend.ts'
import { type EmbeddingsSetup, measurePairs, newMeasureState } from './measure.ts'

export const SHADOW_JOB = 'shadow'
/** The spend ledger's scorer name for embedding calls (scoring_spend, daily budget). */
export const SHADOW_EMBEDDINGS_SCORER = 'shadow_embeddings'

export interface ShadowJobOptions {
  defaultSchedule?: string
  dependsOn?: readonly string[]
  env?: NodeJS.ProcessEnv
  /** HTTP client knobs outside the config (tests). */
  client?: Partial<Pick<ModelClientOptions, 'backoff' | 'circuitBreaker' | 'fetch' | 'maxRetryAfterMs'>>
}

export function createShadowJob(options: ShadowJobOptions = {}): JobDefinition {
  return {
    name: SHADOW_JOB,
    description: 'pair shadow answers with production, measure divergence (embeddings or lexical)',
    defaultSchedule: options.defaultSchedule ?? '*/5 * * * *',
    dependsOn: options.dependsOn,
    run: (ctx) => runShadow(ctx, options),
  }
}

export function createShadowEmbeddingsClient(
  config: ShadowConfig,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  overrides: ShadowJobOptions['client'] = {},
): EmbeddingsClient | undefined {
  const e = config.embeddings
  if (!e) return undefined
  const apiKey = apiKeyFromEnv('shadow.embeddings', e.api_key_env, env)
  return createEmbeddingsClient({
    baseUrl: e.base_url,
    model: e.model,
    apiKey,
    dimensions: e.dimensions,
    timeoutMs: e.timeout_ms,
    maxRetries: e.max_retries,
    maxConcurrency: e.max_concurrency,
    requestsPerSecond: e.requests_per_second,
    configKey: 'shadow.embeddings',
    log,
    ...overrides,
  })
}

interface PairRowRaw extends Omit<ShadowPair, 'timestamp'> {
  ts_ms: number | string
}

async function runShadow(ctx: JobContext, options: ShadowJobOptions): Promise<JobOutcome> {
  const { store, config, runId, signal, log } = ctx
  const shadow = config.shadow
  const threshold = shadow.divergence_threshold
  const client = createShadowEmbeddingsClient(shadow, log, options.env, options.client)
  const ledger = createSpendLedger(SHADOW_EMBEDDINGS_SCORER, `embedding:${client?.model ?? ''}`, runId)
  const embeddings = client ? await embeddingsSetup(store, shadow, client, ledger, ctx.now()) : undefined
  const state = newMeasureState()
  const range = rangeOf(config, ctx.now())
  const counts = { pairs: 0, embedding: 0, lexical: 0, divergent: 0, judged: 0 }
  let review: MeasuredPair[] = []
  const unpaired = await countUnpaired(store, range)
  const outcome = (): Omit<JobOutcome, 'status'> => ({
    rowsDone: counts.pairs,
    rowsTotal: counts.pairs,
    spendUsd: state.embeddingUsd,
    message:
      `${counts.pairs} new pairs (${counts.embedding} embedding, ${counts.lexical} lexical), ` +
      `${counts.divergent} above distance ${threshold}; ${unpaired} shadow answers wait for their production twin` +
      (state.fallbackReason ? `; fell back to lexical: ${state.fallbackReason}` : ''),
    detail: {
      ...counts,
      unpaired,
      threshold,
      review_queued: review.length,
      fallback_reason: state.fallbackReason || null,
      embedding_calls: state.embeddingCalls,
      embedding_tokens: state.embeddingTokens,
    },
  })
  for (;;) {
    if (signal.aborted) throw new JobAbortedError(outcome())
    const pairs = await readNewPairs(store, range, shadow.batch_size)
    if (pairs.length === 0) break
    const judged = await readJudged(store, pairs)
    const measured = await measurePairs(pairs, judged, { embeddings, state, log, signal })
    const at = ctx.now()
    const first = pairs[0]!.shadow_id
    const last = pairs[pairs.length - 1]!.shadow_id
    await store.insert(
      'scores',
      measured.flatMap((m) => pairScoreRows(m, threshold, runId, at)),
      { dedupToken: `scores:shadow:${measured[0]!.methodVersion}:${first}:${last}:${pairs.length}` },
    )
    await store.insert(
      'shadow_pairs',
      measured.map((m) => pairRow(m, threshold, runId, at)),
      { dedupToken: `shadow_pairs:${first}:${last}:${pairs.length}` },
    )
    await ledger.flush(store)
    for (const m of measured) {
      counts.pairs++
      counts[m.method]++
      if (m.distance > threshold) counts.divergent++
      if (m.judge.helpfulness !== null || m.judge.hallucination !== null) counts.judged++
    }
    review = mostDivergent([...review, ...measured], threshold, shadow.review_top)
    ctx.progress({ done: counts.pairs, total: counts.pairs, failed: 0, spendUsd: state.embeddingUsd })
    if (pairs.length < shadow.batch_size) break
  }
  if (review.length > 0) {
    const at = ctx.now()
    await store.insert(
      'review_queue',
      review.map((m) => ({
        request_id: m.pair.shadow_id,
        scorer: SHADOW_SCORER,
        scorer_version: shadowScorerVersion(m.methodVersion),
        model_version: m.pair.shadow_version,
        variant_id: m.pair.variant_id,
        segment: m.pair.segment,
        modality: m.pair.modality,
        interaction_ts: clickhouseTime(m.pair.timestamp),
        queued_at: clickhouseTime(at),
      })),
      { dedupToken: `review_queue:shadow:${runId}` },
    )
  }
  if (state.fallbackReason) log.warn(`shadow: ${outcome().message}`, { job: SHADOW_JOB })
  return { status: state.fallbackReason ? 'degraded' : 'ok', ...outcome() }
}

async function embeddingsSetup(
  store: Store,
  shadow: ShadowConfig,
  client: EmbeddingsClient,
  ledger: ReturnType<typeof createSpendLedger>,
  now: number,
): Promise<EmbeddingsSetup> {
  const e = shadow.embeddings!
  const today = await loadBudgetState(store, SHADOW_EMBEDDINGS_SCORER, now)
  let tokens = today.promptTokens
  let usd = today.usd
  return {
    client,
    batchSize: e.batch_size,
    pricePer1kTokens: e.price_per_1k_tokens,
    remaining: () => ({
      tokens: e.tokens_per_day === undefined ? undefined : e.tokens_per_day - tokens,
      usd: e.usd_per_day === undefined ? undefined : e.usd_per_day - usd,
    }),
    spent(t, u) {
      tokens += t
      usd += u
      ledger.add({ promptTokens: t, completionTokens: 0 }, u, Date.now())
    },
  }
}

interface Range {
  upTo: string
  notBefore?: string
}

function rangeOf(config: Config, now: number): Range {
  const hours = config.jobs.backfill_hours
  return {
    upTo: clickhouseTime(now - config.jobs.settle_seconds * 1000),
    notBefore: hours === 'all' ? undefined : clickhouseTime(now - hours * 3_600_000),
  }
}

/** Shadow rows in range: settled, within the look-back, not replays. */
function shadowFilter(range: Range): { sql: string; params: Record<string, unknown> } {
  let sql = `shadow_of IS NOT NULL AND variant_id != 'replay' AND ingested_at <= {up_to:DateTime64(3, 'UTC')}`
  const params: Record<string, unknown> = { up_to: range.upTo }
  if (range.notBefore) {
    sql += ` AND timestamp >= {not_before:DateTime64(3, 'UTC')}`
    params.not_before = range.notBefore
  }
  return { sql, params }
}

const COLUMNS =
  'request_id, shadow_of, timestamp, model_version, variant_id, segment, modality, model_output, status, latency_ms, cost_usd'

/** The next batch of shadow rows not yet paired whose production twin is stored. */
async function readNewPairs(store: Store, range: Range, limit: number): Promise<ShadowPair[]> {
  const f = shadowFilter(range)
  const rows = await store.query<PairRowRaw>(
    `WITH s AS (
       SELECT ${COLUMNS} FROM interactions
       WHERE ${f.sql} AND request_id NOT IN (SELECT shadow_request_id FROM shadow_pairs)
       LIMIT 1 BY request_id
     )
     SELECT s.request_id AS shadow_id, assumeNotNull(s.shadow_of) AS production_id,
       toUnixTimestamp64Milli(s.timestamp) AS ts_ms, s.model_version AS shadow_version,
       p.model_version AS production_version, s.variant_id AS variant_id, s.segment AS segment,
       s.modality AS modality, s.model_output AS shadow_output, p.model_output AS production_output,
       s.status AS shadow_status, p.status AS production_status, s.latency_ms AS shadow_latency_ms,
       p.latency_ms AS production_latency_ms, s.cost_usd AS shadow_cost_usd, p.cost_usd AS production_cost_usd
     FROM s
     INNER JOIN (
       SELECT ${COLUMNS} FROM interactions
       WHERE shadow_of IS NULL AND request_id IN (SELECT assumeNotNull(shadow_of) FROM s)
       LIMIT 1 BY request_id
     ) AS p ON p.request_id = assumeNotNull(s.shadow_of)
     ORDER BY shadow_id
     LIMIT {limit:UInt32}`,
    { ...f.params, limit },
  )
  return rows.map(({ ts_ms, ...r }) => ({
    ...r,
    timestamp: Number(ts_ms),
    shadow_latency_ms: Number(r.shadow_latency_ms),
    production_latency_ms: Number(r.production_latency_ms),
    shadow_cost_usd: r.shadow_cost_usd === null ? null : Number(r.shadow_cost_usd),
    production_cost_usd: r.production_cost_usd === null ? null : Number(r.production_cost_usd),
  }))
}

async function countUnpaired(store: Store, range: Range): Promise<number> {
  const f = shadowFilter(range)
  const rows = await store.query<{ n: number | string }>(
    `SELECT uniqExact(request_id) AS n FROM interactions
     WHERE ${f.sql} AND request_id NOT IN (SELECT shadow_request_id FROM shadow_pairs)
       AND assumeNotNull(shadow_of) NOT IN (SELECT request_id FROM interactions WHERE shadow_of IS NULL
         AND request_id IN (SELECT assumeNotNull(shadow_of) FROM interactions WHERE ${f.sql}))`,
    f.params,
  )
  return Number(rows[0]?.n ?? 0)
}

/** Judge helpfulness / hallucination per request and judge scorer_version, both sides. */
async function readJudged(
  store: Store,
  pairs: readonly ShadowPair[],
): Promise<Map<string, Map<string, JudgedSide>>> {
  const rows: { request_id: string; scorer_version: string; metric: string; value: number }[] = []
  for (const ids of chunkIdsForUrl(pairs.flatMap((p) => [p.shadow_id, p.production_id])))
    rows.push(
      ...(await store.query<{ request_id: string; scorer_version: string; metric: string; value: number }>(
        `SELECT request_id, scorer_version, metric, argMax(value, scored_at) AS value FROM scores
         WHERE scorer = 'judge' AND metric IN ('helpfulness', 'hallucination') AND request_id IN {ids:Array(String)}
         GROUP BY request_id, scorer_version, metric`,
        { ids },
      )),
    )
  const out = new Map<string, Map<string, JudgedSide>>()
  for (const r of rows) {
    const byVersion = out.get(r.request_id) ?? new Map<string, JudgedSide>()
    const side = byVersion.get(r.scorer_version) ?? {}
    side[r.metric as keyof JudgedSide] = Number(r.value)
    byVersion.set(r.scorer_version, side)
    out.set(r.request_id, byVersion)
  }
  return out
}
