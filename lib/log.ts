// Structured logs on stderr, so stdout stays free for command output: one JSON object per
// line (DRIFTWATCH_LOG_FORMAT=json, the default) or one aligned `time LEVEL msg key=value`
// line for people (pretty). Both carry the same fields. No secrets and no raw user text at
// info level: callers log ids and counts.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'json' | 'pretty'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

export interface LoggerOptions {
  level?: LogLevel
  /** Default env DRIFTWATCH_LOG_FORMAT, else json. */
  format?: LogFormat
  /** Where lines go; defaults to process.stderr. */
  write?: (line: string) => void
  fields?: Record<string, unknown>
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? parseLevel(process.env.DRIFTWATCH_LOG_LEVEL) ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const base = options.fields ?? {}
  const format = options.format ?? parseFormat(process.env.DRIFTWATCH_LOG_FORMAT)
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < threshold) return
    const record = { time: new Date().toISOString(), level, msg, ...base, ...fields }
    write(format === 'pretty' ? `${prettyLine(record)}\n` : `${JSON.stringify(record, replaceErrors)}\n`)
  }
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  }
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger
  },
}

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value && value in ORDER ? (value as LogLevel) : undefined
}

function parseFormat(value: string | undefined): LogFormat {
  return value === 'pretty' ? 'pretty' : 'json'
}

/** `2026-12-02T05:44:30.123Z WARN  msg key=value key="with space"`: same fields as JSON. */
export function prettyLine(
  record: { time: string; level: LogLevel; msg: string } & Record<string, unknown>,
): string {
  const { time, level, msg, ...fields } = record
  const pairs = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const text = typeof v === 'string' ? v : JSON.stringify(v, replaceErrors)
      return `${k}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`
    })
  return [time, level.toUpperCase().padEnd(5), msg, ...pairs].join(' ')
}

function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message }
  if (typeof value === 'bigint') return value.toString()
  return value
}
