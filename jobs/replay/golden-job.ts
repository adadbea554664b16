// The `golden` job: the golden suite (config golden.suite) sent to the live endpoint on its
// cron (golden.cron, default daily 03:00), answers stored as interactions of variant `golden`,
// graded by the enabled model scorers, and one `golden` score per case (pass 0/1) so that
// golden_pass_rate is a registry metric a rule can page on. The suite is read and checked at
// each run, so a broken file fails that run with the line to fix.

import type { Config, GoldenConfig } from '../../config/schema.ts'
import { createModelClient } from '../../scoring/model-client.ts'
import type { ClientOverrides } from '../model-scorers.ts'
import type { JobDefinition } from '../registry.ts'
import { judgeGoldenRun } from './golden.ts'
import { runReplay } from './run.ts'
import { gradeRun, openReplayScorers } from './score.ts'
import { readSuite } from './suite.ts'

export interface GoldenJobOptions {
  golden: GoldenConfig
  env?: NodeJS.ProcessEnv
  cwd?: string
  client?: ClientOverrides
}

export function createGoldenJob(options: GoldenJobOptions): JobDefinition {
  const g = options.golden
  return {
    name: 'golden',
    description: `golden suite ${g.suite} against ${g.model}`,
    defaultSchedule: g.cron,
    async run(ctx) {
      const cases = readSuite(g.suite)
      const cfg: Config['replay'] = ctx.config.replay
      const client = createModelClient({
        baseUrl: g.target,
        model: g.model,
        apiKey: cfg.api_key_env ? (options.env ?? process.env)[cfg.api_key_env] : undefined,
        timeoutMs: cfg.timeout_ms,
        maxRetries: cfg.max_retries,
        maxConcurrency: g.concurrency,
        requestsPerSecond: Number.POSITIVE_INFINITY,
        configKey: 'golden',
        log: ctx.log,
        ...options.client,
      })
      const run = await runReplay(cases, {
        client,
        candidateVersion: g.model,
        variant: 'golden',
        concurrency: g.concurrency,
        maxTokens: cfg.max_tokens,
        temperature: cfg.temperature,
        pricePer1kPrompt: cfg.price_per_1k_prompt_tokens,
        pricePer1kCompletion: cfg.price_per_1k_completion_tokens,
        signal: ctx.signal,
        now: ctx.now,
        onProgress: (done, total, spent) => ctx.progress({ done, total, failed: 0, spendUsd: spent }),
      })
      const scorers = await openReplayScorers(
        ctx.config.scorers,
        { log: ctx.log, env: options.env, cwd: options.cwd, client: options.client },
        ctx.store,
        run.runId,
      )
      const graded = await gradeRun(ctx.store, run, scorers, ctx.signal)
      const { summary, scores } = judgeGoldenRun(run, g.min_similarity)
      await ctx.store.insert('interactions', run.interactions, { dedupToken: `golden:${run.runId}:i` })
      await ctx.store.insert('scores', [...run.scores, ...graded.scores, ...scores], {
        dedupToken: `golden:${run.runId}:s`,
      })
      for (const s of scorers) await s.ledger.flush(ctx.store)
      ctx.log.info('golden suite run', {
        cases: summary.cases,
        passed: summary.passed,
        pass_rate: summary.pass_rate,
        weighted_failures: summary.weighted_failures,
      })
      return {
        status: graded.notes.length ? 'degraded' : 'ok',
        rowsDone: summary.cases,
        rowsTotal: cases.length,
        spendUsd: run.spentUsd,
        message: `golden: ${summary.passed} of ${summary.cases} passed (${(summary.pass_rate * 100).toFixed(1)} %), weighted failures ${summary.weighted_failures}${graded.notes.length ? `; ${graded.notes.join(' ')}` : ''}`,
        detail: { ...summary, failures: summary.failures.slice(0, 20), run_id: run.runId },
      }
    },
  }
}
