// Human label files: CSV as spreadsheets write it, JSONL, and errors that name line and field.
import { describe, expect, it } from 'vitest'
import { csvLine, parseCsv } from '../../review/csv.ts'
import { type ReviewItem, toCsv, toJsonl } from '../../review/export.ts'
import { parseLabelFile } from '../../review/import.ts'
import { agreement } from '../../review/stats.ts'

const item: ReviewItem = {
  request_id: 'r1',
  scorer: 'judge',
  scorer_version: 'judge@abc',
  model_version: 'v1',
  variant_id: 'control',
  segment: 'invoice_extraction',
  modality: 'text',
  interaction_ts: '2025-01-06T09:00:00.000Z',
  user_input: 'Total of "INV-7", please,\nwith VAT',
  model_output: 'It is 1,200 EUR.',
  context: ['doc a', 'doc b'],
}

describe('csv', () => {
  it('round-trips commas, quotes and line breaks, and reports the line a record starts on', () => {
    const text = csvLine(['a', 'b']) + csvLine(['x, "y"', 'multi\nline']) + csvLine(['last', ''])
    expect(parseCsv(text)).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, "y"', 'multi\nline'] },
      { line: 4, cells: ['last', ''] },
    ])
  })

  it('names the line of an unclosed quote', () => {
    expect(() => parseCsv('a,b\n"open,1\n')).toThrow(/line 2: a quoted field is never closed/)
  })
})

describe('label files', () => {
  it('reads back a filled-in CSV export', () => {
    const exported = toCsv([item], () => ({}), false)
    const [header, row] = parseCsv(exported)
    const cells = [...row!.cells]
    const col = (name: string) => header!.cells.indexOf(name)
    cells[col('hallucination')] = 'yes'
    cells[col('helpfulness')] = '4'
    cells[col('reviewer')] = 'ana'
    const filled = csvLine(header!.cells) + csvLine(cells)
    const { lines, problems } = parseLabelFile(filled, 'csv')
    expect(problems).toEqual([])
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      line: 2,
      value: { request_id: 'r1', hallucination: 1, helpfulness: 4, reviewer: 'ana' },
    })
    expect(lines[0]!.value.clarity).toBeUndefined()
  })

  it('exports JSONL with only the scorer’s own label fields set to null', () => {
    const line = JSON.parse(toJsonl([item], () => ({ hallucination: 0 }), true))
    expect(line).toMatchObject({
      hallucination: null,
      helpfulness: null,
      clarity: null,
      safety: null,
      reviewer: null,
    })
    expect(line).not.toHaveProperty('unsafe')
    expect(line.model_scores).toEqual({ hallucination: 0 })
  })

  it('names the line and field of every bad value', () => {
    const text = [
      JSON.stringify({ request_id: 'r1', scorer_version: 'v', helpfulness: 6 }),
      '',
      JSON.stringify({ request_id: 'r2', scorer_version: 'v', hallucination: 'maybe' }),
      '{not json',
      JSON.stringify({ scorer_version: 'v', unsafe: true }),
      JSON.stringify({ request_id: 'r3', scorer_version: 'v', unsafe: true, clarity: '5' }),
    ].join('\n')
    const { lines, problems } = parseLabelFile(text, 'jsonl')
    expect(problems).toEqual([
      'line 1: helpfulness: expected an integer from 1 to 5, got 6',
      'line 3: hallucination: expected true or false (also yes/no, 1/0), got "maybe"',
      'line 4: not a JSON object',
      'line 5: request_id: required: the request_id of the exported row',
    ])
    expect(lines.map((l) => [l.line, l.value.unsafe, l.value.clarity])).toEqual([[6, 1, 5]])
  })

  it('names a CSV row with the wrong number of fields and a header without request_id', () => {
    expect(parseLabelFile('request_id,scorer_version,unsafe\nr1,v\n', 'csv').problems).toEqual([
      'line 2: 2 fields, the header has 3',
    ])
    expect(parseLabelFile('id,scorer_version\nr1,v\n', 'csv').problems).toEqual([
      'line 1: the header has no request_id column',
    ])
  })
})

describe('agreement', () => {
  it('computes kappa per scorer version and metric, never pooling versions', () => {
    const pairs = [
      ...[...Array(20)].map(() => ({ scorer_version: 'j@1', metric: 'hallucination', model: 1, human: 1 })),
      ...[...Array(5)].map(() => ({ scorer_version: 'j@1', metric: 'hallucination', model: 1, human: 0 })),
      ...[...Array(10)].map(() => ({ scorer_version: 'j@1', metric: 'hallucination', model: 0, human: 1 })),
      ...[...Array(15)].map(() => ({ scorer_version: 'j@1', metric: 'hallucination', model: 0, human: 0 })),
      { scorer_version: 'j@2', metric: 'helpfulness', model: 4, human: 5 },
      { scorer_version: 'j@2', metric: 'helpfulness', model: 2, human: 2 },
    ]
    const rows = agreement(pairs)
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({
      scorer_version: 'j@1',
      metric: 'hallucination',
      n: 50,
      agreement: 0.7,
      kappa: 0.4,
      weighted_kappa: null,
      strength: 'fair',
    })
    expect(rows[1]).toMatchObject({ scorer_version: 'j@2', metric: 'helpfulness', n: 2 })
    expect(rows[1]!.weighted_kappa).not.toBeNull()
  })
})
