// Starts the ClickHouse HTTP test harness (test/harness/clickhouse-http-harness.ts) in a child
// process and stops it. The child also exits when this process dies (it watches its stdin), and
// every harness started here is killed on exit, so a failed test leaves no engine behind.

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { getBrokers } from './kafka.ts'
import { testDatabase } from './store.ts'

const HARNESS = join(dirname(fileURLToPath(import.meta.url)), '..', 'harness', 'clickhouse-http-harness.ts')

export interface RunningHarness {
  url: string
  pid: number
  version: string
  /** The engine's data folder. */
  path: string
  child: ChildProcess
  stderr: () => string
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export async function startHttpHarness(
  options: { path?: string; users?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningHarness> {
  const path = options.path ?? mkdtempSync(join(tmpdir(), 'dw-ch-harness-'))
  const users = Object.entries(options.users ?? {}).flatMap(([u, p]) => ['--user', `${u}:${p}`])
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', HARNESS, '--port', '0', '--path', path, '--exit-on-stdin-close', ...users],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  running.add(child)
  let stderr = ''
  child.stderr!.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const ready = await new Promise<{ url: string; pid: number; version: string }>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(
      () => reject(new Error(`the harness did not start in time: ${stderr}`)),
      options.timeoutMs ?? 60_000,
    )
    child.stdout!.on('data', (d) => {
      out += d
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) {
        clearTimeout(timer)
        resolve(JSON.parse(line))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the harness exited (${code}) before listening: ${stderr}`))
    })
  }).catch((error) => {
    child.kill('SIGKILL')
    running.delete(child)
    throw error
  })
  return {
    ...ready,
    path,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
      running.delete(child)
    },
  }
}

/** What a server-mode CLI test needs: its env, database and data folder, and a client on the harness. */
export interface ServerModeCli {
  env: Record<string, string>
  database: string
  dataDir: string
  /** Reads what the CLI stored, straight from the harness (close it when done). */
  client: ClickHouseClient
}

/**
 * The environment for `driftwatch` commands in server mode against `harness`: a database of
 * its own, a data folder of its own (for the instance file) holding `configYaml` as
 * driftwatch.yaml, the shared broker, any free HTTP port.
 */
export function serverModeCli(
  harness: RunningHarness,
  name: string,
  configYaml: string,
  extraEnv: Record<string, string> = {},
): ServerModeCli {
  const database = testDatabase(name)
  const dataDir = mkdtempSync(join(tmpdir(), `dw-${name}-`))
  const configFile = join(dataDir, 'driftwatch.yaml')
  writeFileSync(configFile, configYaml)
  return {
    database,
    dataDir,
    env: {
      KAFKA_BROKERS: getBrokers(),
      CLICKHOUSE_URL: harness.url,
      CLICKHOUSE_DATABASE: database,
      DRIFTWATCH_DATA_DIR: dataDir,
      DRIFTWATCH_HTTP_PORT: '0',
      DRIFTWATCH_CONFIG: configFile,
      ...extraEnv,
    },
    client: createClient({ url: harness.url, database, log: { level: ClickHouseLogLevel.OFF } }),
  }
}
