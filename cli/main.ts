// The `driftwatch` command: dispatches to one module per sub-command and turns typed
// errors into one clear message and a non-zero exit code. No stack traces for users.

import { ConfigError, DriftwatchError, errorMessage } from '../lib/errors.ts'
import { backtestCommand } from './commands/backtest.ts'
import { contractCommand } from './commands/contract.ts'
import { demoCommand } from './commands/demo.ts'
import { deployCommand } from './commands/deploy.ts'
import { experimentCommand } from './commands/experiment.ts'
import { ingestCommand } from './commands/ingest.ts'
import { jobsCommand } from './commands/jobs.ts'
import { kafkaCommand } from './commands/kafka.ts'
import { migrateCommand } from './commands/migrate.ts'
import { planCommand } from './commands/plan.ts'
import { produceCommand } from './commands/produce.ts'
import { queryCommand } from './commands/query.ts'
import { replayCommand } from './commands/replay.ts'
import { reviewCommand } from './commands/review.ts'
import { serveCommand } from './commands/serve.ts'
import { shadowCommand } from './commands/shadow.ts'
import { sqlCommand } from './commands/sql.ts'
import { startCommand } from './commands/start.ts'
import { statusCommand } from './commands/status.ts'
import { type CliIO, type Command, processIO } from './io.ts'

const COMMANDS: Record<string, { run: Command; help: string }> = {
  demo: {
    run: demoCommand,
    help: 'local broker + embedded store + synthetic traffic + the monitor (npm start)',
  },
  start: {
    run: startCommand,
    help: 'run the monitor: ingest, jobs and the local HTTP endpoint, in one process',
  },
  ingest: { run: ingestCommand, help: 'consume interactions from Kafka into ClickHouse' },
  jobs: {
    run: jobsCommand,
    help: 'scheduled jobs (scoring, detect_versions, shadow, evaluate): run them | list | run <name> | run-all --once',
  },
  review: {
    run: reviewCommand,
    help: 'human review of scored samples: export | import FILE | stats (judge-vs-human kappa)',
  },
  produce: { run: produceCommand, help: 'produce synthetic interactions (demos, benchmarks)' },
  sql: { run: sqlCommand, help: 'ad hoc read-only SQL on the store' },
  backtest: {
    run: backtestCommand,
    help: 'replay the rules as of each step over stored history, no sinks: [--from T] [--to T] [--step 1m] [--change-at T]',
  },
  shadow: {
    run: shadowCommand,
    help: 'shadow deployments: report (divergence, latency and cost of shadow vs production)',
  },
  status: { run: statusCommand, help: "traffic per scope and every rule's state: current value vs baseline" },
  serve: {
    run: serveCommand,
    help: 'only the HTTP endpoint: /verdict for deploy controllers, /sql, /deployments',
  },
  query: { run: queryCommand, help: 'saved investigation queries (sql/queries): list | NAME --param k=v' },
  deploy: {
    run: deployCommand,
    help: 'model-version rollout history: list | mark-stable | mark-rolled-back | last-stable',
  },
  experiment: {
    run: experimentCommand,
    help: 'A/B experiments from config: list | plan NAME | analyze NAME (SRM, per-scope tests, decision)',
  },
  plan: {
    run: planCommand,
    help: 'sample size and duration a canary needs: --baseline 0.76 --mde 0.05 --daily 2000',
  },
  replay: {
    run: replayCommand,
    help: 'recorded traffic (--select) or a golden suite (--suite) against a candidate endpoint; exit 1 on regression',
  },
  migrate: { run: migrateCommand, help: 'apply the numbered migrations in sql/migrations' },
  kafka: { run: kafkaCommand, help: 'local Apache Kafka broker for demo, tests and CI: up | down | status' },
  contract: {
    run: contractCommand,
    help: 'the interaction contract for producers: print --format json-schema|avro|proto',
  },
}

/** Every sub-command name, in the order `driftwatch --help` lists them. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS)

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length))
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.help}`)
  return `usage: driftwatch <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nevery command takes --config FILE (default ./driftwatch.yaml, env DRIFTWATCH_CONFIG) and --help\n`
}

export async function main(argv: string[], io?: CliIO): Promise<number> {
  const controller = new AbortController()
  const ownIO = io ?? processIO(controller.signal)
  const detach = io ? () => {} : handleSignals(controller)
  try {
    const [name, ...rest] = argv
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      ownIO.stdout(usage())
      return name ? 0 : 2
    }
    const command = COMMANDS[name]
    if (!command) {
      ownIO.stderr(`driftwatch: unknown command ${JSON.stringify(name)}\n\n${usage()}`)
      return 2
    }
    return await command.run(rest, ownIO)
  } catch (error) {
    ownIO.stderr(describeError(error))
    return error instanceof ConfigError ? 2 : 1
  } finally {
    detach()
  }
}

export function describeError(error: unknown): string {
  if (error instanceof DriftwatchError) {
    return `driftwatch: ${error.message}\n${error.fix ? `  fix: ${error.fix}\n` : ''}`
  }
  if (process.env.DRIFTWATCH_DEBUG && error instanceof Error) return `driftwatch: ${error.stack}\n`
  return `driftwatch: ${errorMessage(error)}\n  (set DRIFTWATCH_DEBUG=1 for a stack trace)\n`
}

/** First SIGINT/SIGTERM: stop cleanly (flush, commit). Second one: exit now. */
function handleSignals(controller: AbortController): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`driftwatch: second ${signal}, exiting without cleanup\n`)
      process.exit(130)
    }
    process.stderr.write(`driftwatch: ${signal} received, finishing the batch in flight and stopping\n`)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
