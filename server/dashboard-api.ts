// The JSON behind the dashboard pages (server/dashboard/): overview, a rule's page,
// versions, the human review queue. Every query is bounded by a time range and a LIMIT so
// a page stays fast on a large store. Writes reuse the existing routes (deployment marks)
// or validate and insert like `driftwatch review import` does (labels).

import { z } from 'zod'
import type { Config } from '../config/schema.ts'
import { SCOPE_COLUMNS } from '../contract/scope.ts'
import { storeDeployments } from '../deploy/api.ts'
import { loadRuleStates } from '../jobs/evaluate/state-store.ts'
import { ConfigError } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import { metricDefinition } from '../metrics/registry.ts'
import {
  fetchScopeStats,
  latestScorerVersion,
  reproduceSql,
  type StatsQuery,
} from '../metrics/scope-stats.ts'
import { metricKind, REVIEW_METRICS, type ReviewScorer, SCALES } from '../review/labels.ts'
import { reviewStats } from '../review/stats.ts'
import type { RuleState } from '../rules/evaluate.ts'
import { computeVerdict } from '../rules/verdict.ts'
import type { Store } from '../store/store.ts'
import { clickhouseTime } from '../store/time.ts'
import { exposureReport } from './dashboard-exposure.ts'
import type { HttpRequest, Route } from './http.ts'

const STATUS_ORDER: Record<string, number> = { firing: 0, pending: 1, inconclusive: 2, ok: 3, resolved: 4 }
const BUCKETS = 24
const MAX_HOURS = 24 * 14

export interface DashboardDeps {
  store: Store
  config: Config
  /** Consumer-group lag, when this process ingests. */
  lag?: () => Promise<number | undefined>
  now?: () => number
  /** Where unreadable rule states are reported. */
  log?: Logger
}

export function dashboardApi(deps: DashboardDeps): Record<string, Route> {
  const { store, config } = deps
  const now = deps.now ?? Date.now
  const ruleNames = () => config.rules.map((r) => r.name)
  const ok = (body: unknown) => ({ status: 200, body })

  return {
    'GET /api/overview': async () => {
      const states = [...(await loadRuleStates(store, undefined, deps.log)).values()]
      const deployments = await storeDeployments(store).list()
      const lastStable = await storeDeployments(store).lastStable()
      const [ingest] = await store.query<{ last_5m: number; last_hour: number }>(
        `SELECT countIf(ingested_at >= now64(3) - INTERVAL 5 MINUTE) AS last_5m, count() AS last_hour
         FROM interactions WHERE ingested_at >= now64(3) - INTERVAL 1 HOUR`,
      )
      const [dead] = await store.query<{ n: number }>(
        'SELECT count() AS n FROM ingest_errors WHERE first_seen >= now64(3) - INTERVAL 1 DAY',
      )
      const scoring = await store.query<{ scorer: string; rows: number; usd: number }>(
        `SELECT scorer, uniqExact(request_id) AS rows, sum(cost_usd) AS usd FROM scores
         WHERE scored_at >= now64(3) - INTERVAL 1 DAY GROUP BY scorer ORDER BY scorer LIMIT 100`,
      )
      const failures = await store.query<{ scorer: string; n: number }>(
        `SELECT scorer, count() AS n FROM scoring_failures FINAL
         WHERE NOT resolved AND last_attempt_at >= now64(3) - INTERVAL 1 DAY GROUP BY scorer LIMIT 100`,
      )
      const spend = await store.query<{ scorer: string; usd: number }>(
        'SELECT scorer, sum(cost_usd) AS usd FROM scoring_spend FINAL WHERE day = today() GROUP BY scorer LIMIT 100',
      )
      const [cycle] = await store.query<Record<string, unknown>>(
        `SELECT run_id, status, started_at, finished_at, rows_done, message FROM job_runs FINAL
         WHERE job = 'evaluate' AND started_at >= now64(3) - INTERVAL 7 DAY ORDER BY started_at DESC LIMIT 1`,
      )
      const budget = (scorer: string) =>
        scorer === 'judge' || scorer === 'llama_guard' ? (config.scorers[scorer].usd_per_day ?? null) : null
      const scorers = new Set([...scoring.map((s) => s.scorer), ...failures.map((f) => f.scorer)])
      return ok({
        incidents: states
          .filter((s) => s.status === 'firing' || s.status === 'pending')
          .sort(byStatus)
          .map(stateView),
        rules: summarizeRules(ruleNames(), states),
        versions: deployments.map((d) => ({
          ...d,
          verdict: computeVerdict(d.model_version, ruleNames(), states).verdict,
        })),
        last_stable: lastStable?.model_version ?? null,
        ingest: {
          rows_per_second: Number(ingest?.last_5m ?? 0) / 300,
          rows_last_hour: Number(ingest?.last_hour ?? 0),
          dead_lettered_24h: Number(dead?.n ?? 0),
          lag: deps.lag ? ((await deps.lag()) ?? null) : null,
        },
        scoring: [...scorers].sort().map((scorer) => ({
          scorer,
          rows_24h: Number(scoring.find((s) => s.scorer === scorer)?.rows ?? 0),
          failures_24h: Number(failures.find((f) => f.scorer === scorer)?.n ?? 0),
          spend_today_usd: Number(spend.find((s) => s.scorer === scorer)?.usd ?? 0),
          budget_usd_per_day: budget(scorer),
        })),
        last_cycle: cycle ?? null,
      })
    },

    'GET /api/rule': async (request) => {
      const name = request.query.get('name') ?? ''
      const rule = config.rules.find((r) => r.name === name)
      if (!rule)
        throw new ConfigError(`no rule named ${JSON.stringify(name)}`, {
          fix: `one of ${ruleNames().join(', ')}`,
        })
      const metric = metricDefinition(rule.metric)
      const states = [...(await loadRuleStates(store, name, deps.log)).values()].sort(byStatus)
      const scorerVersion =
        metric.source === 'scores'
          ? await latestScorerVersion(store, metric.scorer, metric.scoreMetric)
          : undefined
      // The window ends at the newest interaction (replayed or synthetic data may be old).
      const [newest] = await store.query<{ hi: number }>(
        'SELECT toUnixTimestamp64Milli(max(timestamp)) AS hi FROM interactions',
      )
      const to = Number(newest?.hi ?? 0) > 0 ? Number(newest!.hi) + 1 : now()
      const [oldest] = await store.query<{ lo: number }>(
        `SELECT toUnixTimestamp64Milli(min(timestamp)) AS lo FROM interactions
         WHERE timestamp >= {since:DateTime64(3, 'UTC')}`,
        { since: clickhouseTime(to - hours(request) * 3_600_000) },
      )
      const from = Math.max(to - hours(request) * 3_600_000, Number(oldest?.lo ?? 0) || to - 3_600_000)
      const step = Math.max(1, Math.ceil((to - from) / BUCKETS))
      const base: Omit<StatsQuery, 'from' | 'to'> = { metric, where: rule.where, scorerVersion }
      const series = new Map<string, { scope: Record<string, string>; points: unknown[] }>()
      // One query for every bucket of every scope (not one per bucket).
      const bucketed = await fetchScopeStats(store, { ...base, from, to, bucketMs: step })
      bucketed.sort((a, b) => (a.bucket ?? 0) - (b.bucket ?? 0))
      for (const s of bucketed) {
        const key = SCOPE_COLUMNS.map((c) => s.scope[c]).join(' / ')
        const entry = series.get(key) ?? { scope: { ...s.scope }, points: [] }
        entry.points.push({
          t: from + (s.bucket ?? 0) * step,
          n: s.n,
          value: s.value,
          ...interval(metric.kind, s),
        })
        series.set(key, entry)
      }
      const alerts = await store.query<Record<string, unknown>>(
        `SELECT alert_id, state, model_version, variant_id, segment, modality, observed, baseline, threshold,
                p_value, ci_low, ci_high, n, fired_at, resolved_at, message, reproduce_sql, sent_to
         FROM alerts FINAL WHERE rule = {rule:String} ORDER BY fired_at DESC LIMIT 50`,
        { rule: name },
      )
      const reproduce =
        (alerts[0]?.reproduce_sql as string | undefined) || reproduceSql({ ...base, from, to })
      // The test over time: every look of the live cycles (rule_evaluations), the window ending at
      // the newest look (a cycle's clock is the job's, which follows the data when it is old).
      const looks = await store.query<{
        key: string
        scope: string
        t: number
        p_value: number | null
        observed: number
        ci_low: number | null
        ci_high: number | null
        n: number
        status: string
      }>(
        `SELECT dedup_key AS key, concat(model_version, ' / ', variant_id, ' / ', segment, ' / ', modality) AS scope,
                toUnixTimestamp64Milli(evaluated_at) AS t, p_value, observed, ci_low, ci_high, n, status
         FROM rule_evaluations
         WHERE rule = {rule:String}
           AND evaluated_at >= (SELECT max(evaluated_at) FROM rule_evaluations WHERE rule = {rule:String})
                               - toIntervalSecond({seconds:UInt32})
         ORDER BY evaluated_at, dedup_key LIMIT 20000`,
        { rule: name, seconds: Math.round(hours(request) * 3600) },
      )
      const history = new Map<string, { key: string; scope: string; points: unknown[] }>()
      for (const l of looks) {
        const entry = history.get(l.key) ?? { key: l.key, scope: l.scope, points: [] }
        entry.points.push({
          t: Number(l.t),
          p_value: l.p_value,
          observed: l.observed,
          ci_low: l.ci_low,
          ci_high: l.ci_high,
          n: Number(l.n),
          status: l.status,
        })
        history.set(l.key, entry)
      }
      return ok({
        rule,
        metric: { name: metric.name, kind: metric.kind, unit: metric.unit, worse: metric.worse },
        window: { from, to, step },
        states: states.map(stateView),
        series: [...series.entries()].slice(0, 50).map(([key, v]) => ({ key, ...v })),
        alerts,
        history: [...history.values()].slice(0, 50),
        reproduce_sql: reproduce,
      })
    },

    'GET /api/exposure': async (request) => {
      const [newest] = await store.query<{ hi: number }>(
        'SELECT toUnixTimestamp64Milli(max(timestamp)) AS hi FROM interactions',
      )
      const to = Number(newest?.hi ?? 0) > 0 ? Number(newest!.hi) + 1 : now()
      return ok(await exposureReport(store, config, { from: to - hours(request) * 3_600_000, to }))
    },

    'GET /api/versions': async () => {
      const api = storeDeployments(store)
      const states = [...(await loadRuleStates(store, undefined, deps.log)).values()]
      return ok({
        deployments: (await api.list()).map((d) => ({
          ...d,
          verdict: computeVerdict(d.model_version, ruleNames(), states),
        })),
        history: (await api.history()).slice(-200).reverse(),
        last_stable: (await api.lastStable())?.model_version ?? null,
      })
    },

    'GET /api/review/next': async (request) => {
      const skip = Math.max(0, Math.min(10_000, Number(request.query.get('skip') ?? 0) || 0))
      const [item] = await store.query<Record<string, unknown>>(
        `SELECT q.request_id AS request_id, q.scorer AS scorer, q.scorer_version AS scorer_version,
                q.model_version AS model_version, q.segment AS segment, q.modality AS modality,
                q.interaction_ts AS interaction_ts, toUnixTimestamp64Milli(q.interaction_ts) AS ts_ms
         FROM review_queue AS q FINAL
         WHERE (q.scorer_version, q.request_id) NOT IN (SELECT scorer_version, request_id FROM human_labels)
         ORDER BY q.interaction_ts, q.request_id LIMIT 1 OFFSET {skip:UInt32}`,
        { skip },
      )
      const [queued] = await store.query<{ n: number }>(
        `SELECT count() AS n FROM review_queue FINAL
         WHERE (scorer_version, request_id) NOT IN (SELECT scorer_version, request_id FROM human_labels)`,
      )
      if (!item) return ok({ item: null, queued: 0 })
      const [interaction] = await store.query<{ user_input: string; model_output: string }>(
        `SELECT user_input, model_output FROM interactions
         WHERE request_id = {id:String} AND timestamp = fromUnixTimestamp64Milli({ts:Int64}, 'UTC') LIMIT 1`,
        { id: item.request_id, ts: Number(item.ts_ms) },
      )
      const scores = await store.query<Record<string, unknown>>(
        `SELECT metric, value, label, detail FROM scores FINAL
         WHERE scorer_version = {v:String} AND request_id = {id:String} ORDER BY metric LIMIT 20`,
        { v: item.scorer_version, id: item.request_id },
      )
      const scorer = String(item.scorer) as ReviewScorer
      return ok({
        item: { ...item, ...interaction, scores },
        metrics: Object.entries(REVIEW_METRICS[scorer] ?? {}).map(([metric, kind]) => ({
          metric,
          scale: SCALES[kind],
        })),
        queued: Number(queued?.n ?? 0),
      })
    },

    'POST /api/review/label': async (request) => {
      const body = parseLabel(request)
      const [queued] = await store.query<{ scorer: string }>(
        'SELECT scorer FROM review_queue FINAL WHERE scorer_version = {v:String} AND request_id = {id:String} LIMIT 1',
        { v: body.scorer_version, id: body.request_id },
      )
      if (!queued)
        throw new ConfigError(`${body.request_id} (${body.scorer_version}) is not in the review queue`, {
          fix: 'label an item shown by the review page',
        })
      const allowed = REVIEW_METRICS[queued.scorer as ReviewScorer] ?? {}
      const rows = Object.entries(body.labels).map(([metric, value]) => {
        if (!Object.hasOwn(allowed, metric))
          throw new ConfigError(`${metric} is not a ${queued.scorer} metric`, {
            fix: `label ${Object.keys(allowed).join(', ')}`,
          })
        if (!SCALES[metricKind(metric)].includes(value))
          throw new ConfigError(
            `${metric}: ${value} is not on its scale ${SCALES[metricKind(metric)].join(', ')}`,
          )
        return {
          request_id: body.request_id,
          scorer_version: body.scorer_version,
          metric,
          value,
          reviewer: body.reviewer || `dashboard:${request.role}`,
          note: body.note ?? '',
          source: 'dashboard',
          labelled_at: clickhouseTime(now()),
        }
      })
      await store.insert('human_labels', rows)
      return ok({ stored: rows.length })
    },

    'GET /api/review/agreement': async () => {
      const read = (sql: string, params: Record<string, string>) =>
        store.query<Record<string, unknown>>(sql, params)
      return ok({ agreement: await reviewStats(read) })
    },
  }
}

const LabelSchema = z
  .object({
    request_id: z.string().min(1),
    scorer_version: z.string().min(1),
    labels: z
      .record(z.string(), z.number())
      .refine((l) => Object.keys(l).length > 0, 'label at least one metric'),
    reviewer: z.string().max(200).optional(),
    note: z.string().max(10_000).optional(),
  })
  .strict()

function parseLabel(request: HttpRequest): z.infer<typeof LabelSchema> {
  const parsed = LabelSchema.safeParse(request.body)
  if (!parsed.success)
    throw new ConfigError(
      `bad label: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
      { fix: 'send {"request_id", "scorer_version", "labels": {"hallucination": 1}}' },
    )
  return parsed.data
}

function hours(request: HttpRequest): number {
  const h = Number(request.query.get('hours') ?? 24)
  return Number.isFinite(h) && h > 0 ? Math.min(h, MAX_HOURS) : 24
}

/** A 95 % normal-approximation interval for one bucket (display only; the rule's test is sequential). */
function interval(
  kind: string,
  s: { n: number; value: number; variance: number; standardError: number },
): { ci_low: number | null; ci_high: number | null } {
  if (s.n === 0) return { ci_low: null, ci_high: null }
  const se =
    kind === 'rate'
      ? Math.sqrt((s.value * (1 - s.value)) / s.n)
      : kind === 'mean'
        ? Math.sqrt(s.variance / s.n)
        : s.standardError
  return { ci_low: s.value - 1.96 * se, ci_high: s.value + 1.96 * se }
}

function byStatus(a: RuleState, b: RuleState): number {
  return (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9) || a.rule.localeCompare(b.rule)
}

function stateView(s: RuleState) {
  return {
    rule: s.rule,
    metric: s.metric,
    status: s.status,
    scope: s.scope,
    fired_at: s.fired_at,
    updated_at: s.updated_at,
    last: s.last,
  }
}

function summarizeRules(names: readonly string[], states: readonly RuleState[]) {
  return names.map((rule) => {
    const counts: Record<string, number> = {}
    for (const s of states) if (s.rule === rule) counts[s.status] = (counts[s.status] ?? 0) + 1
    return { rule, states: counts }
  })
}
