// Measures an experiment in ClickHouse: users per arm, users seen in both arms, and each goal
// and guardrail metric per arm x segment x modality, as the sufficient statistics the tests
// need (counts for rates, mean and variance for means, the sorted values for quantiles).
// Metrics come from the one registry (metrics/registry.ts); score metrics stay within ONE
// scorer_version, the newest, for both arms. The query runner is passed in (the store, or
// a running instance's /sql).

import { SCOPE_COLUMNS } from '../contract/scope.ts'
import { type MetricDefinition, metricDefinition } from '../metrics/registry.ts'
import type { ExperimentMeasurements, ScopeMeasurement } from './analysis.ts'
import type { ArmSample } from './compare.ts'
import { armFilter, type Experiment } from './schema.ts'

export type QueryFn = <T = Record<string, unknown>>(
  sql: string,
  params: Record<string, unknown>,
) => Promise<T[]>

interface ArmSql {
  /** WHERE conditions over interactions (both arms, the experiment's window and scope). */
  where: string
  /** 'control' | 'treatment' per row. */
  arm: string
  params: Record<string, unknown>
}

export function armSql(experiment: Experiment, options: { window?: 'experiment' | 'any' } = {}): ArmSql {
  const c = armFilter(experiment.control)
  const t = armFilter(experiment.treatment)
  const params: Record<string, unknown> = { arm_control: c.value, arm_treatment: t.value }
  const conditions = [`${c.column} IN ({arm_control:String}, {arm_treatment:String})`]
  if ((options.window ?? 'experiment') === 'experiment') {
    conditions.push('timestamp >= fromUnixTimestamp64Milli({started_ms:Int64})')
    params.started_ms = experiment.started_at.getTime()
    if (experiment.ended_at) {
      conditions.push('timestamp < fromUnixTimestamp64Milli({ended_ms:Int64})')
      params.ended_ms = experiment.ended_at.getTime()
    }
  }
  for (const key of SCOPE_COLUMNS) {
    const value = experiment.where[key]
    if (value === undefined) continue
    conditions.push(`${key} = {where_${key}:String}`)
    params[`where_${key}`] = value
  }
  return {
    where: conditions.join(' AND '),
    arm: `if(${c.column} = {arm_control:String}, 'control', 'treatment')`,
    params,
  }
}

/** SQL for one metric per arm x segment x modality (exported for docs and tests). */
export function metricSql(
  metric: MetricDefinition,
  arms: ArmSql,
  scorerVersion: string | undefined,
): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { ...arms.params }
  let from: string
  if (metric.source === 'scores') {
    params.scorer = metric.scorer
    params.score_metric = metric.scoreMetric
    params.scorer_version = scorerVersion ?? ''
    from = `(SELECT request_id, value FROM scores FINAL
      WHERE scorer = {scorer:String} AND metric = {score_metric:String} AND scorer_version = {scorer_version:String}) AS s
    INNER JOIN (SELECT request_id, segment, modality, ${arms.arm} AS arm FROM interactions FINAL WHERE ${arms.where}) AS i
    USING request_id`
  } else {
    const filter = metric.filter ? ` AND (${metric.filter})` : ''
    from = `(SELECT segment, modality, ${arms.arm} AS arm, toFloat64(${metric.expr}) AS value
      FROM interactions FINAL WHERE ${arms.where}${filter})`
  }
  const aggregates =
    metric.kind === 'rate'
      ? 'count() AS n, sum(value) AS x'
      : metric.kind === 'mean'
        ? 'count() AS n, avg(value) AS mean, varSamp(value) AS variance'
        : 'count() AS n, arraySort(groupArray(value)) AS sorted'
  return {
    sql: `SELECT arm, segment, modality, ${aggregates}
FROM ${from}
GROUP BY arm, segment, modality
ORDER BY segment, modality, arm`,
    params,
  }
}

interface MetricRow {
  arm: 'control' | 'treatment'
  segment: string
  modality: string
  n: number
  x?: number
  mean?: number
  variance?: number
  sorted?: number[]
}

function toSample(metric: MetricDefinition, row: MetricRow | undefined): ArmSample {
  const n = Number(row?.n ?? 0)
  if (metric.kind === 'rate') return { kind: 'rate', n, x: Math.round(Number(row?.x ?? 0)) }
  if (metric.kind === 'mean') {
    const variance = Number(row?.variance)
    return {
      kind: 'mean',
      n,
      mean: Number(row?.mean ?? 0),
      variance: Number.isFinite(variance) ? variance : 0,
    }
  }
  return { kind: 'quantile', n, sorted: (row?.sorted ?? []).map(Number) }
}

/** The newest scorer_version of a scorer's metric (both arms are read within it). */
async function newestScorerVersion(query: QueryFn, metric: MetricDefinition): Promise<string | undefined> {
  if (metric.source !== 'scores') return undefined
  const rows = await query<{ v: string }>(
    'SELECT scorer_version AS v FROM scores WHERE scorer = {scorer:String} AND metric = {m:String} ORDER BY scored_at DESC, scorer_version DESC LIMIT 1',
    { scorer: metric.scorer, m: metric.scoreMetric },
  )
  return rows[0]?.v
}

export async function measureMetric(
  query: QueryFn,
  experiment: Experiment,
  metricName: string,
  options: { window?: 'experiment' | 'any' } = {},
): Promise<ScopeMeasurement[]> {
  const metric = metricDefinition(metricName)
  const version = await newestScorerVersion(query, metric)
  if (metric.source === 'scores' && version === undefined) return []
  const { sql, params } = metricSql(metric, armSql(experiment, options), version)
  const rows = await query<MetricRow>(sql, params)
  const scopes = new Map<
    string,
    { segment: string; modality: string; control?: MetricRow; treatment?: MetricRow }
  >()
  for (const row of rows) {
    const key = `${row.segment}\u0000${row.modality}`
    const entry = scopes.get(key) ?? { segment: row.segment, modality: row.modality }
    entry[row.arm] = row
    scopes.set(key, entry)
  }
  return [...scopes.values()].map((s) => ({
    metric: metricName,
    segment: s.segment,
    modality: s.modality,
    control: toSample(metric, s.control),
    treatment: toSample(metric, s.treatment),
  }))
}

export async function measureExperiment(
  query: QueryFn,
  experiment: Experiment,
): Promise<ExperimentMeasurements> {
  const arms = armSql(experiment)
  const perArm = await query<{ arm: 'control' | 'treatment'; users: number; interactions: number }>(
    `SELECT ${arms.arm} AS arm, uniqExact(user_id) AS users, uniqExact(request_id) AS interactions
FROM interactions WHERE ${arms.where} GROUP BY arm`,
    arms.params,
  )
  const both = await query<{ users_in_both: number }>(
    `SELECT count() AS users_in_both FROM (
  SELECT user_id FROM interactions WHERE ${arms.where}
  GROUP BY user_id HAVING uniqExact(${arms.arm}) = 2)`,
    arms.params,
  )
  const get = (arm: 'control' | 'treatment', key: 'users' | 'interactions') =>
    Number(perArm.find((r) => r.arm === arm)?.[key] ?? 0)
  const metrics = [...new Set([...experiment.goal, ...experiment.guardrails].map((g) => g.metric))]
  const scopes: ScopeMeasurement[] = []
  for (const metric of metrics) scopes.push(...(await measureMetric(query, experiment, metric)))
  return {
    users: { control: get('control', 'users'), treatment: get('treatment', 'users') },
    interactions: { control: get('control', 'interactions'), treatment: get('treatment', 'interactions') },
    usersInBoth: Number(both[0]?.users_in_both ?? 0),
    scopes,
  }
}

/**
 * Observations of a metric per day in the experiment's scope (both arms' keys ignored: the
 * traffic the experiment will share), over the last 7 days of stored data.
 */
export async function measureDaily(
  query: QueryFn,
  experiment: Experiment,
  metricName: string,
): Promise<number | null> {
  const metric = metricDefinition(metricName)
  const params: Record<string, unknown> = {}
  const conditions: string[] = ['1']
  for (const key of SCOPE_COLUMNS) {
    const value = experiment.where[key]
    if (value === undefined) continue
    conditions.push(`${key} = {where_${key}:String}`)
    params[`where_${key}`] = value
  }
  let table = 'interactions'
  let time = 'timestamp'
  if (metric.source === 'scores') {
    const version = await newestScorerVersion(query, metric)
    if (version === undefined) return null
    table = 'scores'
    time = 'interaction_ts'
    conditions.push(
      'scorer = {scorer:String}',
      'metric = {score_metric:String}',
      'scorer_version = {sv:String}',
    )
    Object.assign(params, { scorer: metric.scorer, score_metric: metric.scoreMetric, sv: version })
  } else if (metric.filter) conditions.push(`(${metric.filter})`)
  const rows = await query<{ n: number; span_s: number }>(
    `WITH (SELECT max(${time}) FROM ${table} WHERE ${conditions.join(' AND ')}) AS last
SELECT count() AS n, greatest(3600, dateDiff('second', min(${time}), max(${time}))) AS span_s
FROM ${table} WHERE ${conditions.join(' AND ')} AND ${time} > last - INTERVAL 7 DAY`,
    params,
  )
  const n = Number(rows[0]?.n ?? 0)
  if (n === 0) return null
  return (n / Number(rows[0]!.span_s)) * 86_400
}

/**
 * Production interactions per day per segment x modality (replayed answers excluded), over
 * the last 7 days of stored data, optionally within a scope filter: the traffic that turns a
 * failure rate into failures per day.
 */
export async function measureDailyTraffic(
  query: QueryFn,
  where: Partial<Record<(typeof SCOPE_COLUMNS)[number], string>> = {},
): Promise<Map<string, number>> {
  const params: Record<string, unknown> = {}
  const conditions = ["variant_id != 'replay'"]
  for (const key of SCOPE_COLUMNS) {
    const value = where[key]
    if (value === undefined) continue
    conditions.push(`${key} = {where_${key}:String}`)
    params[`where_${key}`] = value
  }
  const rows = await query<{ segment: string; modality: string; n: number; span_s: number }>(
    `WITH (SELECT max(timestamp) FROM interactions WHERE ${conditions.join(' AND ')}) AS last
SELECT segment, modality, count() AS n,
  greatest(3600, dateDiff('second', (SELECT min(timestamp) FROM interactions WHERE ${conditions.join(' AND ')} AND timestamp > last - INTERVAL 7 DAY), last)) AS span_s
FROM interactions WHERE ${conditions.join(' AND ')} AND timestamp > last - INTERVAL 7 DAY
GROUP BY segment, modality`,
    params,
  )
  return new Map(
    rows.map((r) => [dailyKey(r.segment, r.modality), (Number(r.n) / Number(r.span_s)) * 86_400]),
  )
}

export const dailyKey = (segment: string, modality: string) => `${segment}\u0000${modality}`
