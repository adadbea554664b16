import { describe, expect, it } from 'vitest'
import {
  llamaGuardScorerVersion,
  promptHash,
  refusalScorerVersion,
  scorerVersion,
} from '../../scoring/scorer-version.ts'

describe('scorer versions', () => {
  it('is model@first 12 hex chars of sha256(template)', () => {
    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(scorerVersion('llama-3.3-70b', 'abc')).toBe('llama-3.3-70b@ba7816bf8f01')
  })

  it('is stable across line endings and changes with any byte of the prompt', () => {
    expect(promptHash('a\r\nb\rc')).toBe(promptHash('a\nb\nc'))
    expect(promptHash('rate 1-5')).not.toBe(promptHash('rate 1-5 '))
  })

  it('llama guard versions differ by prompt mode', () => {
    const a = llamaGuardScorerVersion('Llama-Guard-3-8B', 'chat-template', 'x')
    const b = llamaGuardScorerVersion('Llama-Guard-3-8B', 'raw', 'x')
    expect(a).toMatch(/^Llama-Guard-3-8B@[0-9a-f]{12}$/)
    expect(a).not.toBe(b)
  })

  it('refusal versions are refusal@hash', () => {
    expect(refusalScorerVersion('rules')).toMatch(/^refusal@[0-9a-f]{12}$/)
  })

  it('rejects an empty model name', () => {
    expect(() => scorerVersion('  ', 'x')).toThrow(TypeError)
  })
})
