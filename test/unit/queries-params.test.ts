// --param text to typed values: checked by type before any SQL runs, errors naming the
// query, the param and an example; relative times anchored on a given clock.
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../lib/errors.ts'
import { coerceParamValue, paramKind, parseTime } from '../../queries/param-types.ts'
import { bindParams, parseParamFlags, queryCommandLine } from '../../queries/params.ts'
import { parseSavedQuery } from '../../queries/saved-query.ts'

const NOW = Date.parse('2026-05-01T12:00:00.000Z')
const value = (type: string, text: string) => {
  const r = coerceParamValue(paramKind(type)!, text, NOW)
  return r.ok ? r.value : `invalid: ${r.expected}`
}

describe('param types', () => {
  it('checks integers against the type range, as exact strings', () => {
    expect(value('UInt32', '42')).toBe('42')
    expect(value('UInt64', '18446744073709551615')).toBe('18446744073709551615')
    expect(value('UInt8', '256')).toBe('invalid: an integer from 0 to 255')
    expect(value('UInt32', '-1')).toMatch(/invalid/)
    expect(value('Int8', '-128')).toBe('-128')
    expect(value('Int32', '1.5')).toMatch(/invalid/)
  })

  it('reads floats and bools', () => {
    expect(value('Float64', '0.05')).toBe(0.05)
    expect(value('Float64', '1e-3')).toBe(0.001)
    expect(value('Float64', '')).toMatch(/invalid: a finite number/)
    expect(value('Float64', 'Infinity')).toMatch(/invalid/)
    expect(value('Bool', 'TRUE')).toBe('true')
    expect(value('Bool', 'yes')).toMatch(/invalid/)
  })

  it('turns ISO times and offsets from now into UTC text of the declared precision', () => {
    expect(value("DateTime64(3, 'UTC')", '-1h')).toBe('2026-05-01 11:00:00.000')
    expect(value("DateTime64(3, 'UTC')", 'now-30m')).toBe('2026-05-01 11:30:00.000')
    expect(value("DateTime64(3, 'UTC')", 'now')).toBe('2026-05-01 12:00:00.000')
    expect(value("DateTime64(3, 'UTC')", '-7d')).toBe('2026-04-24 12:00:00.000')
    expect(value("DateTime64(3, 'UTC')", '2026-04-30T08:15:00.250Z')).toBe('2026-04-30 08:15:00.250')
    expect(value("DateTime64(3, 'UTC')", '2026-04-30T10:15:00+02:00')).toBe('2026-04-30 08:15:00.000')
    expect(value("DateTime64(3, 'UTC')", '2026-04-30 08:15')).toBe('2026-04-30 08:15:00.000')
    expect(value("DateTime('UTC')", '2026-04-30')).toBe('2026-04-30 00:00:00')
    expect(value('Date', '-1d')).toBe('2026-04-30')
    expect(value("DateTime64(3, 'UTC')", 'yesterday')).toMatch(/invalid: an ISO time/)
    expect(value("DateTime64(3, 'UTC')", '2026-13-45')).toMatch(/invalid/)
    expect(parseTime('+2w', NOW)).toBe(NOW + 14 * 86_400_000)
  })

  it('reads Array(String) as a comma list or a JSON array', () => {
    expect(value('Array(String)', 'a, b,c')).toEqual(['a', 'b', 'c'])
    expect(value('Array(String)', '["x,y", "it\'s"]')).toEqual(['x,y', "it's"])
    expect(value('Array(String)', '')).toEqual([])
    expect(value('Array(String)', '[1,2]')).toMatch(/invalid/)
  })

  it('knows which types it cannot check', () => {
    expect(paramKind('Map(String, String)')).toBeUndefined()
    expect(paramKind('DateTime')).toBeUndefined()
    expect(paramKind("DateTime64(3,'Europe/Paris')")).toBeUndefined()
  })
})

describe('binding --param flags to a query', () => {
  const query = parseSavedQuery(
    `-- name: q
-- description: d
-- param: metric String the metric
-- param: from DateTime64(3, 'UTC') [-1h] start
-- param: limit UInt32 [10] rows
SELECT {metric:String}, {from:DateTime64(3, 'UTC')}, {limit:UInt32}`,
    'q.sql',
  )
  const error = (fn: () => unknown) => {
    try {
      fn()
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError)
      return e as ConfigError
    }
    throw new Error('no error')
  }

  it('fills defaults and coerces given values', () => {
    expect(bindParams(query, { metric: 'hallucination_rate', limit: '5' }, NOW)).toEqual({
      metric: 'hallucination_rate',
      from: '2026-05-01 11:00:00.000',
      limit: '5',
    })
  })

  it('names the query, the param and the fix', () => {
    const missing = error(() => bindParams(query, {}, NOW))
    expect(missing.message).toBe('query q needs --param metric=<String> (the metric)')
    const unknown = error(() => bindParams(query, { metric: 'x', segmnt: 'a' }, NOW))
    expect(unknown.message).toMatch(/query q has no param "segmnt"/)
    expect(unknown.fix).toMatch(/its params are metric, from, limit/)
    const bad = error(() => bindParams(query, { metric: 'x', from: 'last tuesday' }, NOW))
    expect(bad.message).toMatch(
      /query q: --param from="last tuesday" is not an ISO time .* \(DateTime64\(3, 'UTC'\)\)/,
    )
    expect(bad.fix).toBe('pass e.g. --param from=-1h')
  })

  it('parses name=value flags, values may hold =', () => {
    expect(parseParamFlags(['a=1', 'b=x=y', 'c='], 'q')).toEqual({ a: '1', b: 'x=y', c: '' })
    expect(error(() => parseParamFlags(['nothing'], 'q')).message).toMatch(
      /query q: --param "nothing" is not name=value/,
    )
    expect(error(() => parseParamFlags(['a=1', 'a=2'], 'q')).message).toMatch(/--param a is given twice/)
  })

  it('writes the command line that reruns a query', () => {
    expect(
      queryCommandLine('rule-window', {
        metric: 'latency_p99_ms',
        from: '2026-05-01T10:00:00Z',
        note: "it's",
      }),
    ).toBe(
      "driftwatch query rule-window --param metric=latency_p99_ms --param from=2026-05-01T10:00:00Z --param 'note=it'\\''s'",
    )
  })
})
