// driftwatch migrate: apply the numbered migrations in sql/migrations.

import { migrate } from '../../store/migrate.ts'
import { parseCommandArgs } from '../args.ts'
import { appContext, openStore } from '../context.ts'
import type { Command } from '../io.ts'

const USAGE = 'driftwatch migrate [--config FILE]'

export const migrateCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs('migrate', argv, {}, USAGE)
  if (values.help) return usage(io.stdout)
  const ctx = appContext(io, values.config)
  const store = await openStore(ctx)
  try {
    const result = await migrate(store, ctx.log)
    io.stdout(
      result.applied.length > 0
        ? `applied ${result.applied.join(', ')}; schema at version ${result.current} (${store.kind}: ${store.location})\n`
        : `schema up to date at version ${result.current} (${store.kind}: ${store.location})\n`,
    )
    return 0
  } finally {
    await store.close()
  }
}

function usage(out: (t: string) => void): number {
  out(`${USAGE}\n`)
  return 0
}
