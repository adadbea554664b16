// driftwatch sql "<query>": ad hoc, read-only investigation. Goes through the running
// instance's local endpoint when one owns the embedded store, else opens the store itself.
// Read-only is ClickHouse's own `readonly` setting; a bad query gets ClickHouse's message.

import { ConfigError, DriftwatchError } from '../../lib/errors.ts'
import type { ReadOnlyFormat } from '../../store/store.ts'
import { choiceFlag, parseCommandArgs } from '../args.ts'
import { appContext, reachStore } from '../context.ts'
import type { Command } from '../io.ts'
import { renderTable } from '../table.ts'

const USAGE = 'driftwatch sql "<query>" [--format table|json|csv] [--param name=value ...] [--config FILE]'
const FORMATS = {
  table: 'JSONCompactEachRowWithNames',
  json: 'JSONEachRow',
  csv: 'CSVWithNames',
} as const satisfies Record<string, ReadOnlyFormat>

export const sqlCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    'sql',
    argv,
    { format: { type: 'string', short: 'f' }, param: { type: 'string', multiple: true } },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const query = positionals.join(' ').trim()
  if (!query) throw new ConfigError('driftwatch sql: no query given', { fix: `usage: ${USAGE}` })
  const format = choiceFlag('format', values.format, ['table', 'json', 'csv'] as const, 'table')
  const params = parseParams(values.param)
  const ctx = appContext(io, values.config)
  const text = await runReadOnly(ctx, query, params, FORMATS[format])
  if (format === 'json') io.stdout(`${jsonArray(text)}\n`)
  else if (format === 'table') io.stdout(renderTable(text))
  else io.stdout(text.endsWith('\n') || text === '' ? text : `${text}\n`)
  return 0
}

export async function runReadOnly(
  ctx: ReturnType<typeof appContext>,
  query: string,
  params: Record<string, unknown>,
  format: ReadOnlyFormat,
): Promise<string> {
  return reachStore(
    ctx,
    (url, headers) => viaInstance(url, headers, query, params, format),
    (store) => store.queryReadOnly(query, params, format),
  )
}

async function viaInstance(
  url: string,
  headers: Record<string, string>,
  query: string,
  params: Record<string, unknown>,
  format: ReadOnlyFormat,
): Promise<string> {
  const response = await fetch(`${url}/sql`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ query, params, format }),
  })
  const text = await response.text()
  if (response.ok) return text
  let detail: { error?: string; code?: string } = {}
  try {
    detail = JSON.parse(text)
  } catch {
    detail = { error: text }
  }
  throw new DriftwatchError(detail.code ?? 'SQL_FAILED', detail.error ?? `HTTP ${response.status}`)
}

function parseParams(list: string[] | undefined): Record<string, string> {
  const params: Record<string, string> = {}
  for (const item of list ?? []) {
    const eq = item.indexOf('=')
    if (eq <= 0)
      throw new ConfigError(`--param ${JSON.stringify(item)} is not name=value`, {
        fix: 'pass e.g. --param segment=invoice_extraction',
      })
    params[item.slice(0, eq)] = item.slice(eq + 1)
  }
  return params
}

function jsonArray(jsonEachRow: string): string {
  const rows = jsonEachRow
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line))
  return JSON.stringify(rows, null, 2)
}
