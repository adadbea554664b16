// One analysis or plan of an experiment against a store: measure (experiments/measure.ts),
// decide (experiments/analysis.ts, pure), keep the result (experiment_results). Used by the
// CLI directly and by the owning instance's POST /experiments/analyze.

import type { ExposureEntry } from '../config/schema.ts'
import { computeExposure, type Exposure, type ExposureInput } from '../metrics/exposure.ts'
import { metricDefinition } from '../metrics/registry.ts'
import type { Store } from '../store/store.ts'
import { analyzeExperiment, type ExperimentReport } from './analysis.ts'
import {
  dailyKey,
  measureDaily,
  measureDailyTraffic,
  measureExperiment,
  measureMetric,
  type QueryFn,
} from './measure.ts'
import { type GoalPlan, planGoals } from './plan.ts'
import { storeExperimentResult } from './results.ts'
import type { Experiment } from './schema.ts'

export function storeQuery(store: Store): QueryFn {
  return (sql, params) => store.query(sql, params)
}

export type ReportWithExposure = ExperimentReport & { exposure: Exposure[] }

export async function analyzeAndStore(
  store: Store,
  experiment: Experiment,
  now: Date,
  exposure: readonly ExposureEntry[] = [],
): Promise<ReportWithExposure> {
  const query = storeQuery(store)
  const analysis = analyzeExperiment(experiment, await measureExperiment(query, experiment))
  const report = { ...analysis, exposure: await experimentExposure(query, experiment, analysis, exposure) }
  await storeExperimentResult(store, experiment, report, now)
  return report
}

/** Dollars at risk per day of treatment vs control, for the failure rates the report measured. */
export async function experimentExposure(
  query: QueryFn,
  experiment: Experiment,
  report: ExperimentReport,
  entries: readonly ExposureEntry[],
): Promise<Exposure[]> {
  if (entries.length === 0) return []
  const daily = await measureDailyTraffic(query, experiment.where)
  const inputs: ExposureInput[] = report.metrics
    .filter((m) => {
      const def = metricDefinition(m.metric)
      return def.kind === 'rate' && def.worse === 'higher'
    })
    .map((m) => ({
      segment: m.segment,
      modality: m.modality,
      metric: m.metric,
      dailyTraffic: daily.get(dailyKey(m.segment, m.modality)) ?? 0,
      baselineRate: m.control.value,
      candidateRate: m.treatment.value,
    }))
  return computeExposure(entries, inputs)
}

export interface ExperimentPlan {
  experiment: string
  alpha: number
  /** alpha / comparisons: the level each comparison is planned (and tested) at. */
  alpha_per_comparison: number
  power: number
  comparisons: number
  /** Where the baseline came from: the control arm since started_at, or before it (no experiment data yet). */
  baseline_window: 'experiment' | 'before_start'
  goals: GoalPlan[]
  planned_per_variant: number | null
  /** Observations per day of the first goal metric in the experiment's scope (both arms together). */
  daily: number | null
  duration_days: number | null
}

/** The planner with the baseline measured from stored data. */
export async function planExperiment(query: QueryFn, experiment: Experiment): Promise<ExperimentPlan> {
  const metrics = [...new Set([...experiment.goal, ...experiment.guardrails].map((g) => g.metric))]
  let window: 'experiment' | 'any' = 'experiment'
  let goalScopes = await Promise.all(experiment.goal.map((g) => measureMetric(query, experiment, g.metric)))
  if (goalScopes.every((s) => s.every((x) => x.control.n === 0))) {
    window = 'any'
    goalScopes = await Promise.all(
      experiment.goal.map((g) => measureMetric(query, experiment, g.metric, { window: 'any' })),
    )
  }
  const flat = goalScopes.flat()
  // Comparisons the analysis will make: every metric in every segment x modality seen.
  const scopes = new Set(flat.map((s) => `${s.segment}\u0000${s.modality}`))
  const comparisons = Math.max(1, metrics.length * Math.max(1, scopes.size))
  const goals = planGoals(experiment, flat, comparisons)
  const planned = goals.some((g) => g.sample_size_per_variant === null)
    ? null
    : Math.max(...goals.map((g) => g.sample_size_per_variant!))
  const daily = await measureDaily(query, experiment, experiment.goal[0]!.metric)
  const share = experiment.split.control / (experiment.split.control + experiment.split.treatment)
  // The smaller arm sets the pace: it gets min(share, 1 - share) of the daily observations.
  const duration =
    planned !== null && daily !== null ? Math.ceil(planned / (daily * Math.min(share, 1 - share))) : null
  return {
    experiment: experiment.name,
    alpha: experiment.alpha,
    alpha_per_comparison: experiment.alpha / comparisons,
    power: experiment.power,
    comparisons,
    baseline_window: window === 'experiment' ? 'experiment' : 'before_start',
    goals,
    planned_per_variant: planned,
    daily,
    duration_days: duration,
  }
}

/** What the HTTP route runs: analysis now, stored. */
export function runExperimentRequest(
  store: Store,
  experiment: Experiment,
  exposure: readonly ExposureEntry[] = [],
): Promise<ReportWithExposure> {
  return analyzeAndStore(store, experiment, new Date(), exposure)
}
