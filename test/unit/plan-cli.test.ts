// `driftwatch plan` as a user runs it (a child process; plan needs no broker or store).
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'

describe('driftwatch plan', () => {
  it('prints the JSON plan, and exits 2 naming the bad flag', async () => {
    const [json, bad] = await Promise.all([
      runCli(['plan', '--baseline', '0.76', '--mde', '0.05', '--daily', '2000', '--format', 'json']),
      runCli(['plan', '--baseline', '0.76', '--mde', '0', '--daily', '2000']),
    ])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({
      sample_size_per_variant: 1872,
      total_sample: 3744,
      duration_days: 2,
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--mde must be > 0/)
    expect(bad.stderr).toMatch(/fix: pass e.g. --mde 0.05/)
  })
})
