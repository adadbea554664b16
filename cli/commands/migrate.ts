// driftwatch migrate: apply the numbered migrations in sql/migrations, or print them.
// With clickhouse.cluster (or --cluster) the cluster variant is applied: ON CLUSTER,
// Replicated engines and Distributed tables (store/cluster-ddl.ts, docs/scaling.md).

import { ClickHouseConfigSchema } from '../../config/schema.ts'
import { ConfigError } from '../../lib/errors.ts'
import { loadMigrations, migrate, migrationScript } from '../../store/migrate.ts'
import { parseCommandArgs } from '../args.ts'
import { type AppContext, appContext, openStore } from '../context.ts'
import type { Command } from '../io.ts'

const USAGE = 'driftwatch migrate [--config FILE] [--cluster NAME] [--print]'

const OPTIONS = {
  cluster: { type: 'string' },
  print: { type: 'boolean' },
} as const

export const migrateCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs('migrate', argv, OPTIONS, USAGE)
  if (values.help) return usage(io.stdout)
  const ctx = withCluster(appContext(io, values.config), values.cluster)
  const { cluster, database } = ctx.config.clickhouse
  if (values.print) {
    // Nothing is opened: the script is what `migrate` would run on an empty database.
    io.stdout(migrationScript(loadMigrations(), cluster ? { cluster, database } : undefined))
    return 0
  }
  const store = await openStore(ctx)
  try {
    const result = await migrate(store, ctx.log)
    const where = `${store.kind}: ${store.location}${store.cluster ? `, cluster ${store.cluster}` : ''}`
    io.stdout(
      result.applied.length > 0
        ? `applied ${result.applied.join(', ')}; schema at version ${result.current} (${where})\n`
        : `schema up to date at version ${result.current} (${where})\n`,
    )
    return 0
  } finally {
    await store.close()
  }
}

/** --cluster NAME stands for clickhouse.cluster, validated by the same schema rule. */
function withCluster(ctx: AppContext, cluster: string | undefined): AppContext {
  if (cluster === undefined) return ctx
  const checked = ClickHouseConfigSchema.shape.cluster.safeParse(cluster)
  if (!checked.success) {
    throw new ConfigError(`--cluster ${JSON.stringify(cluster)}: ${checked.error.issues[0]?.message}`, {
      fix: `usage: ${USAGE}`,
    })
  }
  return { ...ctx, config: { ...ctx.config, clickhouse: { ...ctx.config.clickhouse, cluster } } }
}

function usage(out: (t: string) => void): number {
  out(`${USAGE}\n`)
  return 0
}
