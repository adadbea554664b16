// @clickhouse/client logs each failed request itself, at ERROR, straight to the console: the
// request's settings, query id and a stack trace, unstructured, on top of the typed StoreError
// driftwatch throws and reports. Over HTTP (a server store) every bad query an operator types
// into `driftwatch sql` printed that block before driftwatch's own one-line message. This hands
// the client's log to lib/log.ts at debug instead: the error reaches the user once, as the
// typed error, and DRIFTWATCH_LOG_LEVEL=debug still shows what the client saw.

import { ClickHouseLogLevel, type Logger as ClientLogger, type WarnLogParams } from '@clickhouse/client'
import { errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'

export interface ClientLogOptions {
  LoggerClass: new () => ClientLogger
  level: ClickHouseLogLevel
}

/** The client's `log` option: its warnings and errors as debug lines of `log` (nothing on the console). */
export function clientLogTo(log: Logger): ClientLogOptions {
  const forward = ({ module, message, err }: WarnLogParams): void =>
    log.debug(`clickhouse client: ${message}`, {
      client_module: module,
      ...(err ? { error: errorMessage(err) } : {}),
    })
  class ToDriftwatchLog implements ClientLogger {
    trace = forward
    debug = forward
    info = forward
    warn = forward
    error = forward
  }
  return { LoggerClass: ToDriftwatchLog, level: ClickHouseLogLevel.WARN }
}
