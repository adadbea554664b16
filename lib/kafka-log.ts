// How loud a kafkajs log line should be. kafkajs logs at ERROR every broker answer it then
// retries or handles itself ("The coordinator is loading...", "not the leader", a group
// rebalancing): normal answers of a broker that is starting or moving partitions, not
// news. They go to debug; what kafkajs gives up on reaches driftwatch's code as an
// exception and is logged there. Decided by kafkajs's own protocol error table (its
// `retriable` flag), not by a list of our own.

import { createRequire } from 'node:module'
import type { LogLevel } from './log.ts'

interface ProtocolErrorCode {
  type: string
  code: number
  retriable: boolean
  message: string
}

const require = createRequire(import.meta.url)
const { errorCodes } = require('kafkajs/src/protocol/error.js') as { errorCodes: ProtocolErrorCode[] }

// Not retriable in kafkajs's table, but handled by its consumer (it re-joins the group).
const HANDLED = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'NOT_COORDINATOR',
])

const ROUTINE_MESSAGES = errorCodes.filter((e) => e.retriable || HANDLED.has(e.type)).map((e) => e.message)

/** kafkajs levels: 1 ERROR, 2 WARN, 4 INFO, 5 DEBUG. */
export function kafkaLogLevel(
  kafkaLevel: number,
  message: string,
  fields: Record<string, unknown>,
): LogLevel {
  const base: LogLevel = kafkaLevel <= 1 ? 'error' : kafkaLevel === 2 ? 'warn' : 'debug'
  if (base === 'debug') return base
  // A crash ends the consumer's run loop: always worth telling, whatever its cause.
  if (message.startsWith('Crash:')) return base
  const error = typeof fields.error === 'string' ? fields.error : ''
  const routine = ROUTINE_MESSAGES.some((m) => error === m || message.includes(m))
  return routine ? 'debug' : base
}
