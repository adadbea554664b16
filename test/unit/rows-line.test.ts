// interactionLine (the hot path's JSONCompactEachRow line) carries exactly the values of
// interactionRow, in INTERACTION_COLUMNS order, for every shape of interaction.
import { describe, expect, it } from 'vitest'
import { INTERACTION_COLUMNS, interactionLine, interactionRow } from '../../consumers/rows.ts'
import { InteractionSchema } from '../../contract/interaction.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'

describe('interactionLine', () => {
  it('equals the values of interactionRow in column order, over synthetic and edge-case events', () => {
    const source = { topic: 'topic "q"', partition: 2, offset: '123456789' }
    const edge = InteractionSchema.parse({
      ...syntheticInteraction(0, { seed: 1 }),
      session_id: 's\n"1"',
      user_input: 'line\nbreak \u2028 \\ "quoted" \u0000 ünïcode 🎉',
      context: ['a', ''],
      ttft_ms: 0,
      cost_usd: 0.000001,
      safety_flag: false,
      user_feedback_score: -1.5,
      attributes: { 'k"ey': 'v', n: 2, b: true },
    })
    const events = [edge, ...Array.from({ length: 500 }, (_, i) => syntheticInteraction(i, { seed: 5 }))]
    for (const event of events) {
      const row = interactionRow(event, source)
      expect(Object.keys(row)).toEqual([...INTERACTION_COLUMNS])
      const line = interactionLine(event, source)
      expect(line).not.toContain('\n')
      // The same values, except the timestamp: epoch ms in the line, ClickHouse text in the row.
      const values = JSON.parse(line)
      expect(values[1]).toBe(event.timestamp)
      expect(values).toEqual(INTERACTION_COLUMNS.map((c) => (c === 'timestamp' ? event.timestamp : row[c])))
    }
  })
})
