// The experiment_results table: one row per analysis, so the history of decisions can be
// queried (`driftwatch experiment list`, `driftwatch sql`) and every report shown again.

import { createHash } from 'node:crypto'
import type { Store } from '../store/store.ts'
import { clickhouseTime } from '../store/time.ts'
import type { ExperimentReport } from './analysis.ts'
import type { QueryFn } from './measure.ts'
import type { Experiment } from './schema.ts'

export function experimentResultRow(experiment: Experiment, report: ExperimentReport, analyzedAt: Date) {
  return {
    experiment: report.experiment,
    analyzed_at: clickhouseTime(analyzedAt.getTime()),
    decision: report.decision,
    rule: report.rule,
    reason: report.reason,
    srm_p_value: report.srm.p_value,
    srm_flagged: report.srm.flagged,
    users_in_both: report.assignment.users_in_both,
    planned_per_variant: report.planned_per_variant,
    observed_per_variant: report.observed_per_variant,
    report: JSON.stringify(report),
    config_hash: createHash('sha256').update(JSON.stringify(experiment)).digest('hex').slice(0, 16),
  }
}

export async function storeExperimentResult(
  store: Store,
  experiment: Experiment,
  report: ExperimentReport,
  analyzedAt: Date,
): Promise<void> {
  await store.insert('experiment_results', [experimentResultRow(experiment, report, analyzedAt)])
}

export interface LastResult {
  experiment: string
  last_at: string
  decision: string
  rule: string
  analyses: number
}

/** The newest decision of every experiment that has been analyzed. */
export async function lastResults(query: QueryFn): Promise<LastResult[]> {
  return query<LastResult>(
    `SELECT experiment, max(analyzed_at) AS last_at, argMax(decision, analyzed_at) AS decision,
  argMax(rule, analyzed_at) AS rule, count() AS analyses
FROM experiment_results GROUP BY experiment ORDER BY experiment`,
    {},
  )
}
