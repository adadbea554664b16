import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, parseConfig } from '../../config/load.ts'
import { ConfigError } from '../../lib/errors.ts'

function dirWith(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dw-config-'))
  writeFileSync(join(dir, 'driftwatch.yaml'), yaml)
  return dir
}

describe('config', () => {
  it('fills every default when there is no file', () => {
    const { config, source } = loadConfig({ cwd: mkdtempSync(join(tmpdir(), 'dw-empty-')), env: {} })
    expect(source).toBeUndefined()
    expect(config.kafka.topics).toEqual(['llm.interactions'])
    expect(config.kafka.brokers).toBeUndefined()
    expect(config.clickhouse.url).toBeUndefined()
    expect(config.clickhouse.data_dir).toBe('.driftwatch/data')
    expect(config.ingest.batch_size).toBe(5000)
    expect(config.ingest.flush_interval_ms).toBe(1000)
  })

  it('reads ./driftwatch.yaml and lets the environment win', () => {
    const cwd = dirWith(
      'kafka:\n  brokers: ["file:9092"]\n  group_id: g1\nclickhouse:\n  database: from_file\n',
    )
    const { config } = loadConfig({
      cwd,
      env: { KAFKA_BROKERS: 'a:1, b:2', CLICKHOUSE_URL: 'http://ch:8123', DRIFTWATCH_DATA_DIR: '/data/dw' },
    })
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2'])
    expect(config.kafka.group_id).toBe('g1')
    expect(config.clickhouse.url).toBe('http://ch:8123')
    expect(config.clickhouse.database).toBe('from_file')
    expect(config.clickhouse.data_dir).toBe('/data/dw')
  })

  it('schedules the evaluate job under jobs.schedule; evaluation.schedule is its old alias', () => {
    expect(parseConfig({}).jobs.schedule).toEqual({})
    expect(parseConfig({ evaluation: { schedule: '*/2 * * * *' } }).jobs.schedule).toEqual({
      evaluate: '*/2 * * * *',
    })
    const both = parseConfig({
      evaluation: { schedule: '*/2 * * * *' },
      jobs: { schedule: { evaluate: '*/3 * * * *' } },
    })
    expect(both.jobs.schedule.evaluate).toBe('*/3 * * * *')
    expect(() => parseConfig({ evaluation: { schedule: 'often' } })).toThrow(
      /evaluation\.schedule.*jobs\.schedule\.evaluate/,
    )
  })

  it('names an unknown key with its full path', () => {
    expect(() => parseConfig({ kafka: { broker: ['x:1'] } })).toThrowError(/unknown key kafka\.broker/)
  })

  it('names the key and the expectation for a wrong value', () => {
    try {
      parseConfig({ ingest: { batch_size: -5 } })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).message).toMatch(/ingest\.batch_size/)
      expect((error as ConfigError).fix).toMatch(/docs\/config\.md/)
    }
  })

  it('rejects a broker that is not host:port', () => {
    expect(() => parseConfig({ kafka: { brokers: ['localhost'] } })).toThrowError(
      /kafka\.brokers\.0: expected host:port/,
    )
  })

  it('reports YAML syntax errors with the file', () => {
    const cwd = dirWith('kafka: [unclosed\n')
    expect(() => loadConfig({ cwd, env: {} })).toThrowError(/cannot parse .*driftwatch\.yaml as YAML/)
  })

  it('says so when an explicit config file is missing', () => {
    expect(() => loadConfig({ path: '/nonexistent/dw.yaml', env: {} })).toThrowError(/does not exist/)
  })

  it('rejects a non-numeric DRIFTWATCH_HTTP_PORT', () => {
    expect(() =>
      loadConfig({ cwd: tmpdir(), path: undefined, env: { DRIFTWATCH_HTTP_PORT: 'abc' } }),
    ).toThrowError(/DRIFTWATCH_HTTP_PORT/)
  })
})
