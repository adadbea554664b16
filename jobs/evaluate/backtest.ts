// `driftwatch backtest`: the configured rules evaluated as of each step over what is stored,
// through the very same evaluation cycle as live (runEvaluationCycle with the clock
// injected). As of a step a cycle reads only interactions (and their scores) timed before
// it, so a step sees what a live cycle at that moment would have seen. The numbers come from
// an index built in one read of each metric's stored values (metrics/memory-stats.ts), which
// answers every step's queries as the store would, without a scan per step. Rule states and
// incidents live in memory: no sink is called and the live rule_states and alerts tables are
// never written.

import type { Alert } from '../../alerts/alert.ts'
import type { AlertEmitter } from '../../alerts/emitter.ts'
import type { Scope } from '../../contract/scope.ts'
import type { Logger } from '../../lib/log.ts'
import { memoryStatsSource } from '../../metrics/memory-stats.ts'
import type { RuleState, VersionGone } from '../../rules/evaluate.ts'
import type { EvaluationSettings, Rule } from '../../rules/schema.ts'
import type { Store } from '../../store/store.ts'
import { isoTime, parseClickhouseTime } from '../../store/time.ts'
import { runEvaluationCycle } from './cycle.ts'
import type { Incidents } from './incidents.ts'
import { memoryRuleStates, type RuleStateStore } from './state-store.ts'

export interface BacktestEvent {
  at: string
  rule: string
  event: 'fire' | 'resolve'
  dedup_key: string
  scope: Scope
  observed: number
  baseline: number | null
  threshold: number
  n: number
  p_value: number | null
  message: string
}

export interface BacktestSummary {
  rule: string
  first_fire_at: string | null
  /** Minutes from --change-at to the first fire at or after it; null without --change-at or a fire. */
  delay_minutes: number | null
  pages: number
  pages_per_day: number
}

export interface BacktestReport {
  timeline: BacktestEvent[]
  summary: BacktestSummary[]
}

export interface BacktestOptions {
  store: Store
  rules: Rule[]
  settings: EvaluationSettings
  /** First and last step (epoch ms), inclusive; steps every `step` ms. */
  from: number
  to: number
  step: number
  changeAt?: number
  /** The rollback target as the live cycle asks for it. */
  lastStable: (excluding?: string) => Promise<string | undefined>
  /** Versions marked rolled back or retired; only marks at or before a step count at that step. */
  goneVersions?: () => Promise<ReadonlyMap<string, VersionGone>>
  log: Logger
  /** Called after each step (progress). */
  onStep?: (at: number, index: number, total: number) => void
}

/** An emitter with no sinks: nothing is ever sent. */
const NO_SINKS: AlertEmitter = {
  sinksFor: () => [],
  emit: async () => [],
}

/**
 * The incident book of a backtest: the same rule (one open incident per key, a second fire
 * under an open key is the same incident), kept in memory, states saved with each transition.
 */
export function memoryIncidents(states: RuleStateStore, onAlert: (alert: Alert) => void): Incidents {
  const latest = new Map<string, Alert>()
  return {
    async sendOwed() {},
    async transition(decided: Alert, state: RuleState) {
      let alert = decided
      const open = latest.get(alert.dedup_key)
      if (alert.state === 'firing' && open?.state === 'firing') {
        alert = { ...alert, fired_at: open.fired_at }
        state.fired_at = parseClickhouseTime(open.fired_at)
        await states.save([state])
        return alert
      }
      latest.set(alert.dedup_key, alert)
      await states.save([state])
      onAlert(alert)
      return alert
    },
    async resolve(dedupKey: string, reason: string, state?: RuleState) {
      const open = latest.get(dedupKey)
      if (open?.state !== 'firing') return undefined
      const alert: Alert = { ...open, state: 'resolved', message: reason }
      latest.set(dedupKey, alert)
      if (state) await states.save([state])
      onAlert(alert)
      return alert
    },
    async open(rule?: string) {
      return [...latest.values()].filter(
        (a) => a.state === 'firing' && (rule === undefined || a.rule === rule),
      )
    },
  }
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestReport> {
  const { from, to, step } = options
  if (!(step > 0)) throw new RangeError(`--step must be > 0, got ${step} ms`)
  if (!(to >= from)) throw new RangeError(`--to (${isoTime(to)}) is before --from (${isoTime(from)})`)
  const states = memoryRuleStates()
  const timeline: BacktestEvent[] = []
  let at = from
  const incidents = memoryIncidents(states, (alert) => {
    timeline.push({
      at: isoTime(at),
      rule: alert.rule,
      event: alert.state === 'firing' ? 'fire' : 'resolve',
      dedup_key: alert.dedup_key,
      scope: alert.scope,
      observed: alert.observed,
      baseline: alert.baseline,
      threshold: alert.threshold,
      n: alert.n,
      p_value: alert.p_value,
      message: alert.message,
    })
  })
  const allGone = options.goneVersions ? await options.goneVersions() : new Map<string, VersionGone>()
  const total = Math.floor((to - from) / step) + 1
  // The index covers the longest look-back of any step: baselines, trailing windows, tests.
  const lookBack = Math.max(
    options.settings.baseline_window,
    options.settings.test_period,
    ...options.rules.map((r) =>
      r.compare_to !== undefined && r.compare_to !== 'last_stable' ? r.compare_to.trailing : 0,
    ),
  )
  const stats = memoryStatsSource(options.store, from - lookBack, from + (total - 1) * step)
  for (let i = 0; i < total; i++) {
    at = from + i * step
    const now = at
    const gone = new Map([...allGone].filter(([, g]) => g.at <= now))
    await runEvaluationCycle({
      store: options.store,
      rules: options.rules,
      settings: options.settings,
      emitter: NO_SINKS,
      lastStable: options.lastStable,
      goneVersions: async () => gone,
      log: options.log,
      now,
      states,
      incidents,
      stats,
    })
    options.onStep?.(now, i, total)
  }
  return { timeline, summary: summarize(options, timeline) }
}

function summarize(options: BacktestOptions, timeline: BacktestEvent[]): BacktestSummary[] {
  const days = Math.max(options.to - options.from, options.step) / 86_400_000
  return options.rules.map((rule) => {
    const fires = timeline.filter((e) => e.rule === rule.name && e.event === 'fire')
    const after =
      options.changeAt === undefined ? undefined : fires.find((e) => Date.parse(e.at) >= options.changeAt!)
    return {
      rule: rule.name,
      first_fire_at: fires[0]?.at ?? null,
      delay_minutes:
        after && options.changeAt !== undefined ? (Date.parse(after.at) - options.changeAt) / 60_000 : null,
      pages: fires.length,
      pages_per_day: Math.round((fires.length / days) * 1000) / 1000,
    }
  })
}
