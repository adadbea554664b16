// The hot path's line (raw insert, JSONCompactEachRow) and the row object (client insert)
// store the same values in ClickHouse, column by column, for synthetic and edge-case events,
// including the timestamp the line carries as epoch milliseconds.
import { afterAll, describe, expect, it } from 'vitest'
import { INTERACTION_COLUMNS, interactionLine, interactionRow } from '../../consumers/rows.ts'
import { InteractionSchema } from '../../contract/interaction.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'
import { migrate } from '../../store/migrate.ts'
import type { Store } from '../../store/store.ts'
import { createTestStore } from '../helpers/store.ts'

let store: Store | undefined
afterAll(async () => {
  await store?.close()
})

describe('interaction rows: line and object store the same', () => {
  it('gives identical stored rows through the raw line insert and the client row insert', async () => {
    store = await createTestStore()
    await migrate(store)
    const events = [
      InteractionSchema.parse({
        ...syntheticInteraction(0, { seed: 2 }),
        timestamp: '2026-01-31T23:59:59.999Z',
        session_id: 's\n"1"',
        user_input: 'line\nbreak \u2028 \\ "quoted" ünïcode 🎉',
        context: ['a', ''],
        ttft_ms: 0,
        safety_flag: false,
        attributes: { 'k"ey': 'v' },
      }),
      InteractionSchema.parse({
        ...syntheticInteraction(1, { seed: 2 }),
        timestamp: '2000-01-01T00:00:00.000Z',
      }),
      ...Array.from({ length: 200 }, (_, i) => syntheticInteraction(i + 2, { seed: 9 })),
    ]
    const viaLine = events.map((e, i) => ({ ...e, request_id: `line-${i}` }))
    const viaRow = events.map((e, i) => ({ ...e, request_id: `row-${i}` }))
    const source = (i: number) => ({ topic: 't', partition: 0, offset: String(i) })
    await store.insertRaw(
      'interactions',
      Buffer.from(viaLine.map((e, i) => interactionLine(e, source(i))).join('\n')),
      {
        format: 'JSONCompactEachRow',
        columns: INTERACTION_COLUMNS,
      },
    )
    await store.insert(
      'interactions',
      viaRow.map((e, i) => interactionRow(e, source(i))),
    )
    const columns = INTERACTION_COLUMNS.filter((c) => c !== 'request_id')
      .map((c) => (c === 'timestamp' ? 'toUnixTimestamp64Milli(timestamp) AS timestamp' : c))
      .join(', ')
    const read = (prefix: string) =>
      store!.query<Record<string, unknown>>(
        `SELECT ${columns} FROM interactions WHERE startsWith(request_id, {p:String})
         ORDER BY toUInt32(substring(request_id, length({p:String}) + 1))`,
        { p: prefix },
      )
    const lines = await read('line-')
    const rows = await read('row-')
    expect(lines).toHaveLength(events.length)
    expect(lines).toEqual(rows)
    expect(lines.map((r) => Number(r.timestamp))).toEqual(events.map((e) => e.timestamp))
  })
})
