// Renders ClickHouse's JSONCompactEachRowWithNames output as an aligned text table.

export function renderTable(jsonCompactWithNames: string): string {
  const lines = jsonCompactWithNames.split('\n').filter((line) => line.trim())
  if (lines.length === 0) return '(no columns)\n'
  const [header, ...rows] = lines.map((line) => (JSON.parse(line) as unknown[]).map(cell))
  const widths = header!.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const numeric = header!.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.e+-]+$/.test(r[i] ?? '')),
  )
  const format = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [format(header!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(format)]
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`)
  return `${out.join('\n')}\n`
}

function cell(value: unknown): string {
  if (value === null) return 'NULL'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value).replace(/\n/g, '\\n')
}
