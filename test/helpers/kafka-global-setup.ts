// vitest globalSetup: one Kafka broker for the whole test run, provided as `kafkaBrokers`.
// KAFKA_BROKERS set → use it. Otherwise a local KRaft broker (infra/kafka-local.ts) in a temp
// dir, or, with DRIFTWATCH_TEST_DOCKER=1 and a working Docker engine, an apache/kafka container.

import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { DEFAULT_KAFKA_VERSION, freePort, parseBrokers, startLocalKafka } from '../../infra/kafka-local.ts'
import { createLogger } from '../../lib/log.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.KAFKA_BROKERS
  if (given) {
    parseBrokers(given)
    project.provide('kafkaBrokers', given)
    return async () => {}
  }
  const log = createLogger({ fields: { component: 'kafka-global-setup' } })
  if (process.env.DRIFTWATCH_TEST_DOCKER === '1' && dockerWorks()) return startContainer(project)

  const dataDir = await mkdtemp(join(tmpdir(), 'driftwatch-kafka-'))
  const kafka = await startLocalKafka({ dataDir, log })
  project.provide('kafkaBrokers', kafka.brokers)
  return async () => {
    await kafka.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

function dockerWorks(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0
}

/** Host port == container port, so the advertised listener is right on both sides. */
async function startContainer(project: TestProject): Promise<() => Promise<void>> {
  const { GenericContainer, Wait } = await import('testcontainers')
  const port = await freePort()
  const container = await new GenericContainer(`apache/kafka:${DEFAULT_KAFKA_VERSION}`)
    .withExposedPorts({ container: port, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${port},CONTROLLER://0.0.0.0:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_NUM_PARTITIONS: '3',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start()
  project.provide('kafkaBrokers', `127.0.0.1:${port}`)
  return async () => {
    await container.stop()
  }
}
