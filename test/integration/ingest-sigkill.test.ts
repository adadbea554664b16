// The consumer process killed with SIGKILL mid-stream and restarted: still exactly 100,000
// rows. Runs the real CLI in child processes; this test process never opens the store.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readInstanceFile } from '../../store/instance.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { cliSql, expectExactlyOnce, prepareCountedDataDir, produceJson } from '../helpers/ingest.ts'
import { storedCount } from '../helpers/instance.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'

const N = 100_000

describe('ingest: SIGKILL mid-stream', () => {
  it('stores every interaction exactly once after a kill -9 and a restart', async () => {
    const brokers = getBrokers()
    const topic = uniqueTopic('sigkill')
    await createTopic(brokers, topic, 3)
    await produceJson(brokers, topic, N, { seed: 21 })
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-sigkill-'))
    await prepareCountedDataDir(dataDir)
    // The killed member holds its partitions until its session times out: keep that short.
    const configFile = join(dataDir, '..', `${topic}.yaml`)
    writeFileSync(configFile, 'ingest:\n  session_timeout_ms: 8000\n')
    const env = {
      KAFKA_BROKERS: brokers,
      DRIFTWATCH_DATA_DIR: dataDir,
      DRIFTWATCH_HTTP_PORT: '0',
      DRIFTWATCH_CONFIG: configFile,
    }
    const args = ['ingest', '--topic', topic, '--group', `${topic}.g`]

    const first = startCli(args, env)
    let storedAtKill = 0
    const deadline = Date.now() + 120_000
    while (Date.now() < deadline) {
      const url = readInstanceFile(dataDir)?.url
      storedAtKill = url ? await storedCount(url).catch(() => 0) : 0
      if (storedAtKill >= 10_000) break
      await new Promise((r) => setTimeout(r, 50))
    }
    first.child.kill('SIGKILL')
    const killed = await first.done
    expect(killed.signal).toBe('SIGKILL')
    expect(storedAtKill).toBeGreaterThanOrEqual(10_000)
    expect(storedAtKill).toBeLessThan(N)

    const second = await runCli([...args, '--until-caught-up'], env)
    expect(second.stderr).toMatch(/ingest: done/)
    expect(second.code).toBe(0)

    await expectExactlyOnce(cliSql(env), { topic, valid: N, poison: 0 })
  })
})
