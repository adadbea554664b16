// The rules of the deployments history, without a store: which marks write, the clock.
import { describe, expect, it } from 'vitest'
import { DeploymentError } from '../../deploy/errors.ts'
import { decideMark, detectedMarkedAt, nextMarkedAt, validateVersion } from '../../deploy/status.ts'

describe('deployments: marks', () => {
  const base = { version: 'v2', target: 'stable' as const, seenInTraffic: true, force: false }

  it('writes a change of status, nothing for the same status again', () => {
    expect(decideMark({ ...base, current: 'detected' })).toEqual({ write: true })
    expect(decideMark({ ...base, current: 'rolled_back' })).toEqual({ write: true })
    expect(decideMark({ ...base, current: 'stable' })).toEqual({ write: false, reason: 'unchanged' })
  })

  it('accepts a version seen in traffic but not yet detected', () => {
    expect(decideMark({ ...base, current: undefined })).toEqual({ write: true })
  })

  it('refuses a version never seen anywhere, unless forced', () => {
    const error = (() => {
      try {
        decideMark({ ...base, current: undefined, seenInTraffic: false })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(DeploymentError)
    expect((error as DeploymentError).code).toBe('UNKNOWN_VERSION')
    expect((error as DeploymentError).fix).toMatch(/--force/)
    expect(decideMark({ ...base, current: undefined, seenInTraffic: false, force: true })).toEqual({
      write: true,
    })
  })

  it('refuses empty, padded or control-character versions', () => {
    expect(validateVersion('llama-3.1-8b@v2')).toBe('llama-3.1-8b@v2')
    for (const bad of ['', '  ', ' v2', 'v2\n', 'x'.repeat(201), 42]) {
      expect(() => validateVersion(bad)).toThrowError(DeploymentError)
    }
  })
})

describe('deployments: clock', () => {
  it('orders marks strictly, within one millisecond and after a clock step back', () => {
    expect(nextMarkedAt(1000, undefined)).toBe(1000)
    expect(nextMarkedAt(1000, 999)).toBe(1000)
    expect(nextMarkedAt(1000, 1000)).toBe(1001)
    expect(nextMarkedAt(1000, 5000)).toBe(5001)
  })

  it('dates a detection at the first interaction, never in the future', () => {
    expect(detectedMarkedAt(1000, 2000)).toBe(1000)
    expect(detectedMarkedAt(3000, 2000)).toBe(2000)
  })
})
