// node --import tsx bench/raw-insert-probe.ts — chDB's raw passthrough insert at several batch sizes, each in
// turn, on the embedded engine: rows/s per size, and (run with stderr captured) whether the
// engine prints its libc++ hardening assertion. BENCH_SIZES=1000,5000,... BENCH_ROUNDS=3.
// Prints one JSON line per format and size: { format, size, rounds, rows (stored), rows_per_s }.
// test/integration/raw-insert-hardening.test.ts runs it and checks stderr.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../config/load.ts'
import { INTERACTION_COLUMNS, interactionLine, interactionRow } from '../consumers/rows.ts'
import { syntheticInteraction } from '../producers/synthetic.ts'
import { migrate } from '../store/migrate.ts'
import { createStore, type RawInsertFormat } from '../store/store.ts'

const sizes = (process.env.BENCH_SIZES ?? '1000,2000,5000,10000,15000,20000,30000,50000')
  .split(',')
  .map(Number)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const formats = (process.env.BENCH_FORMATS ?? 'JSONCompactEachRow,JSONEachRow').split(
  ',',
) as RawInsertFormat[]
const dataDir = mkdtempSync(join(tmpdir(), 'dw-raw-probe-'))
const config = parseConfig({ clickhouse: { data_dir: dataDir, database: 'probe' } })
const store = await createStore(config.clickhouse)
await migrate(store)
const source = (i: number) => ({ topic: 't', partition: 0, offset: String(i) })
let next = 0
try {
  for (const size of sizes) {
    for (const format of formats) {
      let seconds = 0
      for (let r = 0; r < rounds; r++) {
        const line = (i: number) => {
          const event = syntheticInteraction(i, { seed: 4 })
          return format === 'JSONEachRow'
            ? JSON.stringify(interactionRow(event, source(i)))
            : interactionLine(event, source(i))
        }
        const body = Buffer.from(Array.from({ length: size }, (_, i) => line(next + i)).join('\n'))
        next += size
        const started = performance.now()
        await store.insertRaw('interactions', body, {
          format,
          columns: format === 'JSONEachRow' ? undefined : INTERACTION_COLUMNS,
        })
        seconds += (performance.now() - started) / 1000
        process.stderr.write(`probe: ${format} size ${size} round ${r + 1} done\n`)
      }
      const [stored] = await store.query<{ n: number }>(
        'SELECT count() AS n FROM interactions WHERE kafka_offset >= {from:UInt64} AND kafka_offset < {to:UInt64}',
        { from: next - size * rounds, to: next },
      )
      console.log(
        JSON.stringify({
          format,
          size,
          rounds,
          rows: Number(stored!.n),
          rows_per_s: Math.round((size * rounds) / seconds),
        }),
      )
    }
  }
} finally {
  await store.close()
  rmSync(dataDir, { recursive: true, force: true })
}
