// Saved query files: the header is parsed, and every {name:Type} of the SQL must be declared
// with the same type (and every declared param used), else the file is refused by name.
import { describe, expect, it } from 'vitest'
import { loadSavedQueries } from '../../queries/catalog.ts'
import { parseParamLine, parseSavedQuery, SavedQueryError } from '../../queries/saved-query.ts'

const file = 'demo.sql'
const header = `-- name: demo
-- description: a demo query
-- param: from DateTime64(3, 'UTC') [-1h] window start
-- param: segment String [] only this segment
-- param: limit UInt32 [10] rows
`
const body = `SELECT 1 FROM interactions
WHERE timestamp >= {from:DateTime64(3,'UTC')} AND ({segment:String} = '' OR segment = {segment:String})
LIMIT {limit:UInt32};
`

function refusal(text: string): SavedQueryError {
  try {
    parseSavedQuery(text, file)
  } catch (error) {
    expect(error).toBeInstanceOf(SavedQueryError)
    return error as SavedQueryError
  }
  throw new Error('no error')
}

describe('saved query header', () => {
  it('parses name, description, typed params with defaults, and the body without its semicolon', () => {
    const q = parseSavedQuery(header + body, file)
    expect(q.name).toBe('demo')
    expect(q.description).toBe('a demo query')
    expect(q.params.map((p) => [p.name, p.type, p.default, p.description])).toEqual([
      ['from', "DateTime64(3, 'UTC')", '-1h', 'window start'],
      ['segment', 'String', '', 'only this segment'],
      ['limit', 'UInt32', '10', 'rows'],
    ])
    expect(q.sql.startsWith('SELECT 1')).toBe(true)
    expect(q.sql.endsWith('LIMIT {limit:UInt32}')).toBe(true)
  })

  it('reads a param without a default as required, and keeps spaces inside the type', () => {
    const p = parseParamLine("to DateTime64(3, 'UTC') window end", 'x.sql:1')
    expect(p).toMatchObject({
      name: 'to',
      type: "DateTime64(3, 'UTC')",
      default: undefined,
      description: 'window end',
    })
  })

  it('refuses a placeholder that is not declared, naming the query and the fix', () => {
    const e = refusal(
      header + body.replace('LIMIT {limit:UInt32}', 'LIMIT {limit:UInt32} OFFSET {skip:UInt32}'),
    )
    expect(e.message).toMatch(
      /saved query demo \(demo\.sql\): the SQL uses \{skip:UInt32\} but no param skip is declared/,
    )
    expect(e.fix).toMatch(/-- param: skip UInt32/)
  })

  it('refuses a declared param the SQL never uses', () => {
    const e = refusal(`${header}-- param: unused String [] nothing\n${body}`)
    expect(e.message).toMatch(/param unused is declared but the SQL never uses/)
  })

  it('refuses a param used with another type than declared', () => {
    const e = refusal(header + body.replace('LIMIT {limit:UInt32}', 'LIMIT {limit:UInt64}'))
    expect(e.message).toMatch(/param limit is declared UInt32 but used as \{limit:UInt64\}/)
  })

  it('refuses a type it cannot check, a bad default, a missing description, a DateTime without UTC', () => {
    expect(refusal(header.replace('String []', 'Map(String, String) []') + body).message).toMatch(
      /cannot check/,
    )
    expect(refusal(header.replace('[10]', '[ten]') + body).message).toMatch(
      /default \[ten\] of param limit is not an integer from 0 to 4294967295/,
    )
    expect(refusal(header.replace('[10] rows', '[10]') + body).message).toMatch(
      /param limit has no description/,
    )
    expect(
      refusal(
        header.replace("DateTime64(3, 'UTC')", 'DateTime64(3)') +
          body.replace("DateTime64(3,'UTC')", 'DateTime64(3)'),
      ).fix,
    ).toMatch(/DateTime64\(3, 'UTC'\)/)
  })

  it('refuses a file without name, description or SQL', () => {
    expect(refusal(body).message).toMatch(/no `-- name:` line/)
    expect(refusal(`-- name: demo\n${body}`).message).toMatch(/no `-- description:` line/)
    expect(refusal('-- name: demo\n-- description: x\n').message).toMatch(/no SQL after the header/)
  })

  it('ignores placeholders in comment lines of the body', () => {
    expect(() => parseSavedQuery(`${header}-- e.g. {other:String}\n${body}`, file)).not.toThrow()
  })
})

describe('shipped saved queries', () => {
  it('all load, with the names the docs promise', () => {
    const names = loadSavedQueries().map((q) => q.name)
    expect(names).toEqual(
      expect.arrayContaining([
        'ingest-errors',
        'rule-window',
        'scope-overview',
        'trigger-interactions',
        'worst-scopes',
      ]),
    )
  })

  it('scope-overview uses the registry metric definitions, no FINAL, and is bounded by window and LIMIT', () => {
    const q = loadSavedQueries().find((x) => x.name === 'scope-overview')!
    expect(q.sql).not.toMatch(/\bFINAL\b/)
    // latency_p95_ms as the evaluator computes it (metrics/scope-stats.ts valueSql), not quantileExactIf.
    expect(q.sql).toContain("'latency_p95_ms' AS metric_name")
    expect(q.sql).toMatch(/quantilesExact\([\d.]+, 0\.95, [\d.]+\)\(toFloat64\(latency_ms\)\)\[2\]/)
    expect(q.sql).toMatch(/LIMIT \{limit:UInt32\}$/)
  })
})
