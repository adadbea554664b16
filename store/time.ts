// Time in one place: the code computes with epoch milliseconds (UTC); the store speaks
// ClickHouse DateTime64(3) text on the way in (inserted rows, `{p:DateTime64(3, 'UTC')}`
// parameters) and ISO 8601 with `Z` on the way out (store.ts asks for
// date_time_output_format 'iso'). Pure: tested in test/unit/store-time.test.ts.

/** Epoch ms → ClickHouse's DateTime64(3) text in UTC, e.g. 2026-11-23 10:00:00.123. */
export function clickhouseTime(ms: number): string {
  return isoTime(ms).slice(0, 23).replace('T', ' ')
}

/** Epoch ms → ISO 8601 in UTC with milliseconds, the form the store returns times in. */
export function isoTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time in milliseconds: ${ms}`)
  return new Date(ms).toISOString()
}

/**
 * A time the store returned (ISO with `Z` or an offset) or ClickHouse text
 * (`2026-11-23 10:00:00.123`, read as UTC) → epoch ms. Throws RangeError on anything else.
 */
export function parseClickhouseTime(text: string): number {
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`)
  if (Number.isNaN(ms)) throw new RangeError(`not a ClickHouse time: ${JSON.stringify(text)}`)
  return ms
}
