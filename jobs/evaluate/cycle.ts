// One evaluation cycle: for every rule, measure its scopes in ClickHouse (metrics/), decide
// each scope purely (rules/evaluate.ts), persist the states, and hand every fire or resolve
// to the incident book (incidents.ts), which pages once per incident and completes any
// delivery a crash left unfinished.

import { type Alert, dedupKey, parseAlert } from '../../alerts/alert.ts'
import type { AlertEmitter } from '../../alerts/emitter.ts'
import { baselineKey, type Scope, scopeKey } from '../../contract/scope.ts'
import { errorMessage } from '../../lib/errors.ts'
import type { Logger } from '../../lib/log.ts'
import { metricDefinition } from '../../metrics/registry.ts'
import {
  type ExceedanceQuery,
  reproduceSql,
  type ScopeStats,
  type StatsQuery,
  type StatsSource,
  storeStatsSource,
} from '../../metrics/scope-stats.ts'
import {
  evaluateLook,
  type LookNumbers,
  type RuleState,
  tailThresholdFor,
  testWindowStart,
  type VersionGone,
} from '../../rules/evaluate.ts'
import type { EvaluationSettings, Rule } from '../../rules/schema.ts'
import type { Store } from '../../store/store.ts'
import { isoTime } from '../../store/time.ts'
import { createIncidents, type Incidents } from './incidents.ts'
import { clickhouseRuleStates, type RuleStateStore } from './state-store.ts'

export interface CycleDeps {
  store: Store
  rules: Rule[]
  settings: EvaluationSettings
  emitter: AlertEmitter
  /** The rollback target: the last version marked stable, other than `excluding`. */
  lastStable: (excluding?: string) => Promise<string | undefined>
  /** Versions marked rolled back or retired (deploy/deployments.ts goneVersions), and when. */
  goneVersions?: () => Promise<ReadonlyMap<string, VersionGone>>
  log: Logger
  now?: number
  /** Where rule states live; default the store's rule_states (a backtest passes memory). */
  states?: RuleStateStore
  /** The incident book; default the store's alerts with `emitter` (a backtest passes its own). */
  incidents?: Incidents
  /** Where the numbers come from; default one store query each (a backtest passes an index). */
  stats?: StatsSource
}

export interface CycleResult {
  looks: number
  fired: Alert[]
  resolved: Alert[]
  states: RuleState[]
  durationMs: number
}

export async function runEvaluationCycle(deps: CycleDeps): Promise<CycleResult> {
  const started = Date.now()
  const now = deps.now ?? Date.now()
  const result: CycleResult = { looks: 0, fired: [], resolved: [], states: [], durationMs: 0 }
  const incidents =
    deps.incidents ?? createIncidents({ store: deps.store, emitter: deps.emitter, log: deps.log })
  await incidents.sendOwed()
  const gone = deps.goneVersions ? await deps.goneVersions() : new Map<string, VersionGone>()
  for (const rule of deps.rules) {
    try {
      await evaluateRule(deps, incidents, rule, now, result, gone)
    } catch (error) {
      deps.log.error('rule evaluation failed', { rule: rule.name, error: errorMessage(error) })
      throw error
    }
  }
  result.durationMs = Date.now() - started
  return result
}

async function evaluateRule(
  deps: CycleDeps,
  incidents: Incidents,
  rule: Rule,
  now: number,
  result: CycleResult,
  gone: ReadonlyMap<string, VersionGone>,
): Promise<void> {
  const { store, settings } = deps
  const source = deps.stats ?? storeStatsSource(store)
  const metric = metricDefinition(rule.metric)
  let scorerVersion = ''
  if (metric.source === 'scores') {
    const latest = await source.latestScorerVersion(metric.scorer, metric.scoreMetric)
    if (!latest) return // nothing scored yet: nothing to say
    scorerVersion = latest
  }
  const stateStore = deps.states ?? clickhouseRuleStates(store, deps.log)
  const states = await stateStore.load(rule.name)
  const base: Omit<StatsQuery, 'from' | 'to'> = { metric, where: rule.where, scorerVersion }

  // Baseline first: a quantile rule's new tests count exceedances above a threshold derived
  // from it (rules/evaluate.ts tailThresholdFor).
  const comparison = rule.compare_to
  const stable = comparison === 'last_stable' ? await deps.lastStable() : undefined
  let baselineFor: (scope: Scope) => ScopeStats | undefined = () => undefined
  let baselineQuery: StatsQuery | undefined
  let baselineRows: ScopeStats[] = []
  let byBaseline = false
  if (comparison === 'last_stable' && stable) {
    baselineQuery = {
      ...base,
      where: { ...rule.where, model_version: stable },
      poolVariants: true,
      from: now - settings.baseline_window,
      to: now,
    }
    baselineRows = await source.scopeStats(baselineQuery)
    const map = new Map(baselineRows.map((r) => [baselineKey(r.scope), r]))
    baselineFor = (s) => map.get(baselineKey(s))
    byBaseline = true
  } else if (comparison !== undefined && comparison !== 'last_stable') {
    // The trailing window ends where the recent window judged for recovery begins.
    baselineQuery = { ...base, from: now - comparison.trailing, to: now - settings.resolve_window }
    baselineRows = await source.scopeStats(baselineQuery)
    const map = new Map(baselineRows.map((r) => [scopeKey(r.scope), r]))
    baselineFor = (s) => map.get(scopeKey(s))
  }

  // Candidate statistics, cumulative since each test's own start, in one query.
  const startsByScope: Record<string, number> = {}
  for (const s of states.values())
    startsByScope[scopeKey(s.scope)] = testWindowStart(s, scorerVersion, now, settings)
  let exceedance: ExceedanceQuery | undefined
  if (metric.kind === 'quantile') {
    // This look's tail threshold per baseline scope (rules/evaluate.ts recomputes the same).
    const thresholds: Record<string, number> = {}
    for (const b of baselineRows) {
      const t = tailThresholdFor({ rule, metric, settings, baseline: b })
      if (t !== undefined) thresholds[byBaseline ? baselineKey(b.scope) : scopeKey(b.scope)] = t
    }
    exceedance = {
      by: byBaseline ? 'baseline' : 'scope',
      thresholds,
      otherwise: comparison === undefined ? tailThresholdFor({ rule, metric, settings }) : undefined,
    }
  }
  const candidateRows = await source.scopeStats({
    ...base,
    from: now - settings.test_period,
    to: now,
    startsByScope,
    exceedance,
  })

  const firing = [...states.values()].some((s) => s.status === 'firing')
  const recent = firing
    ? new Map(
        (await source.scopeStats({ ...base, from: now - settings.resolve_window, to: now })).map((s) => [
          scopeKey(s.scope),
          s,
        ]),
      )
    : new Map<string, ScopeStats>()
  const empty = (scope: Scope): ScopeStats => ({
    scope,
    n: 0,
    x: 0,
    value: 0,
    variance: 0,
    standardError: Infinity,
  })

  const candidates = new Map<string, ScopeStats>(candidateRows.map((c) => [scopeKey(c.scope), c]))
  for (const s of states.values()) {
    const key = scopeKey(s.scope)
    if (s.status === 'firing' && !candidates.has(key)) candidates.set(key, empty(s.scope))
  }
  const firingKeys = new Set(
    [...states.values()].filter((s) => s.status === 'firing').map((s) => scopeKey(s.scope)),
  )

  const toSave: RuleState[] = []
  for (const [key, candidate] of candidates) {
    // A version is not compared with itself.
    if (comparison === 'last_stable' && candidate.scope.model_version === stable) continue
    const dedup = dedupKey(rule.name, candidate.scope, candidate.scope.model_version)
    const previous = states.get(dedup)
    const look = evaluateLook(previous, {
      rule,
      metric,
      settings,
      now,
      dedupKey: dedup,
      scorerVersion,
      candidate,
      baseline: baselineFor(candidate.scope),
      // A firing scope with no recent rows had no traffic for resolve_window.
      recent: recent.get(key) ?? (firingKeys.has(key) ? empty(candidate.scope) : undefined),
      testStart: startsByScope[key] ?? now - settings.test_period,
      versionGone: gone.get(candidate.scope.model_version),
    })
    result.looks++
    result.states.push(look.state)
    if (look.transition) {
      const query: StatsQuery = {
        ...base,
        where: { ...rule.where, ...candidate.scope },
        from: look.state.started_at,
        to: now,
      }
      const alert = buildAlert(rule, look.state, look.numbers, look.transition, {
        now,
        settings,
        toVersion: (await deps.lastStable(candidate.scope.model_version)) ?? null,
        reproduce: `${reproduceSql(query)}${baselineQuery ? `\n-- baseline:\n${reproduceSql(baselineQuery)}` : ''}`,
        windowStart: previous?.started_at ?? look.state.started_at,
      })
      // The state is saved with the alert intent, before sending: a restart never re-pages.
      const sent = await incidents.transition(alert, look.state)
      ;(look.transition === 'fire' ? result.fired : result.resolved).push(sent)
    } else {
      toSave.push(look.state)
    }
  }
  await stateStore.save(toSave)
}

interface AlertContext {
  now: number
  settings: EvaluationSettings
  toVersion: string | null
  reproduce: string
  windowStart: number
}

function buildAlert(
  rule: Rule,
  state: RuleState,
  numbers: LookNumbers,
  transition: 'fire' | 'resolve',
  ctx: AlertContext,
): Alert {
  const last = transition === 'resolve' ? (state.last ?? numbers) : numbers
  return parseAlert({
    rule: rule.name,
    metric: rule.metric,
    action: rule.action,
    scope: state.scope,
    state: transition === 'fire' ? 'firing' : 'resolved',
    observed: numbers.observed,
    baseline: numbers.baseline,
    threshold: numbers.threshold,
    comparison: numbers.comparison,
    p_value: last.p_value,
    confidence: rule.confidence ?? ctx.settings.confidence,
    ci_low: last.ci_low,
    ci_high: last.ci_high,
    n: numbers.n,
    baseline_n: numbers.baseline_n,
    window: { start: isoTime(Math.min(ctx.windowStart, ctx.now)), end: isoTime(ctx.now) },
    from_version: state.scope.model_version,
    to_version: ctx.toVersion === state.scope.model_version ? null : ctx.toVersion,
    fired_at: isoTime(state.fired_at ?? ctx.now),
    resolved_at: transition === 'resolve' ? isoTime(state.resolved_at ?? ctx.now) : null,
    dedup_key: state.dedup_key,
    reproduce_sql: ctx.reproduce,
    message: numbers.message,
  })
}
