// One evaluation cycle: for every rule, measure its scopes in ClickHouse (metrics/), decide
// each scope purely (rules/evaluate.ts), persist the states, and hand every fire or resolve
// to the incident book (incidents.ts), which pages once per incident and completes any
// delivery a crash left unfinished.

import { type Alert, dedupKey, parseAlert } from '../../alerts/alert.ts'
import type { AlertEmitter } from '../../alerts/emitter.ts'
import { baselineKey, scopeKey } from '../../contract/scope.ts'
import { errorMessage } from '../../lib/errors.ts'
import type { Logger } from '../../lib/log.ts'
import { metricDefinition } from '../../metrics/registry.ts'
import {
  fetchScopeStats,
  latestScorerVersion,
  reproduceSql,
  type ScopeStats,
  type StatsQuery,
} from '../../metrics/scope-stats.ts'
import { evaluateLook, type LookNumbers, type RuleState } from '../../rules/evaluate.ts'
import type { EvaluationSettings, Rule } from '../../rules/schema.ts'
import type { Store } from '../../store/store.ts'
import { isoTime } from '../../store/time.ts'
import { createIncidents, type Incidents } from './incidents.ts'
import { loadRuleStates, saveRuleStates } from './state-store.ts'

export interface CycleDeps {
  store: Store
  rules: Rule[]
  settings: EvaluationSettings
  emitter: AlertEmitter
  /** The rollback target: the last version marked stable, other than `excluding`. */
  lastStable: (excluding?: string) => Promise<string | undefined>
  log: Logger
  now?: number
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
  const incidents = createIncidents({ store: deps.store, emitter: deps.emitter, log: deps.log })
  await incidents.sendOwed()
  for (const rule of deps.rules) {
    try {
      await evaluateRule(deps, incidents, rule, now, result)
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
): Promise<void> {
  const { store, settings } = deps
  const metric = metricDefinition(rule.metric)
  let scorerVersion = ''
  if (metric.source === 'scores') {
    const latest = await latestScorerVersion(store, metric.scorer, metric.scoreMetric)
    if (!latest) return // nothing scored yet: nothing to say
    scorerVersion = latest
  }
  const periodStart = Math.floor(now / settings.test_period) * settings.test_period
  const states = await loadRuleStates(store, rule.name, deps.log)
  const base: Omit<StatsQuery, 'from' | 'to'> = { metric, where: rule.where, scorerVersion }

  // Candidate statistics, cumulative since each test's start. Tests share the period start,
  // except those restarted by a resolve: one query per distinct start.
  const startOf = (key: string) => {
    const s = states.get(key)
    return s && s.scorer_version === scorerVersion && (s.status === 'firing' || s.started_at >= periodStart)
      ? s.started_at
      : periodStart
  }
  const starts = new Set<number>([periodStart])
  for (const s of states.values()) starts.add(startOf(s.dedup_key))
  const byStart = new Map<number, Map<string, ScopeStats>>()
  for (const start of starts) {
    const stats = await fetchScopeStats(store, { ...base, from: start, to: now })
    byStart.set(start, new Map(stats.map((s) => [scopeKey(s.scope), s])))
  }

  const comparison = rule.compare_to
  const stable = comparison === 'last_stable' ? await deps.lastStable() : undefined
  let baselineFor: (stats: ScopeStats) => ScopeStats | undefined = () => undefined
  let baselineQuery: StatsQuery | undefined
  if (comparison === 'last_stable' && stable) {
    baselineQuery = {
      ...base,
      where: { ...rule.where, model_version: stable },
      poolVariants: true,
      from: now - settings.baseline_window,
      to: now,
    }
    const rows = await fetchScopeStats(store, baselineQuery)
    const map = new Map(rows.map((r) => [baselineKey(r.scope), r]))
    baselineFor = (s) => map.get(baselineKey(s.scope))
  } else if (comparison !== undefined && comparison !== 'last_stable') {
    baselineQuery = { ...base, from: now - comparison.trailing, to: periodStart }
    const rows = await fetchScopeStats(store, baselineQuery)
    const map = new Map(rows.map((r) => [scopeKey(r.scope), r]))
    baselineFor = (s) => map.get(scopeKey(s.scope))
  }

  const firing = [...states.values()].some((s) => s.status === 'firing')
  const recent = firing
    ? new Map(
        (await fetchScopeStats(store, { ...base, from: now - settings.resolve_window, to: now })).map((s) => [
          scopeKey(s.scope),
          s,
        ]),
      )
    : new Map<string, ScopeStats>()

  const candidates = new Map<string, ScopeStats>()
  for (const [key, stats] of byStart.get(periodStart)!) candidates.set(key, stats)
  for (const s of states.values()) {
    const key = scopeKey(s.scope)
    const stats = byStart.get(startOf(s.dedup_key))?.get(key)
    if (stats) candidates.set(key, stats)
    else if (s.status === 'firing')
      candidates.set(key, { scope: s.scope, n: 0, x: 0, value: 0, variance: 0, standardError: Infinity })
  }

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
      baseline: baselineFor(candidate),
      recent: recent.get(key),
      periodStart,
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
  await saveRuleStates(store, toSave)
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
