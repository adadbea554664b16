// POST /experiments/analyze {experiment}: the owning instance measures, decides and stores
// an experiment analysis, so `driftwatch experiment analyze` works while `driftwatch start`
// holds the embedded store. The experiment definition comes from the caller's config.

import { z } from 'zod'
import { ExposureEntrySchema } from '../config/schema.ts'
import { runExperimentRequest } from '../experiments/run.ts'
import { ExperimentSchema } from '../experiments/schema.ts'
import { ConfigError } from '../lib/errors.ts'
import type { Store } from '../store/store.ts'
import type { Route } from './http.ts'

const AnalyzeRequestSchema = z
  .object({ experiment: ExperimentSchema, exposure: z.array(ExposureEntrySchema).default([]) })
  .strict()

export function experimentRoutes(store: Store): Record<string, Route> {
  return {
    'POST /experiments/analyze': async (request) => {
      const parsed = AnalyzeRequestSchema.safeParse(request.body)
      if (!parsed.success)
        throw new ConfigError(
          `bad /experiments/analyze request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        )
      return {
        status: 200,
        body: await runExperimentRequest(store, parsed.data.experiment, parsed.data.exposure),
      }
    },
  }
}
