// The broker is the fault here, so this file runs its own (`kafka up` in a temp state dir)
// instead of the run's shared one: `driftwatch ingest` started while no broker listens
// waits for it with a clear log line, ingests once it is up, and rides out the broker being
// stopped for 10 s and started again (same port, same data) mid-stream: long enough for
// kafkajs to give up and restart its consumer, and rows produced after the restart must be
// ingested too. Exactly once at the end, and SIGTERM still ends the process.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, kafkaDown, kafkaUp } from '../../infra/kafka-local.ts'
import { readInstanceFile } from '../../store/instance.ts'
import { startCli } from '../helpers/cli.ts'
import { cliSql, expectExactlyOnce, prepareCountedDataDir, produceJson } from '../helpers/ingest.ts'
import { storedCount } from '../helpers/instance.ts'
import { createTopic, uniqueTopic } from '../helpers/kafka.ts'
import { until } from '../helpers/wait.ts'

const BEFORE = 20_000
const AFTER = 10_000
let exited = () => false

/** until(), failing at once if the ingest process exited meanwhile. */
function whileIngestRuns(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  return until(
    what,
    async () => {
      if (exited()) throw new Error(`ingest exited while waiting for ${what}`)
      return check()
    },
    ms,
  )
}

describe('ingest: the broker is down at start and restarts mid-stream', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'dw-broker-faults-'))
  afterAll(async () => {
    await kafkaDown({ stateDir })
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('waits for an unreachable broker, then stores every interaction exactly once across a broker restart', async () => {
    const port = await freePort()
    const brokers = `127.0.0.1:${port}`
    const topic = uniqueTopic('brokerfault')
    const dataDir = join(stateDir, 'store')
    // A consumer kafkajs restarted joins as a new member; the group waits for the old one's
    // session to time out before it rebalances: keep that short.
    const configFile = join(stateDir, 'driftwatch.yaml')
    writeFileSync(configFile, 'ingest:\n  session_timeout_ms: 10000\n')
    const env = {
      KAFKA_BROKERS: brokers,
      DRIFTWATCH_DATA_DIR: dataDir,
      DRIFTWATCH_HTTP_PORT: '0',
      DRIFTWATCH_CONFIG: configFile,
      DRIFTWATCH_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    }
    await prepareCountedDataDir(dataDir)
    const ingest = startCli(['ingest', '--topic', topic, '--group', `${topic}.g`], env)
    exited = () => ingest.child.exitCode !== null
    try {
      // No broker yet: ingest says so and keeps waiting instead of exiting.
      await whileIngestRuns(
        'the unreachable-broker log line',
        () => /Kafka broker unreachable/.test(ingest.stderr()),
        30_000,
      )
      await new Promise((r) => setTimeout(r, 9_000)) // longer than kafkajs' own ~8 s of retries
      expect(ingest.child.exitCode).toBeNull()

      const up = await kafkaUp({ stateDir, port })
      expect(up.brokers).toBe(brokers)
      await createTopic(brokers, topic, 3)
      await produceJson(brokers, topic, BEFORE, { seed: 31 })

      let url: string | undefined
      await whileIngestRuns(
        'ingest to store its first rows',
        async () => {
          url ??= readInstanceFile(dataDir)?.url
          return url !== undefined && (await storedCount(url).catch(() => 0)) >= 3_000
        },
        120_000,
      )

      // The broker goes away mid-stream and comes back on the same port with the same data.
      await kafkaDown({ stateDir })
      await new Promise((r) => setTimeout(r, 10_000))
      const again = await kafkaUp({ stateDir })
      expect(again.brokers).toBe(brokers)
      await produceJson(brokers, topic, AFTER, { seed: 31 }, { from: BEFORE })

      await whileIngestRuns(
        'every row to be stored',
        async () => (await storedCount(url!).catch(() => 0)) >= BEFORE + AFTER,
        180_000,
      )
      // A little longer: a row stored twice would show up as count > BEFORE + AFTER.
      await new Promise((r) => setTimeout(r, 2_000))
    } catch (error) {
      throw new Error(`${error}\ningest stderr:\n${ingest.stderr().slice(-4000)}`)
    } finally {
      ingest.child.kill('SIGTERM')
    }
    // SIGTERM must end ingest: after the broker restart kafkajs' disconnect could wait forever
    // (the cause of this test's 240 s timeouts; the consumer now bounds it by its session
    // timeout), and a consumer kafkajs restarted after stop() kept the process alive.
    const done = await Promise.race([
      ingest.done,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`ingest ignored SIGTERM:\n${ingest.stderr().slice(-4000)}`)),
          60_000,
        ),
      ),
    ])
    expect(done.code).toBe(0)

    await expectExactlyOnce(cliSql(env), { topic, valid: BEFORE + AFTER, poison: 0 })
  })
})
