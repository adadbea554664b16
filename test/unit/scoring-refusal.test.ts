import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { detectRefusal, REFUSAL_SCORER_VERSION, refusalRuleSpec } from '../../scoring/refusal.ts'
import { refusalScorerVersion } from '../../scoring/scorer-version.ts'

interface Labelled {
  output: string
  refusal: boolean
  /** 1: written first; 2: hard cases written after the first draft (then tuned on); 3: held out. */
  batch: number
}

const FIXTURE = new URL('../fixtures/refusal-labelled.jsonl', import.meta.url)
const rows: Labelled[] = readFileSync(FIXTURE, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line))

// Documented in docs/scoring.md ("Refusal detector"): measured 1.000 / 0.986 on all 310 rows.
const MIN_PRECISION = 0.97
const MIN_RECALL = 0.95

function metrics(set: Labelled[]) {
  let tp = 0
  let fp = 0
  let fn = 0
  for (const row of set) {
    const predicted = detectRefusal(row.output).refusal
    if (predicted && row.refusal) tp++
    else if (predicted) fp++
    else if (row.refusal) fn++
  }
  return { n: set.length, tp, fp, fn, precision: tp / (tp + fp), recall: tp / (tp + fn) }
}

describe('refusal detector on the labelled fixture', () => {
  it('has enough varied, hand-labelled examples (~40% refusals)', () => {
    expect(rows.length).toBeGreaterThanOrEqual(200)
    const share = rows.filter((r) => r.refusal).length / rows.length
    expect(share).toBeGreaterThan(0.35)
    expect(share).toBeLessThan(0.5)
    expect(new Set(rows.map((r) => r.output)).size).toBe(rows.length)
  })

  it(`precision >= ${MIN_PRECISION} and recall >= ${MIN_RECALL}`, () => {
    const all = metrics(rows)
    const line = (name: string, m: ReturnType<typeof metrics>) =>
      `${name.padEnd(8)} n=${m.n} tp=${m.tp} fp=${m.fp} fn=${m.fn} precision=${m.precision.toFixed(3)} recall=${m.recall.toFixed(3)}`
    console.log(
      [
        `refusal detector ${REFUSAL_SCORER_VERSION}`,
        line('all', all),
        ...[1, 2, 3].map((b) => line(`batch ${b}`, metrics(rows.filter((r) => r.batch === b)))),
      ].join('\n'),
    )
    expect(all.precision).toBeGreaterThanOrEqual(MIN_PRECISION)
    expect(all.recall).toBeGreaterThanOrEqual(MIN_RECALL)
  })
})

describe('detectRefusal', () => {
  it('treats empty or content-free output as a failure to answer', () => {
    for (const output of ['', '   ', '\n\t', '...', null, undefined]) {
      expect(detectRefusal(output)).toEqual({ refusal: true, pattern: 'empty' })
    }
  })

  it('matches typographic and missing apostrophes, any case', () => {
    for (const output of [
      "I can't help with that.",
      'I can’t help with that.',
      'I CANT HELP WITH THAT',
      'i cannot help with that',
    ]) {
      expect(detectRefusal(output)).toEqual({ refusal: true, pattern: 'cannot_help' })
    }
    expect(detectRefusal('I’m unable to assist with that request.').refusal).toBe(true)
    expect(detectRefusal('As an AI language model, I cannot browse the web.').refusal).toBe(true)
  })

  it('looks at the opening: a late "I can\'t help" deep in a long answer is not a refusal', () => {
    const long = `Here is the full migration plan. ${'Step: copy the table, verify counts, swap names. '.repeat(10)}If anything fails, I can't help you roll back automatically, so keep the backup.`
    expect(detectRefusal(long).refusal).toBe(false)
  })

  it('ignores quoted speech and code', () => {
    expect(detectRefusal('The phrase "I cannot help with that" is a typical refusal.').refusal).toBe(false)
    expect(
      detectRefusal('```\nthrow new Error("I cannot provide a value")\n```\nThat is the guard clause.')
        .refusal,
    ).toBe(false)
    expect(detectRefusal('Use `I can’t help` as the test string.').refusal).toBe(false)
  })

  it('treats "I can\'t X, but <answer>" as a caveat and "I can\'t X, but I can Y" as a refusal', () => {
    expect(detectRefusal("I can't say for sure, but the cause is most likely a full disk.").refusal).toBe(
      false,
    )
    expect(detectRefusal("I can't write the essay for you, but I can help you outline it.").refusal).toBe(
      true,
    )
  })

  it('is versioned by its rule list', () => {
    expect(REFUSAL_SCORER_VERSION).toMatch(/^refusal@[0-9a-f]{12}$/)
    expect(REFUSAL_SCORER_VERSION).toBe(refusalScorerVersion(refusalRuleSpec()))
  })

  it('is cheap enough to run on every interaction', () => {
    const answer = `Sure! ${'Here is a detailed paragraph about the topic with numbers 1, 2, 3. '.repeat(60)}`
    const started = performance.now()
    for (let i = 0; i < 2_000; i++) detectRefusal(answer)
    const perCallMs = (performance.now() - started) / 2_000
    console.log(`refusal detector: ${(perCallMs * 1000).toFixed(1)} µs per 4 KB answer`)
    expect(perCallMs).toBeLessThan(2) // generous bound for a shared CI core
  })
})
