// `driftwatch migrate` as users meet it: --print shows the DDL (single server, or the cluster
// variant with --cluster or clickhouse.cluster) without opening a store; applying a cluster
// variant to the embedded store is refused with the key and the fix; plain migrate still works.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadMigrations, migrationScript } from '../../store/migrate.ts'
import { runCli } from '../helpers/cli.ts'

const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-migrate-cli-'))
  return { dir, env: { DRIFTWATCH_DATA_DIR: join(dir, 'data') } }
}

describe('driftwatch migrate --print', () => {
  it('prints the cluster variant for --cluster NAME and opens no store', async () => {
    const { dir, env } = fresh()
    const r = await runCli(['migrate', '--cluster', 'prod', '--print'], env, dir)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(migrationScript(loadMigrations(), { cluster: 'prod', database: 'driftwatch' }))
    expect(r.stdout).toMatch(
      /^CREATE TABLE IF NOT EXISTS interactions_all ON CLUSTER prod AS interactions ENGINE = Distributed/m,
    )
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })

  it('takes the cluster and database from the config, and prints the single-server DDL without one', async () => {
    const { dir, env } = fresh()
    writeFileSync(join(dir, 'dw.yaml'), 'clickhouse:\n  cluster: analytics\n  database: dw_prod\n')
    const clustered = await runCli(['migrate', '--print', '--config', join(dir, 'dw.yaml')], env, dir)
    expect(clustered.code).toBe(0)
    expect(clustered.stdout).toBe(
      migrationScript(loadMigrations(), { cluster: 'analytics', database: 'dw_prod' }),
    )
    const single = await runCli(['migrate', '--print'], env, dir)
    expect(single.code).toBe(0)
    expect(single.stdout).toBe(migrationScript(loadMigrations()))
    expect(single.stdout).not.toMatch(/ON CLUSTER/)
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })

  it('rejects a cluster name ClickHouse could not have, naming the flag', async () => {
    const { dir, env } = fresh()
    const r = await runCli(['migrate', '--cluster', 'a b', '--print'], env, dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--cluster "a b": a cluster name from remote_servers/)
  })
})

describe('driftwatch migrate with a cluster and the embedded store', () => {
  it('refuses with a config error naming clickhouse.cluster and the fix, from the flag or the config', async () => {
    const { dir, env } = fresh()
    const flag = await runCli(['migrate', '--cluster', 'prod'], env, dir)
    writeFileSync(join(dir, 'dw.yaml'), 'clickhouse:\n  cluster: prod\n')
    const config = await runCli(['migrate', '--config', join(dir, 'dw.yaml')], env, dir)
    for (const r of [flag, config]) {
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/clickhouse\.cluster is set \(prod\) but the store is embedded/)
      expect(r.stderr).toMatch(/fix: set clickhouse\.url \(or CLICKHOUSE_URL\) to a node of the cluster/)
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
    }
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })

  it('still migrates the embedded store without a cluster', async () => {
    const { dir, env } = fresh()
    const r = await runCli(['migrate'], env, dir)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^applied 001_interactions, .*; schema at version \d+ \(embedded: /)
  })
})
