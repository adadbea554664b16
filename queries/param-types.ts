// The parameter types a saved query may declare, and how `--param name=text` becomes a
// value ClickHouse accepts for that type. Pure; checked here so that a bad value is refused
// with the param's name and an example, before any SQL runs.
//
// Times: an ISO 8601 time (a time without an offset is UTC) or an offset from now
// (`now`, `-1h`, `-7d`, `now-30m`; units s m h d w). DateTime params must be declared
// with the 'UTC' time zone because values are sent as UTC wall-clock text.

export type ParamKind =
  | { kind: 'string' }
  | { kind: 'int'; min: bigint; max: bigint }
  | { kind: 'float' }
  | { kind: 'bool' }
  | { kind: 'date' }
  | { kind: 'datetime'; fractionDigits: number }
  | { kind: 'string-array' }

export const SUPPORTED_TYPES =
  "String, UInt8/16/32/64, Int8/16/32/64, Float32, Float64, Bool, Date, DateTime('UTC'), DateTime64(3, 'UTC'), Array(String)"

export function paramKind(type: string): ParamKind | undefined {
  const t = type.replace(/\s+/g, '')
  if (t === 'String') return { kind: 'string' }
  const int = /^(U?)Int(8|16|32|64)$/.exec(t)
  if (int) {
    const bits = BigInt(int[2]!)
    return int[1]
      ? { kind: 'int', min: 0n, max: 2n ** bits - 1n }
      : { kind: 'int', min: -(2n ** (bits - 1n)), max: 2n ** (bits - 1n) - 1n }
  }
  if (t === 'Float32' || t === 'Float64') return { kind: 'float' }
  if (t === 'Bool') return { kind: 'bool' }
  if (t === 'Date' || t === 'Date32') return { kind: 'date' }
  if (t === "DateTime('UTC')") return { kind: 'datetime', fractionDigits: 0 }
  const dt64 = /^DateTime64\(([0-9])(?:,'UTC')\)$/.exec(t)
  if (dt64) return { kind: 'datetime', fractionDigits: Math.min(3, Number(dt64[1])) }
  if (t === 'Array(String)') return { kind: 'string-array' }
  return undefined
}

export type Coerced = { ok: true; value: unknown } | { ok: false; expected: string; example: string }

const TIME_EXAMPLE = 'an ISO time like 2026-05-01T10:00:00Z or an offset from now like -1h, -7d, now'

/** `text` as a value for `kind`; `nowMs` anchors relative times. */
export function coerceParamValue(kind: ParamKind, text: string, nowMs: number): Coerced {
  switch (kind.kind) {
    case 'string':
      return { ok: true, value: text }
    case 'int': {
      const t = text.trim()
      if (/^[+-]?\d+$/.test(t)) {
        const n = BigInt(t)
        // As a string: UInt64 values above 2^53 must not pass through a JS number.
        if (n >= kind.min && n <= kind.max) return { ok: true, value: n.toString() }
      }
      return {
        ok: false,
        expected: `an integer from ${kind.min} to ${kind.max}`,
        example: kind.min < 0n ? '-5' : '100',
      }
    }
    case 'float': {
      const t = text.trim()
      const n = Number(t)
      if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) && Number.isFinite(n))
        return { ok: true, value: n }
      return { ok: false, expected: 'a finite number', example: '0.05' }
    }
    case 'bool': {
      const t = text.trim().toLowerCase()
      if (t === 'true' || t === '1') return { ok: true, value: 'true' }
      if (t === 'false' || t === '0') return { ok: true, value: 'false' }
      return { ok: false, expected: 'true or false', example: 'true' }
    }
    case 'date': {
      const ms = parseTime(text, nowMs)
      if (ms === undefined)
        return {
          ok: false,
          expected: 'a date (YYYY-MM-DD) or an offset from now like -7d',
          example: '2026-05-01',
        }
      return { ok: true, value: new Date(ms).toISOString().slice(0, 10) }
    }
    case 'datetime': {
      const ms = parseTime(text, nowMs)
      if (ms === undefined) return { ok: false, expected: TIME_EXAMPLE, example: '-1h' }
      return { ok: true, value: utcText(ms, kind.fractionDigits) }
    }
    case 'string-array': {
      const t = text.trim()
      if (t.startsWith('[')) {
        try {
          const parsed: unknown = JSON.parse(t)
          if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string'))
            return { ok: true, value: parsed }
        } catch {
          // fall through to the error below
        }
        return {
          ok: false,
          expected: 'a comma-separated list, or a JSON array of strings',
          example: 'a,b or ["a","b"]',
        }
      }
      // A JS array: the client formats it as a ClickHouse array literal, quotes escaped.
      return { ok: true, value: t === '' ? [] : t.split(',').map((s) => s.trim()) }
    }
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const RELATIVE = /^(now)?\s*(?:([+-])\s*(\d+)\s*([smhdw]))?$/
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/

/** Epoch ms of an ISO time (UTC unless it carries an offset) or of an offset from now. */
export function parseTime(text: string, nowMs: number): number | undefined {
  const t = text.trim()
  const rel = RELATIVE.exec(t)
  if (rel && (rel[1] || rel[2])) {
    if (!rel[2]) return nowMs
    return nowMs + (rel[2] === '-' ? -1 : 1) * Number(rel[3]) * UNIT_MS[rel[4]!]!
  }
  const iso = ISO.exec(t)
  if (!iso) return undefined
  let normal = t.replace(' ', 'T')
  if (normal.length === 10) normal += 'T00:00:00'
  if (!iso[1]) normal += 'Z'
  const ms = Date.parse(normal)
  return Number.isFinite(ms) ? ms : undefined
}

/** ClickHouse's DateTime text in UTC: `2026-05-01 10:00:00.000` (digits as the type keeps). */
export function utcText(ms: number, fractionDigits: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fractionDigits > 0 ? iso.slice(19, 20 + fractionDigits) : ''}`
}
