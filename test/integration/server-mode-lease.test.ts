// The job lease over HTTP (server store against the ClickHouse HTTP test harness): several
// claimers, each with its own client, race for a free lease round after round; every round
// exactly one wins and all agree which; a released lease goes to the next claimer at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { createJobLease } from '../../jobs/lease.ts'
import { migrate } from '../../store/migrate.ts'
import { createStore, type Store } from '../../store/store.ts'
import { type RunningHarness, startHttpHarness } from '../helpers/harness.ts'
import { testDatabase } from '../helpers/store.ts'

let harness: RunningHarness
const stores: Store[] = []

beforeAll(async () => {
  harness = await startHttpHarness()
})
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()))
  await harness?.stop()
})

describe('job lease on a server store', () => {
  it('has exactly one winner per round among racing claimers, each on its own connection', async () => {
    const config = parseConfig({ clickhouse: { url: harness.url, database: testDatabase('srvlease') } })
    for (let i = 0; i < 4; i++) stores.push(await createStore(config.clickhouse))
    expect(stores[0]!.kind).toBe('server')
    await migrate(stores[0]!)
    const leases = stores.map((store, i) =>
      createJobLease({ store, holder: `runner-${i}`, ttlMs: 60_000, settleMs: 300 }),
    )

    const winners: string[] = []
    for (let round = 0; round < 6; round++) {
      const won = await Promise.all(leases.map((l) => l.acquire()))
      expect(won.filter(Boolean), `round ${round}`).toHaveLength(1)
      const winner = leases[won.indexOf(true)]!
      const states = await Promise.all(leases.map((l) => l.state()))
      for (const s of states) expect(s).toMatchObject({ holder: winner.holder, term: round + 1, free: false })
      // The others cannot take it while it is held; renewing keeps it.
      for (const l of leases) expect(await l.acquire()).toBe(l === winner)
      winners.push(winner.holder)
      await winner.release()
      expect((await leases[0]!.state()).free).toBe(true)
    }
    expect(winners).toHaveLength(6)
  })
})
