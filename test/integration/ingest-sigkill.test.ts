// The consumer process killed with SIGKILL mid-stream, then between an insert and its
// commit, and restarted: still exactly once. Child processes only: `driftwatch ingest`
// killed at whatever moment, then the consumer in test/helpers/ingest-until-landed.ts,
// which stops dead after an insert and before its commit (a kill at a random moment lands
// there only about a third to half of the time, measured), then `driftwatch ingest
// --until-caught-up`. This test process only prepares the store folder and reads it
// through `driftwatch sql`. After a kill the store and the group's committed offsets are
// both frozen: the rows stored past the committed offset are what the kill caught between
// insert and commit, and the restart must skip exactly those.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readInstanceFile } from '../../store/instance.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { cliSql, expectExactlyOnce, prepareCountedDataDir, produceJson } from '../helpers/ingest.ts'
import { storedCount } from '../helpers/instance.ts'
import { createTopic, getBrokers, testKafka, uniqueTopic } from '../helpers/kafka.ts'
import { until } from '../helpers/wait.ts'

const N = 40_000
const LANDED_CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'ingest-until-landed.ts')

describe('ingest: SIGKILL mid-stream', () => {
  it('stores every interaction exactly once after kill -9 mid-stream, kill -9 between insert and commit, and a restart', async () => {
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

    try {
      // 1. The real command, killed at whatever moment it is at after 5,000 rows.
      const first = startCli(args, killedEnv)
      await until(
        'the ingest process to store 5,000 rows',
        async () => {
          if (first.child.exitCode !== null) throw new Error(`ingest exited:\n${first.stderr().slice(-2000)}`)
          const url = readInstanceFile(dataDir)?.url
          return (url ? await storedCount(url).catch(() => 0) : 0) >= 5_000
        },
        120_000,
      )
      first.child.kill('SIGKILL')
      expect((await first.done).signal).toBe('SIGKILL')

      // 2. The consumer stopped dead after its third insert, before that insert's commit.
      const argsFile = join(dataDir, '..', `${topic}.landed.json`)
      writeFileSync(
        argsFile,
        JSON.stringify({ brokers, topic, groupId, dataDir, batchSize: 2000, landAfter: 3 }),
      )
      const child = spawn(process.execPath, ['--import', 'tsx', LANDED_CHILD, argsFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => {
        out += d
      })
      child.stderr.on('data', (d) => {
        err += d
      })
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('close', (_, signal) => resolve(signal)),
      )
      await until(
        'the consumer to stop after an insert, before its commit',
        () => {
          if (child.exitCode !== null) throw new Error(`consumer exited:\n${err.slice(-2000)}`)
          return out.includes('landed')
        },
        120_000,
      )
      child.kill('SIGKILL')
      expect(await exited).toBe('SIGKILL')
      const caught = await storedNotCommitted()
      expect(caught).toBeGreaterThan(0)

      // 3. The restart skips exactly what the kill caught, and stores the rest once.
      const last = await runCli([...args, '--until-caught-up'], lastEnv)
      expect(last.code).toBe(0)
      const done = /ingest: done, ([\d,]+) rows stored, ([\d,]+) dead-lettered, ([\d,]+) already stored/.exec(
        last.stderr,
      )
      expect(done, last.stderr.slice(-2000)).not.toBeNull()
      expect(Number(done![3]!.replace(/,/g, ''))).toBe(caught)
      await expectExactlyOnce(sql, { topic, valid: N, poison: 0 })
    } finally {
      await admin.disconnect()
    }
  })
})
