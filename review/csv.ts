// CSV as spreadsheets write it (RFC 4180): quoted fields may hold commas, quotes and line
// breaks. Writing quotes only what needs it; reading reports the line each record starts on,
// so import errors can name it.

export function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : String(value)
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`
}

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number
  cells: string[]
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`)
    this.name = 'CsvSyntaxError'
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = []
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  while (i < text.length) {
    const start = line
    const cells: string[] = []
    for (;;) {
      let cell = ''
      if (text[i] === '"') {
        const quotedAt = line
        i++
        for (;;) {
          if (i >= text.length) throw new CsvSyntaxError(quotedAt, 'a quoted field is never closed')
          const c = text[i]!
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"'
              i += 2
              continue
            }
            i++
            break
          }
          if (c === '\n') line++
          cell += c
          i++
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new CsvSyntaxError(
            line,
            'text after a closing quote; double the quote ("") to write one inside a field',
          )
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++]
      }
      cells.push(cell)
      if (text[i] === ',') {
        i++
        continue
      }
      if (text[i] === '\r') i++
      if (text[i] === '\n') {
        i++
        line++
      }
      break
    }
    // A blank line is no record (spreadsheets leave one at the end).
    if (!(cells.length === 1 && cells[0] === '')) records.push({ line: start, cells })
  }
  return records
}
