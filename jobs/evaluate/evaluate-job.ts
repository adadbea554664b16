// The `evaluate` job: one evaluation cycle of every rule, scheduled after the scoring jobs.
// Its dependencies (emitter, rollback target) are passed in, so tests and the CLI choose them.

import type { AlertEmitter } from '../../alerts/emitter.ts'
import type { JobDefinition } from '../registry.ts'
import { type CycleDeps, runEvaluationCycle } from './cycle.ts'
import { recordEvaluations } from './history.ts'

export const EVALUATE_JOB = 'evaluate'

export interface EvaluateJobOptions {
  emitter: AlertEmitter
  lastStable: (excluding?: string) => Promise<string | undefined>
  /** Versions marked rolled back or retired: their incidents resolve. */
  goneVersions?: CycleDeps['goneVersions']
  /** Jobs whose scores the rules read: evaluate runs after them in run-all. */
  dependsOn?: readonly string[]
  defaultSchedule?: string
}

export function createEvaluateJob(options: EvaluateJobOptions): JobDefinition {
  return {
    name: EVALUATE_JOB,
    description: 'evaluate drift rules; page and publish rollback triggers',
    defaultSchedule: options.defaultSchedule ?? '* * * * *',
    dependsOn: options.dependsOn,
    async run(ctx) {
      const rules = ctx.config.rules
      const now = ctx.now()
      const result = await runEvaluationCycle({
        store: ctx.store,
        rules,
        settings: ctx.config.evaluation,
        emitter: options.emitter,
        lastStable: options.lastStable,
        goneVersions: options.goneVersions,
        log: ctx.log,
        now,
      })
      // The look history for the rule page's charts (a backtest runs the cycle without this).
      await recordEvaluations(ctx.store, result.states, now)
      const firing = result.states.filter((s) => s.status === 'firing').length
      return {
        status: 'ok',
        rowsDone: result.looks,
        rowsTotal: result.looks,
        spendUsd: 0,
        message: `${rules.length} rules, ${result.looks} scopes looked at, ${firing} firing, ${result.fired.length} fired and ${result.resolved.length} resolved now (${result.durationMs} ms)`,
        detail: {
          fired: result.fired.map((a) => a.dedup_key),
          resolved: result.resolved.map((a) => a.dedup_key),
          duration_ms: result.durationMs,
        },
      }
    },
  }
}
