// The jobs that turn scores into decisions, built from config for a long-running process:
// `detect_versions` (new model versions seen in traffic go to the deployments table) and
// `evaluate` (every rule, then alerts). Scoring jobs are registered before them; `shadow`
// (jobs/shadow/shadow-job.ts) runs after them (it reads judge scores) and before evaluate
// (whose rules read its shadow_divergence_* scores).

import type { Producer } from 'kafkajs'
import { withExposure } from '../../alerts/exposure.ts'
import { createEmitterFromConfig } from '../../alerts/from-config.ts'
import type { Config } from '../../config/schema.ts'
import { detectNewVersions, goneVersions, lastStable } from '../../deploy/deployments.ts'
import { dailyKey, measureDailyTraffic } from '../../experiments/measure.ts'
import type { Logger } from '../../lib/log.ts'
import type { Store } from '../../store/store.ts'
import type { JobDefinition } from '../registry.ts'
import { createShadowJob } from '../shadow/shadow-job.ts'
import { plannedJobs } from '../start-jobs.ts'
import { createEvaluateJob } from './evaluate-job.ts'

export interface MonitorJobsOptions {
  config: Config
  store: Store
  env: NodeJS.ProcessEnv
  log: Logger
  /** Connected producer for rollback triggers (Kafka sink); optional. */
  producer?: Pick<Producer, 'send'>
}

export function monitorJobs(options: MonitorJobsOptions): JobDefinition[] {
  const { config, store } = options
  const detect: JobDefinition = {
    name: 'detect_versions',
    description: 'record model versions seen in traffic as detected deployments',
    defaultSchedule: '* * * * *',
    async run() {
      const found = await detectNewVersions(store)
      return {
        status: 'ok',
        rowsDone: found.length,
        rowsTotal: found.length,
        spendUsd: 0,
        message: found.length
          ? `new versions: ${found.map((d) => d.model_version).join(', ')}`
          : 'no new versions',
        detail: {},
      }
    },
  }
  const emitter = createEmitterFromConfig({
    config,
    env: options.env,
    log: options.log,
    producer: options.producer,
  })
  const shadow = config.shadow.enabled
    ? [createShadowJob({ env: options.env, dependsOn: enabledScoringJobs(config) })]
    : []
  const evaluate = createEvaluateJob({
    // Alerts carry dollars at risk when exposure: prices their scope (alerts/exposure.ts).
    emitter: withExposure(emitter, {
      entries: config.exposure,
      dailyTraffic: async (segment, modality) =>
        (await measureDailyTraffic((sql, params) => store.query(sql, params), { segment, modality })).get(
          dailyKey(segment, modality),
        ) ?? 0,
      log: options.log,
    }),
    lastStable: async (excluding) => (await lastStable(store, { excluding }))?.model_version,
    goneVersions: () => goneVersions(store),
    // The scoring jobs the config enables run first: the rules read their scores.
    dependsOn: [...enabledScoringJobs(config), ...shadow.map((j) => j.name), 'detect_versions'],
    // jobs.schedule.evaluate (or its old alias evaluation.schedule) replaces it.
    defaultSchedule: '* * * * *',
  })
  return [detect, ...shadow, evaluate]
}

function enabledScoringJobs(config: Config): string[] {
  return plannedJobs(config)
    .filter((j) => j.enabled)
    .map((j) => j.name)
}
