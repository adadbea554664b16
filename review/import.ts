// `driftwatch review import FILE`: human labels from a filled-in export (CSV or JSONL) into
// human_labels. Every line is validated (zod, then against the review queue) before anything
// is written: one bad line rejects the file, and every error names its line and field.

import { basename } from 'node:path'
import { ConfigError } from '../lib/errors.ts'
import { chunkIdsForUrl } from '../store/id-chunks.ts'
import type { Store } from '../store/store.ts'
import { clickhouseTime } from '../store/time.ts'
import { CsvSyntaxError, parseCsv } from './csv.ts'
import { type LabelLine, labelLineSchema, labelsOf, REVIEW_METRICS, type ReviewScorer } from './labels.ts'

export type ImportFormat = 'csv' | 'jsonl'

export interface ParsedLine {
  line: number
  value: LabelLine
}

export interface ImportResult {
  lines: number
  labels: number
  /** Lines without any label (the reviewer skipped them). */
  unlabelled: number
}

/** At most this many errors are listed; the rest are counted. */
const MAX_ERRORS = 50

export class LabelImportError extends ConfigError {
  constructor(
    file: string,
    readonly problems: string[],
    total: number,
  ) {
    super(
      `${file}: ${total} invalid line${total === 1 ? '' : 's'}, nothing imported:\n${problems.map((p) => `  ${p}`).join('\n')}` +
        (total > problems.length ? `\n  … and ${total - problems.length} more` : ''),
      { fix: 'correct the lines named above and import the file again' },
    )
  }
}

export function formatFromName(file: string): ImportFormat | undefined {
  if (/\.csv$/i.test(file)) return 'csv'
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl'
  return undefined
}

/** Parses and validates every line; returns the lines or the problems found (line: field: message). */
export function parseLabelFile(
  text: string,
  format: ImportFormat,
): { lines: ParsedLine[]; problems: string[] } {
  const lines: ParsedLine[] = []
  const problems: string[] = []
  const check = (line: number, raw: unknown) => {
    const parsed = labelLineSchema.safeParse(raw)
    if (parsed.success) lines.push({ line, value: parsed.data })
    else
      for (const issue of parsed.error.issues)
        problems.push(`line ${line}: ${issue.path.join('.') || '(line)'}: ${issue.message}`)
  }
  if (format === 'jsonl') {
    text.split('\n').forEach((rawLine, i) => {
      if (rawLine.trim() === '') return
      let json: unknown
      try {
        json = JSON.parse(rawLine)
      } catch {
        problems.push(`line ${i + 1}: not a JSON object`)
        return
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json))
        problems.push(`line ${i + 1}: not a JSON object`)
      else check(i + 1, json)
    })
    return { lines, problems }
  }
  let records: ReturnType<typeof parseCsv>
  try {
    records = parseCsv(text)
  } catch (error) {
    if (error instanceof CsvSyntaxError) return { lines, problems: [error.message] }
    throw error
  }
  const [header, ...rows] = records
  if (!header) return { lines, problems }
  const names = header.cells.map((c) => c.trim())
  for (const required of ['request_id', 'scorer_version']) {
    if (!names.includes(required)) problems.push(`line ${header.line}: the header has no ${required} column`)
  }
  if (problems.length > 0) return { lines, problems }
  for (const row of rows) {
    if (row.cells.length !== names.length) {
      problems.push(`line ${row.line}: ${row.cells.length} fields, the header has ${names.length}`)
      continue
    }
    check(row.line, Object.fromEntries(names.map((n, i) => [n, row.cells[i]])))
  }
  return { lines, problems }
}

/** Which scorer queued each (scorer_version, request_id) of the file; absent = not in the queue. */
async function queuedScorers(store: Store, lines: ParsedLine[]): Promise<Map<string, string>> {
  const keys = new Map<string, string>()
  const ids = [...new Set(lines.map((l) => l.value.request_id))]
  for (const chunk of chunkIdsForUrl(ids)) {
    const rows = await store.query<{ request_id: string; scorer_version: string; scorer: string }>(
      'SELECT DISTINCT request_id, scorer_version, scorer FROM review_queue WHERE request_id IN {ids:Array(String)}',
      { ids: chunk },
    )
    for (const r of rows) keys.set(`${r.scorer_version}\u0000${r.request_id}`, r.scorer)
  }
  return keys
}

export async function importLabels(
  store: Store,
  file: string,
  text: string,
  options: { format: ImportFormat; reviewer: string; now: number },
): Promise<ImportResult> {
  const { lines, problems } = parseLabelFile(text, options.format)
  const queued = lines.length > 0 ? await queuedScorers(store, lines) : new Map<string, string>()
  const rows: Record<string, unknown>[] = []
  let unlabelled = 0
  for (const { line, value } of lines) {
    const scorer = queued.get(`${value.scorer_version}\u0000${value.request_id}`)
    if (!scorer) {
      problems.push(
        `line ${line}: request_id ${value.request_id} with scorer_version ${value.scorer_version} is not in the review queue`,
      )
      continue
    }
    const allowed = REVIEW_METRICS[scorer as ReviewScorer] ?? {}
    const labels = labelsOf(value)
    const foreign = labels.filter((l) => !Object.hasOwn(allowed, l.metric))
    for (const f of foreign)
      problems.push(
        `line ${line}: ${f.metric}: not a ${scorer} metric; label ${Object.keys(allowed).join(', ')}`,
      )
    if (foreign.length > 0) continue
    if (labels.length === 0) unlabelled++
    for (const l of labels) {
      rows.push({
        request_id: value.request_id,
        scorer_version: value.scorer_version,
        metric: l.metric,
        value: l.value,
        reviewer: value.reviewer ?? options.reviewer,
        note: value.note ?? '',
        source: basename(file),
        labelled_at: clickhouseTime(options.now),
      })
    }
  }
  if (problems.length > 0) throw new LabelImportError(file, problems.slice(0, MAX_ERRORS), problems.length)
  for (let i = 0; i < rows.length; i += 10_000) await store.insert('human_labels', rows.slice(i, i + 10_000))
  return { lines: lines.length, labels: rows.length, unlabelled }
}
