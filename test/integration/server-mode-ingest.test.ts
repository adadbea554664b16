// Server mode (CLICKHOUSE_URL) against the ClickHouse HTTP test harness and the real broker:
// migrations over HTTP, then two `driftwatch ingest` processes in one consumer group on a
// 4-partition topic with poison in every partition; once both own partitions `driftwatch
// produce` sends the valid traffic at a fixed rate, and one consumer is killed with SIGKILL
// mid-stream;
// the other takes its partitions over. Every valid row is stored exactly once (raw count,
// not FINAL) and every poison message once in ingest_errors.
import type { ClickHouseClient } from '@clickhouse/client'
import { AssignerProtocol, type Message } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { groupLag } from '../../consumers/lag.ts'
import { killAll, type Running, runCli, startCli } from '../helpers/cli.ts'
import { type RunningHarness, serverModeCli, startHttpHarness } from '../helpers/harness.ts'
import { produceRaw } from '../helpers/ingest.ts'
import { createTopic, getBrokers, testKafka, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const N = 60_000
const PARTITIONS = 4
const POISON_PER_PARTITION = 3

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

async function scalar(sql: string): Promise<number> {
  const result = await client.query({ query: sql, format: 'JSONEachRow' })
  const [row] = (await result.json()) as Array<{ v: string }>
  return Number(row!.v)
}

describe('server mode: two ingest processes, one killed', () => {
  it('stores every valid row once and every poison message once after a SIGKILL of one of two consumers', async () => {
    const brokers = getBrokers()
    const topic = uniqueTopic('server-ingest')
    const group = `${topic}.g`
    await createTopic(brokers, topic, PARTITIONS)
    await createTopic(brokers, `${topic}.dlq`, 1)
    // Poison first in every partition, then valid traffic spread over all partitions.
    const poison: Message[] = []
    for (let p = 0; p < PARTITIONS; p++)
      for (let i = 0; i < POISON_PER_PARTITION; i++)
        poison.push({
          partition: p,
          key: `poison-${p}-${i}`,
          value: Buffer.from(`{"request_id": "p${p}-${i}", broken`),
        })
    await produceRaw(brokers, topic, poison)

    // A killed member holds its partitions until its session times out: keep that short.
    const cli = serverModeCli(harness, 'srv', 'ingest:\n  session_timeout_ms: 8000\n')
    const { env } = cli
    client = cli.client

    const migrated = await runCli(['migrate'], env)
    expect(migrated.code, migrated.stderr).toBe(0)
    expect(migrated.stdout).toMatch(/applied 001_interactions, .*\(server: http:\/\/127\.0\.0\.1:\d+\/\)/)
    const again = await runCli(['migrate'], env)
    expect(again.stdout).toMatch(/schema up to date/)

    const args = ['ingest', '--topic', topic, '--group', group]
    const a = startCli(args, env)
    const b = startCli(args, env)
    children.push(a, b)

    const admin = testKafka(brokers).admin()
    await admin.connect()
    try {
      // Both share the group, each with partitions of its own (the poison is all there is yet).
      const owners = async () => {
        const [described] = (await admin.describeGroups([group])).groups
        if (described?.state !== 'Stable') return 0
        return described.members.filter((m) => {
          const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)
          return (assignment?.assignment[topic]?.length ?? 0) > 0
        }).length
      }
      await waitFor(
        'both consumers owning partitions',
        120_000,
        async () => ((await owners()) === 2 ? true : undefined),
        50,
      )

      // Then the valid traffic, at a fixed rate (20 s), so the kill falls mid-stream however
      // fast the consumers are: once rows are flowing, with the producer still sending.
      const producer = startCli(
        ['produce', '--synthetic', String(N), '--topic', topic, '--rate', '3000', '--seed', '41'],
        env,
      )
      children.push(producer)
      const storedAtKill = await waitFor(
        'rows flowing',
        120_000,
        async () => {
          const n = await scalar('SELECT count() AS v FROM interactions')
          return n >= 5_000 ? n : undefined
        },
        50,
      )
      const producing = producer.child.exitCode === null
      a.child.kill('SIGKILL')
      expect((await a.done).signal).toBe('SIGKILL')
      expect(producing).toBe(true)
      expect(storedAtKill).toBeLessThan(N)
      const produced = await producer.done
      expect(produced.code, produced.stderr).toBe(0)

      // The survivor takes the killed member's partitions after its session times out, and
      // drains the topic: wait until the group has committed every offset.
      const drainBy = Date.now() + 150_000
      let lag = Number.POSITIVE_INFINITY
      while (Date.now() < drainBy && lag !== 0) {
        const l = await groupLag(admin, group, [topic])
        lag = l.partitions.length === PARTITIONS ? l.total : Number.POSITIVE_INFINITY
        if (lag !== 0) await new Promise((r) => setTimeout(r, 500))
      }
      expect(lag).toBe(0)
    } finally {
      await admin.disconnect()
    }
    b.child.kill('SIGTERM')
    const survivor = await b.done
    expect(survivor.code, survivor.stderr).toBe(0)
    expect(survivor.stderr).toMatch(/server store http:\/\/127\.0\.0\.1/)

    expect(await scalar('SELECT count() AS v FROM interactions')).toBe(N)
    expect(await scalar('SELECT uniqExact(request_id) AS v FROM interactions')).toBe(N)
    expect(await scalar('SELECT uniqExact(kafka_partition, kafka_offset) AS v FROM interactions')).toBe(N)
    expect(await scalar('SELECT uniqExact(kafka_partition) AS v FROM interactions')).toBe(PARTITIONS)
    expect(await scalar('SELECT count() AS v FROM ingest_errors')).toBe(PARTITIONS * POISON_PER_PARTITION)
    expect(await scalar('SELECT uniqExact(kafka_partition, kafka_offset) AS v FROM ingest_errors')).toBe(
      PARTITIONS * POISON_PER_PARTITION,
    )
  })
})
