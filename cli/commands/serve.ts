// driftwatch serve: only the HTTP endpoint (verdicts, read-only SQL, deployments) over the
// store, without ingest or jobs — for a read replica of a ClickHouse server, or to look at
// an embedded store that nothing else is writing.

import { parseCommandArgs } from '../args.ts'
import { appContext } from '../context.ts'
import { type Command, untilAborted } from '../io.ts'
import { ownStore } from '../owner.ts'

const USAGE = 'driftwatch serve [--config FILE]'

export const serveCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs('serve', argv, {}, USAGE)
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const ctx = appContext(io, values.config)
  const owned = await ownStore(ctx, 'serve')
  try {
    io.stderr(
      `serve: ${owned.server.url} (dashboard at /, GET /health, /ready, /metrics, /verdict?version=V, POST /sql, GET /deployments); Ctrl-C stops\n`,
    )
    await untilAborted(io.signal)
    return 0
  } finally {
    await owned.close()
  }
}
