// clickhouse.release_memory: the engine's allocator is told to give freed memory back before
// chDB loads (it reads its options once). Run in child processes, since chDB loads once per
// process; the effect on peak RSS is measured by bench:ingest, not asserted here.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function allocatorOptions(releaseMemory: boolean, env: Record<string, string> = {}): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'dw-release-'))
  dirs.push(dataDir)
  const script = `
    import { parseConfig } from './config/load.ts'
    import { createStore } from './store/store.ts'
    const config = parseConfig({ clickhouse: { data_dir: ${JSON.stringify(dataDir)}, release_memory: ${releaseMemory} } })
    const store = await createStore(config.clickhouse)
    await store.query('SELECT 1')
    await store.close()
    console.log(JSON.stringify({ je: process.env.JE_MALLOC_CONF ?? null }))`
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..', '..'),
    encoding: 'utf8',
    env: { ...process.env, JE_MALLOC_CONF: '', ...env },
  })
  expect(run.status, run.stderr).toBe(0)
  return JSON.parse(run.stdout.trim().split('\n').pop()!).je
}

describe('clickhouse.release_memory', () => {
  it('sets the allocator to return freed memory at once, unless told not to or already set', () => {
    expect(allocatorOptions(true, { JE_MALLOC_CONF: undefined as never })).toBe(
      'dirty_decay_ms:0,muzzy_decay_ms:0',
    )
    expect(allocatorOptions(false, { JE_MALLOC_CONF: undefined as never })).toBeNull()
    expect(allocatorOptions(true, { JE_MALLOC_CONF: 'narenas:2' })).toBe('narenas:2')
  }, 120_000)
})
