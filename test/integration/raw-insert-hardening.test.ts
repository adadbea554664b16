// chDB 3.4 once printed `libc++ Hardening assertion __n < size() failed: vector[] index out
// of bounds` on a 20,000-row raw insert (docs/scaling.md). The ingest path uses raw inserts
// of batch_size rows (default 5,000): run them, and the 20,000-row case, in a child process
// (the assertion is written by native code to fd 2) and require a clean stderr and every row.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const probe = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'raw-insert-probe.ts')

describe('chDB raw passthrough insert', () => {
  it('inserts 5,000- and 20,000-row JSONCompactEachRow and JSONEachRow batches without the libc++ hardening assertion', async () => {
    // Async: a blocking spawnSync would starve vitest's worker for the whole run.
    const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', probe], {
        env: { ...process.env, BENCH_SIZES: '5000,20000', BENCH_ROUNDS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('close', (status) => resolve({ status, stdout, stderr }))
    })
    expect(run.stderr).not.toMatch(/Hardening assertion|index out of bounds/i)
    expect(run.status).toBe(0)
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { format: string; size: number; rows: number })
    expect(lines.map((l) => `${l.format}:${l.size}:${l.rows}`)).toEqual([
      'JSONCompactEachRow:5000:5000',
      'JSONEachRow:5000:5000',
      'JSONCompactEachRow:20000:20000',
      'JSONEachRow:20000:20000',
    ])
  })
})
