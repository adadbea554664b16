// Runs a real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) from
// Maven Central jars, with no Docker: resolve the classpath once into a cache, format the
// storage, start `kafka.Kafka`, wait until kafkajs can talk to it, stop it cleanly.
// `kafkaUp/kafkaDown/kafkaStatus` keep one long-lived broker per state directory.

import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { ConfigError, DriftwatchError, errorMessage } from '../lib/errors.ts'
import { type Logger, silentLogger } from '../lib/log.ts'
import { abortableSleep, withRetry } from '../lib/retry.ts'

/** Verified with kafkajs 2.2.4 (produce, group consume, commit, admin); see docs/kafka.md. */
export const DEFAULT_KAFKA_VERSION = '4.1.2'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const POM = join(ROOT, 'infra', 'kafka', 'pom.xml')

export interface ClasspathOptions {
  /** Holds `<version>/libs/*.jar`; default `<repo>/.cache/kafka` (env DRIFTWATCH_KAFKA_CACHE). */
  cacheDir?: string
  version?: string
  log?: Logger
}

/** Returns the broker's Java classpath (`<dir>/*`), calling Maven only on a cache miss. */
export async function ensureKafkaClasspath(options: ClasspathOptions = {}): Promise<string> {
  const log = options.log ?? silentLogger
  const version = options.version ?? process.env.DRIFTWATCH_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION
  const cacheDir = options.cacheDir ?? process.env.DRIFTWATCH_KAFKA_CACHE ?? join(ROOT, '.cache', 'kafka')
  const libs = join(cacheDir, version, 'libs')
  const classpath = join(libs, '*')
  if (existsSync(join(libs, '.complete'))) return classpath

  const staging = `${libs}.tmp-${process.pid}`
  log.info('resolving Kafka jars with Maven (first run only)', { version, dir: libs })
  const started = Date.now()
  const args = ['-q', '-B', '-Dstyle.color=never', '-f', POM, 'dependency:copy-dependencies']
  args.push(`-Dkafka.version=${version}`, `-DoutputDirectory=${staging}`)
  const result = await run('mvn', args)
  if (result.code !== 0) {
    await rm(staging, { recursive: true, force: true })
    throw new DriftwatchError(
      'KAFKA_CLASSPATH',
      `Maven could not resolve org.apache.kafka:kafka_2.13:${version}:\n${tail(result.output, 40)}`,
      {
        fix: 'Check that `mvn` is installed and Maven Central is reachable, or set KAFKA_BROKERS to an existing broker.',
      },
    )
  }
  await writeFile(join(staging, '.complete'), `${version}\n`)
  if (existsSync(join(libs, '.complete'))) {
    await rm(staging, { recursive: true, force: true }) // another process won the race
  } else {
    await rm(libs, { recursive: true, force: true })
    await rename(staging, libs)
  }
  log.info('Kafka jars resolved', { version, ms: Date.now() - started })
  return classpath
}

export interface StartOptions {
  /** Holds server.properties, broker.log and the Kafka log dirs; reused if already formatted. */
  dataDir: string
  /** Client port; a free one when not given. */
  port?: number
  controllerPort?: number
  log?: Logger
  version?: string
  cacheDir?: string
  /** JVM max heap, default `512m` (env DRIFTWATCH_KAFKA_HEAP). */
  heap?: string
  readyTimeoutMs?: number
  /** true: the broker outlives this process (`kafkaUp`); false: it dies with it. */
  detached?: boolean
  signal?: AbortSignal
}

export interface LocalKafka {
  /** `127.0.0.1:<port>`, ready for kafkajs `brokers: brokers.split(',')`. */
  brokers: string
  pid: number
  port: number
  controllerPort: number
  dataDir: string
  logFile: string
  stop(): Promise<void>
}

export async function startLocalKafka(options: StartOptions): Promise<LocalKafka> {
  const log = options.log ?? silentLogger
  const dataDir = resolve(options.dataDir)
  const classpath = await ensureKafkaClasspath({ cacheDir: options.cacheDir, version: options.version, log })
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
  const port = options.port ?? (await freePort())
  const controllerPort = options.controllerPort ?? (await freePort())
  for (const p of [port, controllerPort]) {
    if (!(await portFree(p)))
      throw new DriftwatchError('KAFKA_PORT_IN_USE', `Port ${p} on 127.0.0.1 is in use`, {
        fix: `Stop what listens on ${p}, or pick another port. \`kafka up\` reuses the ports in <state dir>/ports.json: delete that file to get new ones (clients then need the new address).`,
      })
  }
  const logDir = join(dataDir, 'logs')
  const propsFile = join(dataDir, 'server.properties')
  const logFile = join(dataDir, 'broker.log')
  await mkdir(logDir, { recursive: true })
  await writeFile(propsFile, serverProperties(port, controllerPort, logDir))

  if (!existsSync(join(logDir, 'meta.properties'))) {
    const newId = randomBytes(16).toString('base64url')
    const format = await run(java, [
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      newId,
      '-c',
      propsFile,
    ])
    if (format.code !== 0) {
      const noJava = /ENOENT|UnsupportedClassVersionError/.test(format.output)
      throw new DriftwatchError('KAFKA_START', `Kafka storage format failed:\n${tail(format.output, 20)}`, {
        fix: noJava
          ? 'Kafka 4 needs Java 17+: install it (or set JAVA_HOME), or set KAFKA_BROKERS to an existing broker.'
          : `Remove ${dataDir} and retry.`,
      })
    }
  }

  const clusterId = readClusterId(dataDir)
  const out = await open(logFile, 'w')
  const heap = options.heap ?? process.env.DRIFTWATCH_KAFKA_HEAP ?? '512m'
  const jvm = [
    `-Xmx${heap}`,
    '-Xms128m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
  ]
  const started = Date.now()
  const child = spawn(java, [...jvm, '-cp', classpath, 'kafka.Kafka', propsFile], {
    detached: options.detached ?? false,
    stdio: ['ignore', out.fd, out.fd],
  })
  await out.close()
  let died: string | undefined
  const exited = new Promise<void>((done) => {
    child.once('exit', (code, sig) => {
      died = `exit ${code ?? sig}`
      done()
    })
    child.once('error', (error) => {
      died = errorMessage(error)
      done()
    })
  })
  const killOnExit = () => child.kill('SIGKILL')
  if (options.detached) child.unref()
  else process.once('exit', killOnExit)

  const brokers = `127.0.0.1:${port}`
  const stop = async () => {
    process.removeListener('exit', killOnExit)
    if (!died) await stopChild(child, exited)
  }
  log.info('starting Kafka broker', { brokers, pid: child.pid, logFile })
  try {
    await waitReady({
      brokers,
      clusterId,
      died: () => died,
      logFile,
      timeoutMs: options.readyTimeoutMs ?? 90_000,
      signal: options.signal,
    })
    await warmGroupCoordinator(brokers, options.signal)
  } catch (error) {
    await stop()
    throw error
  }
  log.info('Kafka broker ready', { brokers, ms: Date.now() - started })
  return { brokers, pid: child.pid ?? -1, port, controllerPort, dataDir, logFile, stop }
}

export function serverProperties(port: number, controllerPort: number, logDir: string): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': logDir,
    'num.partitions': 3,
    'default.replication.factor': 1,
    'auto.create.topics.enable': true,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 5,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 5,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'min.insync.replicas': 1,
    'group.initial.rebalance.delay.ms': 0,
  }
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`
}

// ---- long-lived broker per state directory (driftwatch kafka up|down|status) ----

export interface StateOptions {
  /** Default `<cwd>/.driftwatch/kafka`, or env DRIFTWATCH_KAFKA_DIR. */
  stateDir?: string
  cwd?: string
  env?: NodeJS.ProcessEnv
  port?: number
  log?: Logger
  signal?: AbortSignal
}

interface KafkaState {
  pid: number
  port: number
  controllerPort: number
  brokers: string
  dataDir: string
  startedAt: string
}

export interface KafkaStatus {
  running: boolean
  brokers?: string
  pid?: number
  stateDir: string
  dataDir: string
}

export function kafkaStateDir(options: Pick<StateOptions, 'stateDir' | 'cwd' | 'env'> = {}): string {
  const env = options.env ?? process.env
  return resolve(
    options.stateDir ??
      env.DRIFTWATCH_KAFKA_DIR ??
      join(options.cwd ?? process.cwd(), '.driftwatch', 'kafka'),
  )
}

/** Starts the broker unless the recorded one is alive and answering; data survives down/up. */
export async function kafkaUp(
  options: StateOptions = {},
): Promise<{ brokers: string; pid: number; reused: boolean }> {
  const stateDir = kafkaStateDir(options)
  const current = await kafkaStatus(options)
  if (current.running && current.brokers && current.pid)
    return { brokers: current.brokers, pid: current.pid, reused: true }
  const state = await readState(stateDir)
  if (state && isBroker(state.pid)) await stopPid(state.pid) // alive but not answering
  // The same ports as last time: consumers and producers started before a `down` keep the
  // address they were given and reconnect once the broker is back.
  const ports = await readPorts(stateDir)
  const kafka = await startLocalKafka({
    dataDir: join(stateDir, 'data'),
    port: options.port ?? ports?.port,
    controllerPort: options.port === undefined ? ports?.controllerPort : undefined,
    log: options.log,
    signal: options.signal,
    detached: true,
  })
  const record: KafkaState = { ...kafka, startedAt: new Date().toISOString() }
  await writeFile(join(stateDir, 'state.json'), `${JSON.stringify(pick(record), null, 2)}\n`)
  const kept: KafkaPorts = { port: kafka.port, controllerPort: kafka.controllerPort }
  await writeFile(join(stateDir, PORTS_FILE), `${JSON.stringify(kept, null, 2)}\n`)
  return { brokers: kafka.brokers, pid: kafka.pid, reused: false }
}

/** Kept across `down`: the ports the broker of this state directory listens on. */
const PORTS_FILE = 'ports.json'

interface KafkaPorts {
  port: number
  controllerPort: number
}

async function readPorts(stateDir: string): Promise<KafkaPorts | undefined> {
  try {
    const ports = JSON.parse(await readFile(join(stateDir, PORTS_FILE), 'utf8')) as KafkaPorts
    return Number.isInteger(ports.port) && Number.isInteger(ports.controllerPort) ? ports : undefined
  } catch {
    return undefined
  }
}

export async function kafkaDown(options: StateOptions = {}): Promise<{ stopped: boolean }> {
  const stateDir = kafkaStateDir(options)
  const state = await readState(stateDir)
  const stopped = state !== undefined && isBroker(state.pid)
  if (stopped) {
    options.log?.info('stopping Kafka broker', { pid: state.pid })
    await stopPid(state.pid)
  }
  await rm(join(stateDir, 'state.json'), { force: true })
  return { stopped }
}

export async function kafkaStatus(options: StateOptions = {}): Promise<KafkaStatus> {
  const stateDir = kafkaStateDir(options)
  const dataDir = join(stateDir, 'data')
  const state = await readState(stateDir)
  const ours = state && isBroker(state.pid) && existsSync(join(state.dataDir, 'logs', 'meta.properties'))
  if (!state || !ours || !(await answers(state.brokers, 5_000, readClusterId(state.dataDir))))
    return { running: false, stateDir, dataDir }
  return { running: true, brokers: state.brokers, pid: state.pid, stateDir, dataDir }
}

// ---- helpers ----

function pick(s: KafkaState): KafkaState {
  return {
    pid: s.pid,
    port: s.port,
    controllerPort: s.controllerPort,
    brokers: s.brokers,
    dataDir: s.dataDir,
    startedAt: s.startedAt,
  }
}

async function readState(stateDir: string): Promise<KafkaState | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as KafkaState
  } catch {
    return undefined
  }
}

/** Alive and (where /proc exists) really a Kafka broker, so a recycled pid is never killed. */
export function isBroker(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka')
  } catch {
    return process.platform !== 'linux'
  }
}

/** SIGTERM, wait for a clean shutdown, SIGKILL after `graceMs`. For pids we did not spawn. */
async function stopPid(pid: number, graceMs = 20_000): Promise<void> {
  const gone = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await abortableSleep(100))
      if (!isBroker(pid)) return true
    return !isBroker(pid)
  }
  signal(pid, 'SIGTERM')
  if (await gone(graceMs)) return
  signal(pid, 'SIGKILL')
  await gone(5_000)
}

async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs = 20_000): Promise<void> {
  child.kill('SIGTERM')
  const timer = new Promise<'timeout'>((done) => setTimeout(done, graceMs, 'timeout').unref())
  if ((await Promise.race([exited, timer])) === 'timeout') {
    child.kill('SIGKILL')
    await exited
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // Already gone (ESRCH): that is what stopping wanted.
  }
}

interface ReadyCheck {
  brokers: string
  clusterId: string
  died: () => string | undefined
  logFile: string
  timeoutMs: number
  signal?: AbortSignal
}

async function waitReady({ brokers, clusterId, died, logFile, timeoutMs, signal: abort }: ReadyCheck) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (died()) {
      throw new DriftwatchError(
        'KAFKA_START',
        `Kafka broker died (${died()}) before it was ready. Log tail (${logFile}):\n${await logTail(logFile)}`,
        {
          fix: 'Read the broker log above; a port in use or a data dir from another Kafka version are the usual causes.',
        },
      )
    }
    if (abort?.aborted) throw new DriftwatchError('KAFKA_START', 'Kafka start was interrupted')
    if (Date.now() > deadline) {
      throw new DriftwatchError(
        'KAFKA_START',
        `Kafka broker not ready after ${timeoutMs} ms. Log tail (${logFile}):\n${await logTail(logFile)}`,
        {
          retriable: true,
          fix: 'The machine may be overloaded; retry, or raise readyTimeoutMs.',
        },
      )
    }
    if (await answers(brokers, 3_000, clusterId)) return
    await abortableSleep(250, abort)
  }
}

/** true when kafkajs can connect and describe the cluster (and it is `clusterId`, when given). */
export async function answers(brokers: string, timeoutMs: number, clusterId?: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'driftwatch-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return (
      cluster.brokers.length > 0 &&
      cluster.controller !== null &&
      (!clusterId || cluster.clusterId === clusterId)
    )
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

/**
 * Makes the broker create and load __consumer_offsets now, so the first consumers find a
 * coordinator at once. Right after start, OffsetFetch answers NOT_COORDINATOR while the
 * partitions load, and kafkajs admin does not retry that: we do.
 */
async function warmGroupCoordinator(brokers: string, signal?: AbortSignal): Promise<void> {
  const admin = new Kafka({
    clientId: 'driftwatch-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin()
  try {
    await admin.connect()
    await withRetry(() => admin.fetchOffsets({ groupId: 'driftwatch-warmup' }), {
      retries: 50,
      initialMs: 100,
      maxMs: 1_000,
      signal,
    })
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

/** The cluster id written by the storage format (`<dataDir>/logs/meta.properties`). */
export function readClusterId(dataDir: string): string {
  const meta = readFileSync(join(dataDir, 'logs', 'meta.properties'), 'utf8')
  const id = /^cluster\.id=(.+)$/m.exec(meta)?.[1]
  if (!id)
    throw new DriftwatchError('KAFKA_START', `No cluster.id in ${dataDir}/logs/meta.properties`, {
      fix: `Remove ${dataDir} and retry.`,
    })
  return id.trim()
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer()
    server.once('error', () => done(false))
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)))
  })
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      )
    })
  })
}

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.once('error', (error) => done({ code: 127, output: `${cmd}: ${errorMessage(error)}` }))
    child.once('close', (code) => done({ code: code ?? 1, output }))
  })
}

async function logTail(file: string, lines = 30): Promise<string> {
  return tail(await readFile(file, 'utf8').catch(() => ''), lines)
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

/** Throws a ConfigError naming the fix when `KAFKA_BROKERS`-style input is malformed. */
export function parseBrokers(value: string): string[] {
  const list = value.split(',').map((b) => b.trim())
  if (list.some((b) => !/^[^\s:]+:\d+$/.test(b)))
    throw new ConfigError(`KAFKA_BROKERS must be host:port[,host:port...], got "${value}"`, {
      fix: 'Example: KAFKA_BROKERS=127.0.0.1:9092',
    })
  return list
}
