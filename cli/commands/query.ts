// driftwatch query [NAME]: lists the saved investigation queries (sql/queries/*.sql and the
// metric queries rendered from the registry, queries/metric-queries.ts), or
// runs one with checked, typed --param values. Runs read-only, like `driftwatch sql`,
// through the running instance when one owns the embedded store.

import { ConfigError } from '../../lib/errors.ts'
import { findSavedQuery, loadSavedQueries, QUERIES_DIR } from '../../queries/catalog.ts'
import { bindParams, parseParamFlags } from '../../queries/params.ts'
import { parseJsonEachRow } from '../../queries/run.ts'
import type { ParamSpec, SavedQuery } from '../../queries/saved-query.ts'
import type { ReadOnlyFormat } from '../../store/store.ts'
import { choiceFlag, listFlag, parseCommandArgs } from '../args.ts'
import { appContext } from '../context.ts'
import type { Command } from '../io.ts'
import { renderTable } from '../table.ts'
import { runReadOnly } from './sql.ts'

const USAGE =
  'driftwatch query [NAME [--param name=value ...]] [--format table|json|csv] [--dir DIR ...] [--config FILE]'
const FORMATS = {
  table: 'JSONCompactEachRowWithNames',
  json: 'JSONEachRow',
  csv: 'CSVWithNames',
} as const satisfies Record<string, ReadOnlyFormat>

export const queryCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    'query',
    argv,
    {
      param: { type: 'string', multiple: true, short: 'p' },
      format: { type: 'string', short: 'f' },
      dir: { type: 'string', multiple: true },
    },
    USAGE,
  )
  const [name, ...extra] = positionals
  if (extra.length > 0) {
    throw new ConfigError(`driftwatch query: unexpected argument ${JSON.stringify(extra[0])}`, {
      fix: 'pass params as --param name=value',
    })
  }
  if (values.help && !name) {
    io.stdout(`${USAGE}\n\nWithout NAME: lists the saved queries. Shipped ones live in ${QUERIES_DIR}.\n`)
    return 0
  }
  const queries = loadSavedQueries([QUERIES_DIR, ...(listFlag(values.dir) ?? [])])
  const format = choiceFlag('format', values.format, ['table', 'json', 'csv'] as const, 'table')
  if (!name) {
    io.stdout(listing(queries, format))
    return 0
  }
  const query = findSavedQuery(queries, name)
  if (values.help) {
    io.stdout(describe(query))
    return 0
  }
  const raw = parseParamFlags(listFlag(values.param), query.name)
  const params = bindParams(query, raw, Date.now())
  const ctx = appContext(io, values.config)
  // Array(String) values stay JS arrays, so that the client writes a correctly escaped array literal.
  const text = await runReadOnly(ctx, query.sql, params, FORMATS[format])
  if (format === 'json') io.stdout(`${JSON.stringify(parseJsonEachRow(text), null, 2)}\n`)
  else if (format === 'table') io.stdout(renderTable(text))
  else io.stdout(text.endsWith('\n') || text === '' ? text : `${text}\n`)
  return 0
}

function paramSummary(p: ParamSpec): string {
  return p.default === undefined
    ? `${p.name} ${p.type} (required)`
    : `${p.name} ${p.type} = ${p.default === '' ? "''" : p.default}`
}

function listing(queries: SavedQuery[], format: 'table' | 'json' | 'csv'): string {
  if (format === 'json') {
    const rows = queries.map((q) => ({
      name: q.name,
      description: q.description,
      params: q.params.map((p) => ({
        name: p.name,
        type: p.type,
        default: p.default ?? null,
        description: p.description,
      })),
      file: q.file,
    }))
    return `${JSON.stringify(rows, null, 2)}\n`
  }
  if (format === 'csv') {
    const cell = (s: string) => `"${s.replace(/"/g, '""')}"`
    return `${['"name","description","params"', ...queries.map((q) => [q.name, q.description, q.params.map(paramSummary).join('; ')].map(cell).join(','))].join('\n')}\n`
  }
  const nameWidth = Math.max(0, ...queries.flatMap((q) => q.params.map((p) => p.name.length)))
  const typeWidth = Math.max(0, ...queries.flatMap((q) => q.params.map((p) => p.type.length)))
  const defaultWidth = Math.max(10, ...queries.flatMap((q) => q.params.map((p) => defaultLabel(p).length)))
  const blocks = queries.map((q) => {
    const params = q.params.map(
      (p) =>
        `    ${p.name.padEnd(nameWidth)}  ${p.type.padEnd(typeWidth)}  ${defaultLabel(p).padEnd(defaultWidth)}  ${p.description}`,
    )
    return [`${q.name}: ${q.description}`, ...params].join('\n')
  })
  return `${blocks.join('\n\n')}\n\nrun one: driftwatch query NAME --param name=value ...   (details and SQL: driftwatch query NAME --help)\n`
}

/** `[-1h]` for a default, `['']` for an empty one, `(required)` for none. */
function defaultLabel(p: ParamSpec): string {
  return p.default === undefined ? '(required)' : `[${p.default === '' ? "''" : p.default}]`
}

function describe(q: SavedQuery): string {
  const params = q.params.map((p) => `  ${p.name}  ${p.type}  ${defaultLabel(p)}\n      ${p.description}`)
  return `${q.name}: ${q.description}\n\nparams (--param name=value; [default]):\n${params.length > 0 ? params.join('\n') : '  (none)'}\n\nTimes: ISO (2026-05-01T10:00:00Z, UTC unless an offset is given) or an offset from now (-1h, -7d, now).\nFile: ${q.file}\n\n${q.sql}\n`
}
