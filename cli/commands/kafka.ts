// `driftwatch kafka up|down|status`: a local Kafka broker for the demo, with no Docker.
// `up` prints `KAFKA_BROKERS=host:port` on stdout (eval-able); progress goes to stderr.

import { kafkaDown, kafkaStatus, kafkaUp, type StateOptions } from '../../infra/kafka-local.ts'
import { DriftwatchError, errorMessage } from '../../lib/errors.ts'
import { createLogger } from '../../lib/log.ts'
import type { Command } from '../io.ts'

const USAGE = `usage: driftwatch kafka <up|down|status>
  up       start a local single-node Kafka broker (KRaft), or reuse the running one;
           prints KAFKA_BROKERS=127.0.0.1:PORT
  down     stop it (its data is kept for the next up)
  status   say whether it is running
state directory: $DRIFTWATCH_KAFKA_DIR, default ./.driftwatch/kafka
`

export const kafkaCommand: Command = async (argv, io) => {
  const sub = argv[0]
  if (argv.length !== 1 || (sub !== 'up' && sub !== 'down' && sub !== 'status')) {
    io.stderr(USAGE)
    return 2
  }
  const log = createLogger({ write: io.stderr, fields: { component: 'kafka' } })
  const options: StateOptions = { cwd: io.cwd, env: io.env, log, signal: io.signal }
  try {
    if (sub === 'up') {
      const { brokers, pid, reused } = await kafkaUp(options)
      log.info(reused ? 'Kafka broker already running' : 'Kafka broker started', { brokers, pid })
      io.stdout(`KAFKA_BROKERS=${brokers}\n`)
    } else if (sub === 'down') {
      const { stopped } = await kafkaDown(options)
      log.info(stopped ? 'Kafka broker stopped' : 'no Kafka broker was running')
    } else {
      const status = await kafkaStatus(options)
      io.stdout(
        status.running ? `running KAFKA_BROKERS=${status.brokers} pid=${status.pid}\n` : 'not running\n',
      )
      return status.running ? 0 : 3
    }
    return 0
  } catch (error) {
    io.stderr(`error: ${errorMessage(error)}\n`)
    if (error instanceof DriftwatchError && error.fix) io.stderr(`fix: ${error.fix}\n`)
    return 1
  }
}
