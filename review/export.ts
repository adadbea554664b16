// `driftwatch review export`: the queued samples with the text a reviewer needs, as CSV (for
// spreadsheets) or JSONL, with empty label columns to fill in. Blind by default: the model's
// own scores are added only on request, so they cannot anchor the human's judgement.

import { csvLine } from './csv.ts'
import { LABEL_COLUMNS, REVIEW_METRICS, type ReviewScorer } from './labels.ts'

export type ReadRows = (sql: string, params: Record<string, string>) => Promise<Record<string, unknown>[]>

export interface ExportOptions {
  format: 'csv' | 'jsonl'
  /** Also rows that already have a human label. */
  all?: boolean
  scorerVersion?: string
  withScores?: boolean
  limit?: number
}

export interface ReviewItem {
  request_id: string
  scorer: string
  scorer_version: string
  model_version: string
  variant_id: string
  segment: string
  modality: string
  interaction_ts: string
  user_input: string
  model_output: string
  context: string[]
  /** Shadow pairs (scorer shadow): the production twin's answer, to compare with; '' otherwise. */
  production_output?: string
}

export const EXPORT_SQL = `SELECT q.request_id AS request_id, q.scorer AS scorer, q.scorer_version AS scorer_version,
  q.model_version AS model_version, q.variant_id AS variant_id, q.segment AS segment, q.modality AS modality,
  q.interaction_ts AS interaction_ts, i.user_input AS user_input, i.model_output AS model_output, i.context AS context,
  if(q.scorer = 'shadow', pr.model_output, '') AS production_output
FROM (
  SELECT * FROM review_queue FINAL
  WHERE ({scorer_version:String} = '' OR scorer_version = {scorer_version:String})
    AND ({all:UInt8} = 1 OR (scorer_version, request_id) NOT IN (SELECT scorer_version, request_id FROM human_labels))
) AS q
LEFT JOIN (
  SELECT request_id, user_input, model_output, context, ifNull(shadow_of, '') AS shadow_of FROM interactions
  WHERE request_id IN (SELECT request_id FROM review_queue)
  LIMIT 1 BY request_id
) AS i ON i.request_id = q.request_id
LEFT JOIN (
  SELECT request_id, model_output FROM interactions
  WHERE request_id IN (
    SELECT assumeNotNull(shadow_of) FROM interactions
    WHERE shadow_of IS NOT NULL AND request_id IN (SELECT request_id FROM review_queue WHERE scorer = 'shadow')
  )
  LIMIT 1 BY request_id
) AS pr ON pr.request_id = i.shadow_of
ORDER BY q.scorer_version, q.interaction_ts, q.request_id
LIMIT {limit:UInt64}`

export const MODEL_SCORES_SQL = `SELECT request_id, scorer_version, metric, value FROM scores FINAL
WHERE (scorer_version, request_id) IN (SELECT scorer_version, request_id FROM review_queue)
  AND ({scorer_version:String} = '' OR scorer_version = {scorer_version:String})`

const ITEM_COLUMNS = [
  'request_id',
  'scorer',
  'scorer_version',
  'model_version',
  'variant_id',
  'segment',
  'modality',
  'interaction_ts',
  'user_input',
  'model_output',
  'context',
  'production_output',
] as const

export async function exportReview(
  read: ReadRows,
  options: ExportOptions,
): Promise<{ text: string; rows: number }> {
  const params = {
    scorer_version: options.scorerVersion ?? '',
    all: options.all ? '1' : '0',
    limit: String(options.limit ?? 1_000_000),
  }
  const items = (await read(EXPORT_SQL, params)) as unknown as ReviewItem[]
  const modelScores = new Map<string, Record<string, number>>()
  if (options.withScores) {
    for (const s of await read(MODEL_SCORES_SQL, { scorer_version: params.scorer_version })) {
      const key = `${s.scorer_version}\u0000${s.request_id}`
      modelScores.set(key, { ...modelScores.get(key), [String(s.metric)]: Number(s.value) })
    }
  }
  const scoreOf = (item: ReviewItem) =>
    modelScores.get(`${item.scorer_version}\u0000${item.request_id}`) ?? {}
  const text =
    options.format === 'csv'
      ? toCsv(items, scoreOf, options.withScores ?? false)
      : toJsonl(items, scoreOf, options.withScores ?? false)
  return { text, rows: items.length }
}

/** One header, every label column (a spreadsheet holds judge and Llama Guard rows alike). */
export function toCsv(
  items: ReviewItem[],
  scoreOf: (item: ReviewItem) => Record<string, number>,
  withScores: boolean,
): string {
  const header = [
    ...ITEM_COLUMNS,
    ...LABEL_COLUMNS,
    'reviewer',
    'note',
    ...(withScores ? LABEL_COLUMNS.map((m) => `model_${m}`) : []),
  ]
  let out = csvLine(header)
  for (const item of items) {
    const scores = scoreOf(item)
    out += csvLine([
      ...ITEM_COLUMNS.map((c) => (c === 'context' ? (item.context ?? []).join('\n---\n') : (item[c] ?? ''))),
      ...LABEL_COLUMNS.map(() => ''),
      '',
      '',
      ...(withScores ? LABEL_COLUMNS.map((m) => scores[m] ?? '') : []),
    ])
  }
  return out
}

/** One object per line with only the scorer's own label fields, set to null for the reviewer. */
export function toJsonl(
  items: ReviewItem[],
  scoreOf: (item: ReviewItem) => Record<string, number>,
  withScores: boolean,
): string {
  return items
    .map((item) => {
      const metrics = Object.keys(REVIEW_METRICS[item.scorer as ReviewScorer] ?? {})
      const line: Record<string, unknown> = { ...item, context: item.context ?? [] }
      for (const m of metrics) line[m] = null
      line.reviewer = null
      line.note = null
      if (withScores) line.model_scores = scoreOf(item)
      return `${JSON.stringify(line)}\n`
    })
    .join('')
}
