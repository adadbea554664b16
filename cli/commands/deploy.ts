// driftwatch deploy: the model-version rollout history (list, history, mark-stable,
// mark-rolled-back, mark-retired, last-stable). Writes go through the running instance's
// local endpoint when one owns the embedded store (one process per chDB folder), else this
// process opens the store itself.

import { hostname, userInfo } from 'node:os'
import { type DeploymentsApi, storeDeployments } from '../../deploy/api.ts'
import { httpDeployments } from '../../deploy/http-client.ts'
import type { Deployment, MarkResult, MarkStatus } from '../../deploy/status.ts'
import { ConfigError } from '../../lib/errors.ts'
import { migrate } from '../../store/migrate.ts'
import { choiceFlag, parseCommandArgs } from '../args.ts'
import { type AppContext, appContext, reachStore } from '../context.ts'
import type { Command } from '../io.ts'
import { renderTable } from '../table.ts'

const USAGE = `driftwatch deploy <subcommand> [flags]

  list                         versions and their current status (detects new versions from traffic first)
  history [VERSION]            every status change, oldest first
  mark-stable VERSION          the version is good: it becomes the rollback target of later versions
  mark-rolled-back VERSION     the version was rolled back: never a rollback target again
  mark-retired VERSION         the version is gone: never a rollback target again
  last-stable [--excluding V]  print the rollback target (exit 1 when there is none)

flags: --note TEXT, --by NAME (default user@host), --force (mark a version never seen in traffic),
       --format table|json, --config FILE`

const MARKS: Record<string, MarkStatus> = {
  'mark-stable': 'stable',
  'mark-rolled-back': 'rolled_back',
  'mark-retired': 'retired',
}
const SUBCOMMANDS = ['list', 'history', 'last-stable', ...Object.keys(MARKS)]

export const deployCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    'deploy',
    argv,
    {
      note: { type: 'string' },
      by: { type: 'string' },
      force: { type: 'boolean' },
      excluding: { type: 'string' },
      format: { type: 'string', short: 'f' },
    },
    USAGE,
  )
  const [sub, ...args] = positionals
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  if (!sub) {
    io.stderr(`driftwatch deploy: no subcommand given\n\n${USAGE}\n`)
    return 2
  }
  if (!SUBCOMMANDS.includes(sub)) {
    throw new ConfigError(`driftwatch deploy: unknown subcommand ${JSON.stringify(sub)}`, {
      fix: `use one of ${SUBCOMMANDS.join(', ')}`,
    })
  }
  const mark = MARKS[sub]
  const allowed = new Set([
    'config',
    'help',
    'format',
    ...(mark ? ['note', 'by', 'force'] : []),
    ...(sub === 'last-stable' ? ['excluding'] : []),
  ])
  for (const flag of Object.keys(values)) {
    if (!allowed.has(flag))
      throw new ConfigError(`driftwatch deploy ${sub} does not take --${flag}`, { fix: `usage: ${USAGE}` })
  }
  const maxArgs = mark ? 1 : sub === 'history' ? 1 : 0
  if (args.length > maxArgs)
    throw new ConfigError(`driftwatch deploy ${sub}: unexpected argument ${JSON.stringify(args[maxArgs])}`)
  if (mark && args.length === 0) {
    throw new ConfigError(`driftwatch deploy ${sub}: no VERSION given`, {
      fix: `e.g. driftwatch deploy ${sub} v2 --note "canary healthy for 24h"`,
    })
  }
  const format = choiceFlag('format', values.format, ['table', 'json'] as const, 'table')
  const ctx = appContext(io, values.config)

  return withDeployments(ctx, async (api) => {
    if (mark) {
      const result = await api.mark(args[0]!, mark, {
        note: values.note,
        by: values.by ?? whoAmI(io.env),
        force: values.force,
      })
      io.stdout(format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : describeMark(result))
      return 0
    }
    if (sub === 'last-stable') {
      const target = await api.lastStable(values.excluding)
      if (format === 'json') io.stdout(`${JSON.stringify(target ?? null, null, 2)}\n`)
      else if (target) io.stdout(`${target.model_version}\n`)
      if (!target)
        io.stderr(
          `driftwatch: no stable version recorded${values.excluding ? ` other than ${values.excluding}` : ''}\n  fix: mark one with \`driftwatch deploy mark-stable VERSION\`\n`,
        )
      return target ? 0 : 1
    }
    if (sub === 'history') {
      const changes = await api.history(args[0])
      io.stdout(format === 'json' ? `${JSON.stringify(changes, null, 2)}\n` : deploymentTable(changes))
      return 0
    }
    await api.detect()
    const deployments = await api.list()
    io.stdout(format === 'json' ? `${JSON.stringify(deployments, null, 2)}\n` : deploymentTable(deployments))
    return 0
  })
}

/**
 * Runs `fn` against the instance that owns the embedded store when there is one, else
 * against the store opened (and migrated) here.
 */
export async function withDeployments<T>(
  ctx: AppContext,
  fn: (api: DeploymentsApi) => Promise<T>,
): Promise<T> {
  return reachStore(
    ctx,
    (url, headers) => fn(httpDeployments(url, fetch, headers)),
    async (store) => {
      // A command may be the first to touch a fresh folder: the table must exist.
      await migrate(store, ctx.log)
      return fn(storeDeployments(store))
    },
  )
}

export function whoAmI(env: NodeJS.ProcessEnv): string {
  let user = env.USER ?? env.USERNAME ?? ''
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (some containers): the environment's name, if any, will do.
  }
  return `${user || 'unknown'}@${hostname()}`
}

function describeMark(result: MarkResult): string {
  const d = result.deployment
  if (!result.changed)
    return `${d.model_version} is already ${d.status} (since ${d.marked_at}); nothing written\n`
  return `${d.model_version}: ${result.previous_status ?? 'unrecorded'} -> ${d.status} at ${d.marked_at}${d.marked_by ? ` by ${d.marked_by}` : ''}\n`
}

function deploymentTable(rows: Deployment[]): string {
  const header = ['model_version', 'status', 'first_seen', 'marked_at', 'marked_by', 'note']
  const lines = [
    header,
    ...rows.map((r) => [r.model_version, r.status, r.first_seen, r.marked_at, r.marked_by, r.note]),
  ]
  return renderTable(lines.map((line) => JSON.stringify(line)).join('\n'))
}
