// The consumer process killed with SIGKILL mid-stream, between an insert and its commit,
// and restarted: still exactly once. Runs the real CLI in child processes; this test
// process only prepares the store folder and reads it through `driftwatch sql`.
//
// Where a kill lands is up to the scheduler, so it is measured, not hoped for: after each
// kill the store and the group's committed offsets are both frozen, and the rows stored
// past the committed offset are exactly what the kill caught between insert and commit.
// Small chunks (many commits) make that likely; the test kills again until one kill has
// caught some, then checks that the last restart skipped exactly those.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readInstanceFile } from '../../store/instance.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { cliSql, expectExactlyOnce, prepareCountedDataDir, produceJson, until } from '../helpers/ingest.ts'
import { storedCount } from '../helpers/instance.ts'
import { createTopic, getBrokers, testKafka, uniqueTopic } from '../helpers/kafka.ts'

const N = 40_000
const MAX_KILLS = 6

describe('ingest: SIGKILL mid-stream', () => {
  it('stores every interaction exactly once after kill -9 between insert and commit, and a restart', async () => {
    const brokers = getBrokers()
    const topic = uniqueTopic('sigkill')
    const groupId = `${topic}.g`
    await createTopic(brokers, topic, 3)
    await produceJson(brokers, topic, N, { seed: 21 })
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-sigkill-'))
    await prepareCountedDataDir(dataDir)
    // The killed member holds its partitions until its session times out: keep that short.
    // Chunks of 200 while kills are due (many commits), the default for the last run.
    const config = (name: string, body: string) => {
      const file = join(dataDir, '..', `${topic}.${name}.yaml`)
      writeFileSync(file, `ingest:\n  session_timeout_ms: 6000\n${body}`)
      return file
    }
    const env = { KAFKA_BROKERS: brokers, DRIFTWATCH_DATA_DIR: dataDir, DRIFTWATCH_HTTP_PORT: '0' }
    const killedEnv = { ...env, DRIFTWATCH_CONFIG: config('killed', '  batch_size: 200\n') }
    const lastEnv = { ...env, DRIFTWATCH_CONFIG: config('last', '') }
    const args = ['ingest', '--topic', topic, '--group', groupId]
    const sql = cliSql(env)
    const admin = testKafka(brokers).admin()
    await admin.connect()

    /** Rows stored past the group's committed offset, summed over partitions. */
    const storedNotCommitted = async (): Promise<number> => {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
      const committed = new Map(offsets!.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]))
      const stored = await sql.query<{ p: number; end: number }>(
        'SELECT kafka_partition AS p, max(kafka_offset) + 1 AS end FROM interactions GROUP BY p',
      )
      return stored.reduce(
        (sum, s) => sum + Math.max(0, Number(s.end) - (committed.get(Number(s.p)) ?? 0)),
        0,
      )
    }

    const caught: number[] = []
    try {
      let stored = 0
      while (caught.length < MAX_KILLS && !(caught.at(-1)! > 0)) {
        const before = stored
        const run = startCli(args, killedEnv)
        await until(
          'the ingest process to store 3,000 more rows',
          async () => {
            if (run.child.exitCode !== null) throw new Error(`ingest exited:\n${run.stderr().slice(-2000)}`)
            const url = readInstanceFile(dataDir)?.url
            stored = url ? await storedCount(url).catch(() => 0) : 0
            return stored >= before + 3_000
          },
          120_000,
        )
        run.child.kill('SIGKILL')
        expect((await run.done).signal).toBe('SIGKILL')
        caught.push(await storedNotCommitted())
      }
      // Rows over three partitions are contiguous from offset 0 per partition, so `end` is
      // right; and the kills happened mid-stream.
      console.log('sigkill: stored-not-committed per kill', caught)
      expect(stored).toBeLessThan(N)
      expect(caught.at(-1)).toBeGreaterThan(0)

      const last = await runCli([...args, '--until-caught-up'], lastEnv)
      expect(last.code).toBe(0)
      const done = /ingest: done, ([\d,]+) rows stored, ([\d,]+) dead-lettered, ([\d,]+) already stored/.exec(
        last.stderr,
      )
      expect(done, last.stderr.slice(-2000)).not.toBeNull()
      // The restart skipped exactly what the last kill left stored but not committed.
      expect(Number(done![3]!.replace(/,/g, ''))).toBe(caught.at(-1))
      await expectExactlyOnce(sql, { topic, valid: N, poison: 0 })
    } finally {
      await admin.disconnect()
    }
  })
})
