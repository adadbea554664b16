// The hand-written hot-path validator agrees with the zod schema of record: over thousands of
// generated events (valid ones, and ones with one to three fields broken in every way a
// producer gets them wrong), both accept the same events and produce the same interaction.

import { describe, expect, it } from 'vitest'
import { fastInteraction } from '../../contract/fast-interaction.ts'
import { INTERACTION_FIELDS, InteractionSchema } from '../../contract/interaction.ts'
import { mulberry32, syntheticInteraction } from '../../producers/synthetic.ts'

const long = (n: number) => 'x'.repeat(n)

// Values tried for every field; many are valid for some fields and invalid for others.
const ANY: unknown[] = [
  undefined,
  null,
  '',
  'a',
  ' ',
  long(64),
  long(65),
  long(128),
  long(129),
  long(256),
  long(257),
  'ok',
  'error',
  'timeout',
  'text',
  'image',
  'multimodal',
  'TEXT',
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  2_147_483_647,
  2_147_483_648,
  1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  [],
  ['doc'],
  ['a', 'b'],
  ['a', 1],
  [null],
  {},
  { k: 'v' },
  { n: 2, b: true },
  { bad: null },
  { bad: { x: 1 } },
  { bad: [1] },
  { inf: Number.POSITIVE_INFINITY },
  '2025-01-06T09:00:00.000Z',
  '2025-01-06 09:00:00',
  '2025-01-06T09:00:00+02',
  '2025-01-06T09:00:00+0230',
  '2025-01-06T09:00:00,5Z',
  '2025-01-06',
  '2025-13-06T09:00:00Z',
  '1736154000000',
  '1736154000',
  1736154000000,
  1736154000000.7,
  1736154000,
  1736154000000000,
  946684800000,
  946684799999,
  4102444800000,
  4102444799999,
]

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!

function generated(count: number, seed: number): unknown[] {
  const random = mulberry32(seed)
  const out: unknown[] = []
  for (let i = 0; i < count; i++) {
    const base: Record<string, unknown> = { ...syntheticInteraction(i, { seed }) }
    // Producers send ISO strings or epoch ms, sometimes extra fields.
    if (random() < 0.3) base.timestamp = new Date(base.timestamp as number).toISOString()
    if (random() < 0.2) base.trace_id = 'extra'
    const broken = i % 4 === 0 ? 0 : 1 + Math.floor(random() * 3)
    for (let b = 0; b < broken; b++) {
      const field = pick(random, INTERACTION_FIELDS)
      const value = pick(random, ANY)
      if (value === undefined) delete base[field]
      else base[field] = value
    }
    out.push(base)
  }
  return out
}

describe('fastInteraction agrees with InteractionSchema', () => {
  it('on 20,000 generated events, valid and invalid: same verdict, same output', () => {
    let accepted = 0
    let rejected = 0
    for (const event of generated(20_000, 11)) {
      const zod = InteractionSchema.safeParse(event)
      const fast = fastInteraction(event)
      if (zod.success) {
        accepted++
        expect(fast, JSON.stringify(event)).toEqual(zod.data)
      } else {
        rejected++
        expect(fast, JSON.stringify(event)).toBeUndefined()
      }
    }
    // Both kinds are well represented, so agreement is not vacuous.
    expect(accepted).toBeGreaterThan(5_000)
    expect(rejected).toBeGreaterThan(5_000)
  })

  it('on JSON round trips of the same events (what the hot path really sees)', () => {
    for (const event of generated(5_000, 12)) {
      const parsed = JSON.parse(JSON.stringify(event) ?? 'null')
      const zod = InteractionSchema.safeParse(parsed)
      expect(fastInteraction(parsed)).toEqual(zod.success ? zod.data : undefined)
    }
  })

  it('on values that are not objects', () => {
    for (const value of [null, undefined, 1, 'x', [], [{}], true]) {
      expect(InteractionSchema.safeParse(value).success).toBe(false)
      expect(fastInteraction(value)).toBeUndefined()
    }
  })
})
