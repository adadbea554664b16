// Server mode (CLICKHOUSE_URL) against the ClickHouse HTTP test harness: two `driftwatch jobs`
// processes share one store. Only the job-lease holder runs scheduled jobs (job_runs rows carry
// the pid), never both in the same schedule slot; when the holder is killed with SIGKILL the
// other takes the lease over once it expires and runs them from then on.
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killAll, type Running, runCli, startCli } from '../helpers/cli.ts'
import { type RunningHarness, serverModeCli, startHttpHarness } from '../helpers/harness.ts'
import { waitFor } from '../helpers/wait.ts'

let harness: RunningHarness
let client: ClickHouseClient
const children: Running[] = []

beforeAll(async () => {
  harness = await startHttpHarness()
})
afterAll(async () => {
  await killAll(children)
  await client?.close()
  await harness?.stop()
})

interface Run {
  pid: number
  slot: number
  started_ms: number
}

async function scheduledRuns(): Promise<Run[]> {
  const result = await client.query({
    query: `SELECT pid, intDiv(toUnixTimestamp64Milli(started_at), 2000) AS slot,
                   toUnixTimestamp64Milli(started_at) AS started_ms
              FROM job_runs FINAL WHERE job = 'refusal' AND trigger = 'scheduled' ORDER BY started_at`,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  })
  return (await result.json()) as Run[]
}

describe('server mode: two job runners', () => {
  it('runs scheduled jobs in the lease holder only, and in the other runner once the holder is killed', async () => {
    // refusal every 2 s (6-field cron); a short lease so a killed holder is replaced in ~12 s.
    const cli = serverModeCli(
      harness,
      'srvjobs',
      "jobs:\n  lease_ttl_ms: 9000\n  schedule:\n    refusal: '*/2 * * * * *'\n",
      { DRIFTWATCH_LOG_LEVEL: 'info' },
    )
    const { env } = cli
    client = cli.client
    const migrated = await runCli(['migrate'], env)
    expect(migrated.code, migrated.stderr).toBe(0)

    const runners = [startCli(['jobs'], env), startCli(['jobs'], env)]
    children.push(...runners)
    const pids = runners.map((r) => r.child.pid!)

    // Both run; scheduled runs pile up, every one of them in the same process.
    const before = await waitFor(
      'three scheduled runs',
      60_000,
      async () => {
        const runs = await scheduledRuns()
        return runs.length >= 3 ? runs : undefined
      },
      250,
    )
    const holderPid = before[0]!.pid
    expect(pids).toContain(holderPid)
    const holder = runners[pids.indexOf(holderPid)]!
    const other = runners.find((r) => r !== holder)!
    expect(other.child.exitCode).toBeNull()
    expect(new Set(before.map((r) => r.pid))).toEqual(new Set([holderPid]))
    expect(holder.stderr()).toMatch(/job lease acquired/)
    // The other may have started later (start-up under load): it says it waits once it runs.
    await waitFor(
      'the other runner waiting for the lease',
      60_000,
      async () => (/job lease held by another process/.test(other.stderr()) ? true : undefined),
      250,
    )
    expect(other.stderr()).not.toMatch(/job lease acquired/)
    expect(new Set((await scheduledRuns()).map((r) => r.pid))).toEqual(new Set([holderPid]))

    holder.child.kill('SIGKILL')
    expect((await holder.done).signal).toBe('SIGKILL')
    const killedRuns = (await scheduledRuns()).filter((r) => r.pid === holderPid).length

    // The survivor claims the expired lease and runs the schedule from then on.
    const after = await waitFor(
      'three scheduled runs by the survivor',
      60_000,
      async () => {
        const runs = await scheduledRuns()
        return runs.filter((r) => r.pid === other.child.pid).length >= 3 ? runs : undefined
      },
      250,
    )
    expect(other.stderr()).toMatch(/job lease acquired/)
    expect(after.filter((r) => r.pid === holderPid)).toHaveLength(killedRuns)
    // Whatever the killed holder left running was closed when the lease was taken over.
    const left = await client.query({
      query: `SELECT count() AS n FROM job_runs FINAL WHERE pid = {pid:UInt32} AND status = 'running'`,
      query_params: { pid: holderPid },
      format: 'JSONEachRow',
    })
    expect(await left.json()).toEqual([{ n: '0' }])
    // Never two processes in one slot, and the survivor only after the holder's last run.
    const slots = new Map<number, Set<number>>()
    for (const r of after) slots.set(r.slot, (slots.get(r.slot) ?? new Set()).add(r.pid))
    for (const [slot, inSlot] of slots) expect(inSlot.size, `slot ${slot}`).toBe(1)
    const lastOfHolder = Math.max(...after.filter((r) => r.pid === holderPid).map((r) => r.started_ms))
    const firstOfSurvivor = Math.min(
      ...after.filter((r) => r.pid === other.child.pid).map((r) => r.started_ms),
    )
    expect(firstOfSurvivor).toBeGreaterThan(lastOfHolder)

    other.child.kill('SIGTERM')
    const stopped = await other.done
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0)
  })
})
