// Binds `--param name=value` flags to a saved query's declared params: unknown names,
// missing required params and badly typed values are refused with the query, the param and
// the fix named; defaults fill the rest. Pure: the clock is passed in.

import { ConfigError } from '../lib/errors.ts'
import { coerceParamValue } from './param-types.ts'
import type { ParamSpec, SavedQuery } from './saved-query.ts'

/** `['a=1', 'b=x=y']` → `{a: '1', b: 'x=y'}`; each name at most once. */
export function parseParamFlags(
  list: readonly string[] | undefined,
  queryName: string,
): Record<string, string> {
  const params: Record<string, string> = {}
  for (const item of list ?? []) {
    const eq = item.indexOf('=')
    if (eq <= 0) {
      throw new ConfigError(`query ${queryName}: --param ${JSON.stringify(item)} is not name=value`, {
        fix: 'pass e.g. --param segment=invoice_extraction',
      })
    }
    const name = item.slice(0, eq).trim()
    if (Object.hasOwn(params, name)) {
      throw new ConfigError(`query ${queryName}: --param ${name} is given twice`, {
        fix: `give it once; for a list param pass --param ${name}=a,b`,
      })
    }
    params[name] = item.slice(eq + 1)
  }
  return params
}

/** The values to send with the query's SQL, keyed by param name. */
export function bindParams(
  query: SavedQuery,
  raw: Readonly<Record<string, string>>,
  nowMs: number,
): Record<string, unknown> {
  const declared = new Map(query.params.map((p) => [p.name, p]))
  for (const name of Object.keys(raw)) {
    if (!declared.has(name)) {
      throw new ConfigError(`query ${query.name} has no param ${JSON.stringify(name)}`, {
        fix:
          query.params.length > 0
            ? `its params are ${query.params.map((p) => p.name).join(', ')} (see \`driftwatch query ${query.name} --help\`)`
            : 'it takes no params',
      })
    }
  }
  const values: Record<string, unknown> = {}
  for (const spec of query.params) {
    const text = Object.hasOwn(raw, spec.name) ? raw[spec.name]! : spec.default
    if (text === undefined) {
      throw new ConfigError(
        `query ${query.name} needs --param ${spec.name}=<${spec.type}> (${spec.description})`,
        {
          fix: `pass --param ${spec.name}=${exampleFor(spec)}`,
        },
      )
    }
    const coerced = coerceParamValue(spec.kind, text, nowMs)
    if (!coerced.ok) {
      throw new ConfigError(
        `query ${query.name}: --param ${spec.name}=${JSON.stringify(text)} is not ${coerced.expected} (${spec.type})`,
        {
          fix: `pass e.g. --param ${spec.name}=${coerced.example}`,
        },
      )
    }
    values[spec.name] = coerced.value
  }
  return values
}

function exampleFor(spec: ParamSpec): string {
  const coerced = coerceParamValue(spec.kind, '', 0)
  return coerced.ok ? '<text>' : coerced.example
}

/** The shell command that reruns a saved query with these params, for messages and alerts. */
export function queryCommandLine(name: string, raw: Readonly<Record<string, string>>): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)
  return [
    'driftwatch',
    'query',
    name,
    ...Object.entries(raw).flatMap(([k, v]) => ['--param', quote(`${k}=${v}`)]),
  ].join(' ')
}
