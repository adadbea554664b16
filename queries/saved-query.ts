// A saved investigation query: one sql/queries/<name>.sql file whose header comment names
// it, describes it and declares its typed parameters. This module parses and checks one
// file's text, pure; catalog.ts finds the files, params.ts turns --param text into values.
//
//   -- name: worst-scopes
//   -- description: scopes ranked by how much worse a metric got than on the last stable version
//   -- param: metric String the metric to rank by, e.g. hallucination_rate
//   -- param: from DateTime64(3, 'UTC') [-1h] window start (inclusive)
//   SELECT ... WHERE timestamp >= {from:DateTime64(3, 'UTC')} ...

import { DriftwatchError } from '../lib/errors.ts'
import { coerceParamValue, type ParamKind, paramKind, SUPPORTED_TYPES } from './param-types.ts'

export interface ParamSpec {
  name: string
  /** ClickHouse type as written in the header, e.g. `DateTime64(3, 'UTC')`. */
  type: string
  kind: ParamKind
  /** Raw text between the brackets; undefined: the param is required. */
  default: string | undefined
  description: string
}

export interface SavedQuery {
  name: string
  description: string
  params: ParamSpec[]
  /** The body: everything after the header, without a trailing semicolon. */
  sql: string
  file: string
}

/** A saved query file that cannot be used as written. */
export class SavedQueryError extends DriftwatchError {
  constructor(message: string, fix: string) {
    super('SAVED_QUERY_INVALID', message, { fix })
  }
}

export const QUERY_NAME = /^[a-z0-9][a-z0-9-]*$/
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const HEADER_LINE = /^--\s*(name|description|param)\s*:\s*(.*)$/

export function parseSavedQuery(text: string, file: string): SavedQuery {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  let bodyStart = lines.length
  let name: string | undefined
  const description: string[] = []
  const params: ParamSpec[] = []
  const where = (line: number) => `${file}:${line + 1}`
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    if (!line.startsWith('--')) {
      bodyStart = i
      break
    }
    const match = HEADER_LINE.exec(line)
    if (!match) continue // free text in the header: notes for the reader
    const [, key, value] = match as unknown as [string, string, string]
    if (key === 'name') name = value.trim()
    else if (key === 'description') description.push(value.trim())
    else params.push(parseParamLine(value, where(i), name))
  }
  if (!name)
    throw new SavedQueryError(
      `${file}: no \`-- name:\` line in the header`,
      'start the file with `-- name: <file name without .sql>`',
    )
  if (!QUERY_NAME.test(name)) {
    throw new SavedQueryError(
      `${file}: query name ${JSON.stringify(name)} is not lowercase letters, digits and dashes`,
      'rename it, e.g. `-- name: worst-scopes`',
    )
  }
  const label = `saved query ${name} (${file})`
  if (description.length === 0 || description.join('') === '') {
    throw new SavedQueryError(
      `${label}: no \`-- description:\` line`,
      'say in one line what the query answers: `driftwatch query` lists it',
    )
  }
  const seen = new Set<string>()
  for (const p of params) {
    if (seen.has(p.name))
      throw new SavedQueryError(
        `${label}: param ${p.name} is declared twice`,
        'keep one `-- param:` line per param',
      )
    seen.add(p.name)
  }
  const sql = lines.slice(bodyStart).join('\n').trim().replace(/;\s*$/, '').trim()
  if (sql === '')
    throw new SavedQueryError(
      `${label}: no SQL after the header`,
      'write the SELECT after the header comment lines',
    )
  checkPlaceholders(label, sql, params)
  for (const p of params) {
    // A default is checked like a --param value, so a bad one fails when the file loads.
    const coerced = p.default === undefined ? undefined : coerceParamValue(p.kind, p.default, 0)
    if (coerced && !coerced.ok) {
      throw new SavedQueryError(
        `${label}: the default [${p.default}] of param ${p.name} is not ${coerced.expected} (${p.type})`,
        `write e.g. [${coerced.example}]`,
      )
    }
  }
  return { name, description: description.join(' '), params, sql, file }
}

/** `name Type [default] description`; Type may hold parentheses, spaces and quotes. */
export function parseParamLine(text: string, where: string, query?: string): ParamSpec {
  const label = query ? `saved query ${query} (${where})` : where
  const fix =
    "write `-- param: <name> <Type> [<default>] <description>`, e.g. `-- param: from DateTime64(3, 'UTC') [-1h] window start`"
  const rest = text.trim()
  const nameMatch = /^(\S+)\s+/.exec(rest)
  if (!nameMatch || !PARAM_NAME.test(nameMatch[1]!))
    throw new SavedQueryError(`${label}: bad param line ${JSON.stringify(text)}`, fix)
  const name = nameMatch[1]!
  let i = nameMatch[0].length
  let depth = 0
  let quoted = false
  const typeStart = i
  for (; i < rest.length; i++) {
    const c = rest[i]!
    if (c === "'") quoted = !quoted
    else if (!quoted && c === '(') depth++
    else if (!quoted && c === ')') depth--
    else if (!quoted && depth === 0 && /\s/.test(c)) break
  }
  const type = rest.slice(typeStart, i)
  if (depth !== 0 || quoted)
    throw new SavedQueryError(
      `${label}: param ${name} has unbalanced parentheses or quotes in its type ${JSON.stringify(type)}`,
      fix,
    )
  const kind = paramKind(type)
  if (!kind) {
    throw new SavedQueryError(
      `${label}: param ${name} has type ${JSON.stringify(type)}, which driftwatch cannot check`,
      `use one of ${SUPPORTED_TYPES}`,
    )
  }
  let after = rest.slice(i).trim()
  let defaultText: string | undefined
  if (after.startsWith('[')) {
    const close = after.indexOf(']')
    if (close < 0) throw new SavedQueryError(`${label}: param ${name}: default has no closing ]`, fix)
    defaultText = after.slice(1, close)
    after = after.slice(close + 1).trim()
  }
  if (after === '')
    throw new SavedQueryError(
      `${label}: param ${name} has no description`,
      `say what ${name} means: \`driftwatch query\` shows it`,
    )
  return { name, type, kind, default: defaultText, description: after }
}

/** {name:Type} placeholders of the body, ignoring `--` comment lines. */
export function placeholders(sql: string): { name: string; type: string }[] {
  const code = sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
  return [...code.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g)].map((m) => ({
    name: m[1]!,
    type: m[2]!,
  }))
}

const normalType = (type: string) => type.replace(/\s+/g, '')

/** Every placeholder declared with the same type, every declared param used. */
function checkPlaceholders(label: string, sql: string, params: ParamSpec[]): void {
  const declared = new Map(params.map((p) => [p.name, p]))
  const used = new Set<string>()
  for (const { name, type } of placeholders(sql)) {
    used.add(name)
    const spec = declared.get(name)
    if (!spec) {
      throw new SavedQueryError(
        `${label}: the SQL uses {${name}:${type}} but no param ${name} is declared`,
        `add \`-- param: ${name} ${type} <description>\` to the header`,
      )
    }
    if (normalType(spec.type) !== normalType(type)) {
      throw new SavedQueryError(
        `${label}: param ${name} is declared ${spec.type} but used as {${name}:${type}}`,
        'use the declared type everywhere the param appears',
      )
    }
  }
  for (const p of params) {
    if (!used.has(p.name)) {
      throw new SavedQueryError(
        `${label}: param ${p.name} is declared but the SQL never uses {${p.name}:${p.type}}`,
        'use it in the SQL or remove its `-- param:` line',
      )
    }
  }
}
