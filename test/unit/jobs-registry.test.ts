// The job registry: dependency order (scoring first), and configuration mistakes named.
import { describe, expect, it } from 'vitest'
import { createJobRegistry, type JobDefinition } from '../../jobs/registry.ts'
import { ConfigError } from '../../lib/errors.ts'

const job = (name: string, dependsOn: string[] = [], defaultSchedule = '*/5 * * * *'): JobDefinition => ({
  name,
  description: name,
  defaultSchedule,
  dependsOn,
  run: async () => ({ status: 'ok', rowsDone: 0, rowsTotal: 0, spendUsd: 0, message: '', detail: {} }),
})

describe('job registry', () => {
  it('orders dependencies first and otherwise keeps registration order', () => {
    const registry = createJobRegistry([
      job('baselines', ['judge', 'refusal']),
      job('refusal'),
      job('alerts', ['baselines']),
      job('judge'),
    ])
    expect(registry.order().map((j) => j.name)).toEqual(['refusal', 'judge', 'baselines', 'alerts'])
  })

  it('names a dependency cycle', () => {
    expect(() => createJobRegistry([job('a', ['b']), job('b', ['a'])])).toThrow(/cycle: a -> b -> a/)
  })

  it('names an unknown dependency, a duplicate and a bad default schedule', () => {
    expect(() => createJobRegistry([job('a', ['nope'])])).toThrow(/a depends on nope/)
    expect(() => createJobRegistry([job('a'), job('a')])).toThrow(/two jobs are named a/)
    expect(() => createJobRegistry([job('a', [], 'every minute')])).toThrow(ConfigError)
  })

  it('takes a schedule from config over the default, and rejects one for a job that does not exist', () => {
    const registry = createJobRegistry([job('judge')], { judge: '0 * * * *' })
    expect(registry.schedule('judge')).toBe('0 * * * *')
    expect(() => createJobRegistry([job('judge')], { jugde: '0 * * * *' })).toThrow(
      /jobs\.schedule\.jugde: there is no job named jugde/,
    )
  })

  it('says which jobs exist when asked for another', () => {
    const registry = createJobRegistry([job('refusal'), job('judge')])
    const error = (() => {
      try {
        registry.get('guard')
      } catch (e) {
        return e as ConfigError
      }
    })()
    expect(error?.fix).toMatch(/refusal, judge/)
  })
})
