// Human labels: which metrics a reviewer labels for each scorer, their scales, and the zod
// schema one imported line (JSONL object or CSV row) must satisfy. Errors name the field and
// what is accepted; the importer adds the line number.

import { z } from 'zod'

export type MetricKind = 'binary' | 'ordinal'

/** Metrics a human labels per scorer, in the column order of exports. */
export const REVIEW_METRICS = {
  judge: { hallucination: 'binary', helpfulness: 'ordinal', clarity: 'ordinal', safety: 'ordinal' },
  llama_guard: { unsafe: 'binary' },
  /** A shadow pair (docs/shadow.md): do the shadow and production answers really differ in substance? */
  shadow: { divergent: 'binary' },
} as const satisfies Record<string, Record<string, MetricKind>>

export type ReviewScorer = keyof typeof REVIEW_METRICS

/** Every label column, across scorers (a CSV export has them all). */
export const LABEL_COLUMNS = [
  'hallucination',
  'helpfulness',
  'clarity',
  'safety',
  'unsafe',
  'divergent',
] as const
export type LabelColumn = (typeof LABEL_COLUMNS)[number]

export const SCALES: Record<MetricKind, readonly number[]> = { binary: [0, 1], ordinal: [1, 2, 3, 4, 5] }

export function metricKind(metric: string): MetricKind {
  return metric === 'hallucination' || metric === 'unsafe' || metric === 'refusal' || metric === 'divergent'
    ? 'binary'
    : 'ordinal'
}

const blank = (value: unknown) =>
  value === '' || value === null || (typeof value === 'string' && value.trim() === '') ? undefined : value

const TRUE = new Set(['true', 'yes', 'y', '1', 'unsafe', 'hallucinated'])
const FALSE = new Set(['false', 'no', 'n', '0', 'safe', 'supported'])

const binaryLabel = z.preprocess(
  (value) => {
    const v = blank(value)
    if (typeof v === 'boolean') return v ? 1 : 0
    if (typeof v === 'string') {
      const s = v.trim().toLowerCase()
      if (TRUE.has(s)) return 1
      if (FALSE.has(s)) return 0
    }
    return v
  },
  z
    .union([z.literal(0), z.literal(1)], {
      error: (issue) => `expected true or false (also yes/no, 1/0), got ${JSON.stringify(issue.input)}`,
    })
    .optional(),
)

const ordinalLabel = z.preprocess(
  (value) => {
    const v = blank(value)
    return typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v
  },
  z
    .number({ error: (issue) => `expected an integer from 1 to 5, got ${JSON.stringify(issue.input)}` })
    .int({ error: (issue) => `expected an integer from 1 to 5, got ${JSON.stringify(issue.input)}` })
    .min(1, { error: (issue) => `expected an integer from 1 to 5, got ${JSON.stringify(issue.input)}` })
    .max(5, { error: (issue) => `expected an integer from 1 to 5, got ${JSON.stringify(issue.input)}` })
    .optional(),
)

const optionalText = (max: number) => z.preprocess(blank, z.string().max(max).optional())

/** One imported line. Extra fields (the exported text, model scores) are ignored. */
export const labelLineSchema = z.object({
  request_id: z
    .string({ error: 'required: the request_id of the exported row' })
    .trim()
    .min(1, 'must not be empty'),
  scorer_version: z
    .string({ error: 'required: the scorer_version of the exported row' })
    .trim()
    .min(1, 'must not be empty'),
  reviewer: optionalText(200),
  note: optionalText(2000),
  hallucination: binaryLabel,
  helpfulness: ordinalLabel,
  clarity: ordinalLabel,
  safety: ordinalLabel,
  unsafe: binaryLabel,
  divergent: binaryLabel,
})

export type LabelLine = z.output<typeof labelLineSchema>

/** The labels present on a line, as (metric, value) pairs. */
export function labelsOf(line: LabelLine): Array<{ metric: LabelColumn; value: number }> {
  return LABEL_COLUMNS.flatMap((metric) =>
    line[metric] === undefined ? [] : [{ metric, value: line[metric] as number }],
  )
}
