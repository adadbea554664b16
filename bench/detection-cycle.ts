// The cost half of `npm run bench:detection`: 10 million synthetic interactions (7 days, two
// model versions, two variants, 5 segments, 3 modalities) and ~200k scores written into the
// embedded ClickHouse with INSERT ... SELECT, then one real evaluation cycle
// (jobs/evaluate/cycle.ts: scorer version, rule states, candidate and baseline windows, decisions,
// state writes) timed, with every store call attributed to what it measured.

import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AlertEmitter } from '../alerts/emitter.ts'
import { parseConfig } from '../config/load.ts'
import { runEvaluationCycle } from '../jobs/evaluate/cycle.ts'
import { silentLogger } from '../lib/log.ts'
import { EvaluationSchema, type Rule, RuleSchema } from '../rules/schema.ts'
import { migrate } from '../store/migrate.ts'
import { createStore, type Store } from '../store/store.ts'

const DAY = 86_400_000
/** Fixed clock: 12:30 UTC, so the daily test period holds 12.5 hours of data. */
export const NOW = Date.UTC(2026, 10, 20, 12, 30, 0)

export const CYCLE_RULES: Rule[] = [
  // The two rules of DESIGN.md …
  {
    name: 'invoice-hallucination',
    metric: 'hallucination_rate',
    where: { segment: 'invoice_extraction' },
    above: 0.01,
    min_samples: 300,
    action: 'rollback',
  },
  {
    name: 'p99-latency-regression',
    metric: 'latency_p99_ms',
    compare_to: 'last_stable',
    increase_by: 200,
    confidence: 0.99,
    action: 'rollback',
  },
  // … plus an absolute rate on interactions and a change rule on a score metric.
  { name: 'error-rate', metric: 'error_rate', above: 0.02, action: 'page' },
  {
    name: 'refusal-increase',
    metric: 'refusal_rate',
    compare_to: 'last_stable',
    increase_by: 0.005,
    action: 'page',
  },
].map((r) => RuleSchema.parse(r))

/** One pass over every interaction, grouped by scope: the cost floor the cycle is measured against. */
export const GROUPED_SCAN_SQL = `SELECT model_version, variant_id, segment, modality, count() AS n,
  countIf(status != 'ok') AS errors, quantileExact(0.99)(latency_ms) AS p99
FROM interactions
GROUP BY model_version, variant_id, segment, modality`

export interface CycleBench {
  /** Median ms of one grouped full scan of the same interactions (GROUPED_SCAN_SQL). */
  groupedScanMs: number
  rows: number
  scores: number
  insertSeconds: number
  scoresSeconds: number
  parts: number
  /** One entry per timed cycle. */
  cycles: { ms: number; looks: number; fired: number; queries: QueryTiming[] }[]
}

export interface QueryTiming {
  label: string
  ms: number
  rows: number
}

export async function runCycleBench(options: {
  rows: number
  cycles: number
  /** Refusal scores for every interaction, as the built-in refusal job writes them (default: 1 %). */
  refusalEveryRow?: boolean
  progress: (line: string) => void
}): Promise<CycleBench> {
  const { rows, progress } = options
  const dataDir = mkdtempSync(join(tmpdir(), 'dw-bench-detection-'))
  const config = parseConfig({ clickhouse: { data_dir: dataDir, database: 'bench' } })
  const store = await createStore(config.clickhouse)
  try {
    await migrate(store)
    progress(`inserting ${fmtInt(rows)} interactions (7 days before ${new Date(NOW).toISOString()}) ...`)
    let t0 = performance.now()
    await store.command(insertInteractionsSql(), { now: NOW, rows })
    const insertSeconds = (performance.now() - t0) / 1000
    const [count] = await store.query<{ n: number }>('SELECT count() AS n FROM interactions')
    progress(`  ${fmtInt(Number(count?.n))} rows in ${insertSeconds.toFixed(1)} s`)

    t0 = performance.now()
    await store.command(insertScoresSql(), { every: options.refusalEveryRow ? 1 : 0 })
    const scoresSeconds = (performance.now() - t0) / 1000
    const [scored] = await store.query<{ n: number }>('SELECT count() AS n FROM scores')
    progress(`  ${fmtInt(Number(scored?.n))} scores rows in ${scoresSeconds.toFixed(1)} s`)

    // Merges running in the background would compete with the timed cycles for both cores.
    t0 = performance.now()
    await waitForMerges(store)
    const [partsRow] = await store.query<{ parts: number }>(
      "SELECT count() AS parts FROM system.parts WHERE database = currentDatabase() AND table = 'interactions' AND active",
    )
    const parts = Number(partsRow?.parts)
    progress(
      `  background merges settled in ${((performance.now() - t0) / 1000).toFixed(1)} s; interactions has ${parts} active parts`,
    )

    // Other processes on the machine show up in these timings: say how busy it was.
    progress(
      `  ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} before the timed cycles`,
    )
    const settings = EvaluationSchema.parse({})
    const emitter: AlertEmitter = { sinksFor: () => [], emit: async () => [] }
    const cycles: CycleBench['cycles'] = []
    for (let i = 0; i < options.cycles; i++) {
      const queries: QueryTiming[] = []
      const started = performance.now()
      const result = await runEvaluationCycle({
        store: timedStore(store, queries),
        rules: CYCLE_RULES,
        settings,
        emitter,
        lastStable: async () => 'v1',
        log: silentLogger,
        now: NOW + i * 60_000,
      })
      const ms = performance.now() - started
      cycles.push({ ms, looks: result.looks, fired: result.fired.length, queries })
      progress(
        `  cycle ${i + 1}/${options.cycles}: ${ms.toFixed(0)} ms, ${result.looks} looks, ${result.fired.length} fired, ${queries.length} store calls`,
      )
    }
    // The yardstick of issue 11 item 3: ONE grouped full scan of the same table, computing in one
    // pass what the cycle's interaction rules need per scope (count, errors, exact p99 latency).
    const scans: number[] = []
    for (let i = 0; i < options.cycles; i++) {
      const t = performance.now()
      await store.query(GROUPED_SCAN_SQL)
      scans.push(performance.now() - t)
    }
    const groupedScanMs = [...scans].sort((a, b) => a - b)[Math.floor(scans.length / 2)]!
    progress(
      `  one grouped full scan (count, errors, quantileExact(0.99) by scope): median ${groupedScanMs.toFixed(0)} ms of ${scans.map((m) => m.toFixed(0)).join(', ')}`,
    )
    return {
      rows: Number(count?.n),
      scores: Number(scored?.n),
      insertSeconds,
      scoresSeconds,
      parts,
      cycles,
      groupedScanMs,
    }
  } finally {
    await store.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/**
 * One row per number: timestamps evenly over the 7 days before NOW; v2 takes 20 % of the
 * traffic of the last 2 days; variant, segment, modality and status from independent hashes;
 * latency log-normal (median ~800 ms, sigma 0.5).
 */
export function insertInteractionsSql(): string {
  const u = (salt: number) => `(cityHash64(number, ${salt}) % 1000000) / 1000000.0`
  return `INSERT INTO interactions (request_id, timestamp, user_id, session_id, variant_id, model_name, model_version,
  system_prompt_version, segment, modality, user_input, model_output, latency_ms, ttft_ms, prompt_tokens,
  completion_tokens, cost_usd, status, finish_reason, user_feedback_score, kafka_topic, kafka_partition, kafka_offset,
  ingested_at)
SELECT
  concat('req-', toString(number)) AS request_id,
  fromUnixTimestamp64Milli(toInt64({now:Int64} - 1 - intDiv(number * ${7 * DAY}, {rows:UInt64}))) AS ts,
  concat('user-', toString(cityHash64(number, 1) % 50000)),
  concat('session-', toString(intDiv(number, 6))),
  if(${u(2)} < 0.5, 'a', 'b'),
  'acme-chat',
  if(ts >= fromUnixTimestamp64Milli(toInt64({now:Int64} - ${2 * DAY})) AND ${u(3)} < 0.2, 'v2', 'v1'),
  'sp-7',
  ['invoice_extraction', 'support_chat', 'summarization', 'code_assist', 'search_qa'][1 + cityHash64(number, 4) % 5],
  multiIf(${u(5)} < 0.8, 'text', ${u(5)} < 0.95, 'image', 'audio'),
  concat('Extract the total amount from invoice #', toString(number)),
  concat('The total is ', toString(cityHash64(number, 6) % 10000), '.00 EUR.'),
  exp(randNormal(6.685, 0.5)) AS latency,
  latency * 0.25,
  toUInt32(300 + cityHash64(number, 7) % 1500) AS pt,
  toUInt32(50 + cityHash64(number, 8) % 400) AS ct,
  (pt * 0.5 + ct * 1.5) / 1000000,
  multiIf(${u(9)} < 0.01, 'error', ${u(9)} < 0.013, 'timeout', 'ok') AS st,
  if(st = 'ok', 'stop', NULL),
  if(cityHash64(number, 10) % 50 = 0, toFloat64(1 + cityHash64(number, 11) % 5), NULL),
  'llm.interactions',
  toUInt32(number % 12),
  intDiv(number, 12),
  ts + toIntervalSecond(2)
FROM numbers({rows:UInt64})`
}

/**
 * 1 % of interactions judged (hallucination, 0.4 %) and given a refusal score (2 %): ~200k
 * rows, scope and timestamp copied from the interaction as the scoring jobs do. With
 * {every} = 1 the refusal score is written for every interaction instead.
 */
export function insertScoresSql(): string {
  return `INSERT INTO scores (request_id, scorer, scorer_version, metric, value, label, prompt_tokens, completion_tokens,
  cost_usd, model_version, variant_id, segment, modality, interaction_ts, run_id, scored_at)
SELECT
  request_id,
  s.1 AS scorer,
  s.2,
  s.3 AS metric,
  toFloat64((cityHash64(request_id, metric) % 10000) < s.4) AS v,
  if(v = 1, metric, 'none'),
  if(scorer = 'judge', 900, 0),
  if(scorer = 'judge', 60, 0),
  if(scorer = 'judge', 0.0003, 0),
  model_version, variant_id, segment, modality,
  timestamp,
  'bench',
  timestamp + toIntervalSecond(60)
FROM interactions
ARRAY JOIN [('judge', 'judge@bench', 'hallucination', 40), ('refusal', 'refusal@bench', 'refusal', 200)] AS s
WHERE cityHash64(request_id) % 100 = 0 OR (scorer = 'refusal' AND {every:UInt8} = 1)`
}

export async function waitForMerges(store: Store): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [row] = await store.query<{ n: number }>(
      'SELECT count() AS n FROM system.merges WHERE database = currentDatabase()',
    )
    if (Number(row?.n) === 0) return
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** The store, with every query and insert timed and named after what it measured. */
function timedStore(store: Store, out: QueryTiming[]): Store {
  const time = async <T>(label: string, fn: () => Promise<T>, rows: (r: T) => number): Promise<T> => {
    const t0 = performance.now()
    const result = await fn()
    out.push({ label, ms: performance.now() - t0, rows: rows(result) })
    return result
  }
  return {
    ...store,
    query: <T>(sql: string, params?: Record<string, unknown>) =>
      time(
        labelOf(sql, params),
        () => store.query<T>(sql, params),
        (r) => r.length,
      ),
    command: (sql, params) =>
      time(
        `command ${sql.split(/\s+/, 3).join(' ')}`,
        () => store.command(sql, params),
        () => 0,
      ),
    insert: (table, rows, opts) =>
      time(
        `insert ${table}`,
        () => store.insert(table, rows, opts),
        () => rows.length,
      ),
  }
}

function labelOf(sql: string, params: Record<string, unknown> = {}): string {
  if (/FROM rule_states/.test(sql)) return 'load rule_states'
  if (/ORDER BY scored_at DESC/.test(sql)) return `latest scorer_version (${params.scorer})`
  if (/FROM alerts/.test(sql)) return 'alerts history'
  const m = /^SELECT .*?, (count\(\) AS n, .*)$/m.exec(sql)
  if (!m || params.from === undefined) return sql.replace(/\s+/g, ' ').slice(0, 60)
  const what =
    params.score_metric !== undefined
      ? `scores ${params.score_metric}`
      : /quantilesExact/.test(sql)
        ? 'interactions latency quantiles'
        : `interactions ${/sum\((.*)\) AS x/.exec(sql)?.[1] ?? 'mean'}`
  // The params are ClickHouse DateTime64 strings ('2026-01-08 12:00:00.000', UTC), not numbers.
  const hours = (utcMs(params.to) - utcMs(params.from)) / 3_600_000
  const kind = /'\*' AS variant_id/.test(sql)
    ? `baseline ${params.w_model_version} ${hours.toFixed(0)}h`
    : `candidate ${hours.toFixed(1)}h`
  return `${what}: ${kind}`
}

function utcMs(t: unknown): number {
  return typeof t === 'number' ? t : Date.parse(`${String(t).replace(' ', 'T')}Z`)
}

function fmtInt(n: number): string {
  return new Intl.NumberFormat('en-US').format(n)
}
