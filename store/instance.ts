// The running-instance record of an embedded store. Only one process may open a chDB data
// folder, so the process that owns it writes who it is and where its local HTTP endpoint
// listens; read commands (`driftwatch sql`) go through that endpoint instead of opening
// the folder, and a second writer gets a message naming the owner.

import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { StoreLockedError } from '../lib/errors.ts'

const INSTANCE_FILE = 'driftwatch-instance.json'

export const InstanceInfoSchema = z.object({
  pid: z.number().int(),
  command: z.string(),
  /** Base URL of the owner's local HTTP endpoint, if it runs one. */
  url: z.string().optional(),
  started_at: z.string(),
})
export type InstanceInfo = z.infer<typeof InstanceInfoSchema>

export function instanceFilePath(dataDir: string): string {
  return join(dataDir, INSTANCE_FILE)
}

export function writeInstanceFile(dataDir: string, info: InstanceInfo): void {
  const file = instanceFilePath(dataDir)
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2))
  renameSync(`${file}.tmp`, file)
}

/** The recorded owner if its process is still alive; a stale record is ignored. */
export function readInstanceFile(dataDir: string): InstanceInfo | undefined {
  try {
    const info = InstanceInfoSchema.parse(JSON.parse(readFileSync(instanceFilePath(dataDir), 'utf8')))
    return isProcessAlive(info.pid) ? info : undefined
  } catch {
    return undefined
  }
}

/** The owner's URL once it has recorded one (an owner that is starting locks the folder first). */
export async function waitForInstanceUrl(dataDir: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const url = readInstanceFile(dataDir)?.url
    if (url) return url
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return undefined
}

export function removeInstanceFile(dataDir: string, pid = process.pid): void {
  try {
    const info = InstanceInfoSchema.parse(JSON.parse(readFileSync(instanceFilePath(dataDir), 'utf8')))
    if (info.pid === pid) rmSync(instanceFilePath(dataDir), { force: true })
  } catch {
    // No record, or someone else's: nothing of ours to remove.
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function storeLockedError(
  dataDir: string,
  owner: InstanceInfo | undefined,
  cause: unknown,
): StoreLockedError {
  const who = owner
    ? `driftwatch ${owner.command} (pid ${owner.pid}${owner.url ? `, ${owner.url}` : ''}, since ${owner.started_at})`
    : 'another process'
  return new StoreLockedError(`the embedded store ${dataDir} is in use by ${who}`, {
    cause,
    owner,
    fix: owner?.url
      ? 'read through it with `driftwatch sql`, or stop it before running a command that writes'
      : 'stop the other process, or set DRIFTWATCH_DATA_DIR to another folder',
  })
}

const TOKEN_FILE = 'token'

/**
 * The local-mode write token: kept in <data_dir>/token, readable by its owner only (0600),
 * reused across restarts so an open dashboard session stays valid.
 */
export function ensureLocalToken(dataDir: string): string {
  const file = join(dataDir, TOKEN_FILE)
  const existing = readLocalToken(dataDir)
  if (existing && (statSync(file).mode & 0o077) === 0) return existing
  const token = randomBytes(32).toString('base64url')
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(`${file}.tmp`, `${token}\n`, { mode: 0o600 })
  chmodSync(`${file}.tmp`, 0o600)
  renameSync(`${file}.tmp`, file)
  return token
}

export function readLocalToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, TOKEN_FILE), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}
