// driftwatch jobs: the scheduler from the command line, with the jobs `driftwatch start`
// runs: scoring (refusal, llama_guard, judge) first, then detect_versions and evaluate
// (jobs/evaluate/monitor-jobs.ts).
//   jobs                 run the scheduler in the foreground (owns the store) until stopped
//   jobs list            the jobs, their schedules and last runs
//   jobs run <name>      one job once, then exit (non-zero if it failed)
//   jobs run-all --once  every job once in dependency order (scoring first); non-zero if one failed

import { monitorJobs } from '../../jobs/evaluate/monitor-jobs.ts'
import { LAST_RUN_PER_JOB_SQL } from '../../jobs/job-runs.ts'
import { formatDuration, formatJobProgress, formatUsd } from '../../jobs/progress.ts'
import type { JobDefinition } from '../../jobs/registry.ts'
import type { RunResult, Scheduler } from '../../jobs/scheduler.ts'
import { createJobsScheduler, plannedJobs, startJobs } from '../../jobs/start-jobs.ts'
import { ConfigError, errorMessage } from '../../lib/errors.ts'
import { migrate } from '../../store/migrate.ts'
import type { Store } from '../../store/store.ts'
import { choiceFlag, parseCommandArgs } from '../args.ts'
import { type AppContext, appContext, openStore } from '../context.ts'
import { type CliIO, type Command, untilAborted } from '../io.ts'
import { type MonitorSet, monitorSet } from '../monitor-set.ts'
import { ownStore } from '../owner.ts'
import { renderTable } from '../table.ts'
import { runReadOnly } from './sql.ts'

const USAGE = `driftwatch jobs                       run the scheduler in the foreground until Ctrl-C
driftwatch jobs list [--format table|json]
driftwatch jobs run <name>            run one job once and exit
driftwatch jobs run-all --once        run every job once, in dependency order, and exit
  flags: --config FILE`

export const jobsCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    'jobs',
    argv,
    { once: { type: 'boolean' }, format: { type: 'string', short: 'f' } },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const [sub, ...rest] = positionals
  const ctx = appContext(io, values.config)
  switch (sub) {
    case undefined:
      return runForeground(ctx, io)
    case 'list':
      return list(ctx, io, choiceFlag('format', values.format, ['table', 'json'] as const, 'table'))
    case 'run': {
      const [name, ...extra] = rest
      if (!name || extra.length > 0) {
        throw new ConfigError('driftwatch jobs run: name exactly one job', {
          fix: 'e.g. driftwatch jobs run judge; see driftwatch jobs list',
        })
      }
      const disabled = plannedJobs(ctx.config).find((j) => j.name === name && !j.enabled)
      if (disabled) {
        throw new ConfigError(`driftwatch jobs run: ${name} is not enabled`, {
          fix: `set scorers.${name}.enabled: true${name === 'refusal' ? '' : ' (with base_url and model)'} in driftwatch.yaml`,
        })
      }
      if (name === 'shadow' && !ctx.config.shadow.enabled)
        throw new ConfigError('driftwatch jobs run: shadow is not enabled', {
          fix: 'set shadow.enabled: true in driftwatch.yaml (docs/shadow.md)',
        })
      return runOneOff(ctx, io, name === 'evaluate', (s) =>
        s.runOnce(name, { signal: io.signal }).then((r) => [r]),
      )
    }
    case 'run-all':
      if (!values.once) {
        throw new ConfigError('driftwatch jobs run-all needs --once', {
          fix: 'run driftwatch jobs run-all --once; driftwatch jobs runs them on their schedules',
        })
      }
      return runOneOff(ctx, io, true, (s) => s.runAll({ signal: io.signal }).then((r) => r.results))
    default:
      throw new ConfigError(`driftwatch jobs: unknown sub-command ${JSON.stringify(sub)}`, {
        fix: `usage:\n${USAGE}`,
      })
  }
}

async function runForeground(ctx: AppContext, io: CliIO): Promise<number> {
  const owned = await ownStore(ctx, 'jobs')
  let scheduler: Scheduler | undefined
  let monitor: MonitorSet | undefined
  try {
    monitor = await monitorSet(ctx, io, owned.store, true)
    scheduler = await startJobs({
      store: owned.store,
      config: ctx.config,
      log: ctx.log,
      env: io.env,
      cwd: io.cwd,
      signal: io.signal,
      jobs: monitor.jobs,
      onProgress: (r) => {
        io.stderr(`${formatJobProgress(r)}\n`)
        owned.telemetry.onJobReport(r)
      },
    })
    const registry = scheduler.registry
    const names = registry.list().map((j) => `${j.name} (${registry.schedule(j.name)})`)
    io.stderr(
      `jobs: scheduled ${names.join(', ') || 'nothing'}; store ${owned.store.kind} ${owned.store.location}; Ctrl-C stops\n`,
    )
    await untilAborted(io.signal)
    return 0
  } finally {
    await scheduler?.stop()
    await monitor?.close()
    await owned.close()
  }
}

async function runOneOff(
  ctx: AppContext,
  io: CliIO,
  mayEvaluate: boolean,
  run: (s: Scheduler) => Promise<RunResult[]>,
): Promise<number> {
  const store = await openStore(ctx)
  let monitor: MonitorSet | undefined
  try {
    await migrate(store, ctx.log)
    monitor = await monitorSet(ctx, io, store, mayEvaluate)
    const scheduler = await createJobsScheduler({
      store,
      config: ctx.config,
      log: ctx.log,
      env: io.env,
      cwd: io.cwd,
      jobs: monitor.jobs,
      onProgress: (r) => io.stderr(`${formatJobProgress(r)}\n`),
    })
    const results = await run(scheduler)
    for (const r of results) io.stdout(`${formatResult(r)}\n`)
    if (io.signal.aborted) return 130
    return results.every((r) => r.status === 'ok' || r.status === 'degraded') ? 0 : 1
  } finally {
    await monitor?.close()
    await store.close()
  }
}

export function formatResult(r: RunResult): string {
  const rows = r.rowsTotal > 0 || r.rowsDone > 0 ? `${r.rowsDone}/${r.rowsTotal} rows` : '0 rows'
  return [
    r.job.padEnd(15),
    r.status.padEnd(8),
    rows,
    `$${formatUsd(r.spendUsd)}`,
    formatDuration(r.durationMs),
    r.message,
  ].join('  ')
}

async function list(ctx: AppContext, io: CliIO, format: 'table' | 'json'): Promise<number> {
  const planned = [...plannedJobs(ctx.config), ...listedMonitorJobs(ctx, io)]
  let lastRuns: Record<string, Record<string, unknown>> = {}
  let note = ''
  try {
    const exists = await runReadOnly(
      ctx,
      "SELECT 1 FROM system.tables WHERE database = currentDatabase() AND name = 'job_runs'",
      {},
      'JSONEachRow',
    )
    if (exists.trim() === '') {
      note = '(no runs yet: the first job run, or driftwatch migrate, creates the job_runs table)\n'
    } else {
      const text = await runReadOnly(ctx, LAST_RUN_PER_JOB_SQL, {}, 'JSONEachRow')
      lastRuns = Object.fromEntries(
        text
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .map((r) => [String(r.job), r]),
      )
    }
  } catch (error) {
    note = `(no run history: ${errorMessage(error).split('\n')[0]})\n`
  }
  const rows = planned.map((j) => {
    const last = lastRuns[j.name]
    return {
      job: j.name,
      enabled: j.enabled,
      schedule: j.schedule,
      last_run: last ? String(last.started_at) : null,
      last_status: last ? String(last.status) : null,
      last_rows: last ? `${last.rows_done}/${last.rows_total}` : null,
      last_message: last ? String(last.message) : null,
      description: j.description,
    }
  })
  if (format === 'json') {
    io.stdout(`${JSON.stringify(rows, null, 2)}\n`)
    return 0
  }
  const header = Object.keys(rows[0]!)
  const compact = [JSON.stringify(header), ...rows.map((r) => JSON.stringify(Object.values(r)))].join('\n')
  io.stdout(renderTable(compact) + note)
  return 0
}

/** The rule jobs as `jobs list` shows them, built over a store that listing never touches. */
function listedMonitorJobs(ctx: AppContext, io: CliIO) {
  const unused = new Proxy({} as Store, {
    get() {
      throw new Error('listing only: the store is not open')
    },
  })
  const jobs = monitorJobs({ config: ctx.config, store: unused, env: io.env, log: ctx.log })
  return jobs.map((j) => ({
    name: j.name,
    enabled: true,
    schedule: ctx.config.jobs.schedule[j.name] ?? j.defaultSchedule,
    description: j.description,
  }))
}
