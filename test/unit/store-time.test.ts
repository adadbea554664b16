import { describe, expect, it } from 'vitest'
import { clickhouseTime, isoTime, parseClickhouseTime } from '../../store/time.ts'

const MS = Date.UTC(2026, 10, 23, 10, 0, 0, 123)

describe('store time: epoch ms <-> ClickHouse DateTime64(3) text', () => {
  it('writes DateTime64(3) text in UTC with milliseconds', () => {
    expect(clickhouseTime(MS)).toBe('2026-11-23 10:00:00.123')
    expect(clickhouseTime(0)).toBe('1970-01-01 00:00:00.000')
  })

  it('writes ISO with Z, the form the store returns', () => {
    expect(isoTime(MS)).toBe('2026-11-23T10:00:00.123Z')
  })

  it('reads both the ISO the store returns and ClickHouse text (as UTC)', () => {
    expect(parseClickhouseTime('2026-11-23T10:00:00.123Z')).toBe(MS)
    expect(parseClickhouseTime('2026-11-23 10:00:00.123')).toBe(MS)
    expect(parseClickhouseTime('2026-11-23T12:00:00.123+02:00')).toBe(MS)
  })

  it('round-trips both ways', () => {
    for (const ms of [0, MS, MS + 1, Date.UTC(2099, 11, 31, 23, 59, 59, 999)]) {
      expect(parseClickhouseTime(clickhouseTime(ms))).toBe(ms)
      expect(parseClickhouseTime(isoTime(ms))).toBe(ms)
    }
  })

  it('rejects what is not a time', () => {
    expect(() => parseClickhouseTime('yesterday')).toThrow(RangeError)
    expect(() => clickhouseTime(Number.NaN)).toThrow(RangeError)
  })
})
