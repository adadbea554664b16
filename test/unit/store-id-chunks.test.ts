// Id lists bound as a query parameter are cut so that no chunk's URL part passes the budget,
// whatever the ids hold (quotes, backslashes, any script), and no id is lost or reordered.
import { describe, expect, it } from 'vitest'
import { toStoreError } from '../../store/errors.ts'
import { chunkIdsForUrl, ID_PARAM_URL_BUDGET, idParamUrlBytes } from '../../store/id-chunks.ts'

describe('chunkIdsForUrl', () => {
  it('keeps every chunk within the budget and every id in order', () => {
    const ids = Array.from({ length: 6000 }, (_, i) => `${'é'.repeat(120)}${i}`)
    const chunks = chunkIdsForUrl(ids)
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.flat()).toEqual(ids)
    for (const c of chunks)
      expect(c.reduce((n, id) => n + idParamUrlBytes(id), 0)).toBeLessThanOrEqual(ID_PARAM_URL_BUDGET)
  })

  it('counts the escaping of quotes and backslashes, and keeps short id lists whole', () => {
    expect(idParamUrlBytes("a'b")).toBe(encodeURIComponent("'a\\'b',").length)
    expect(idParamUrlBytes('a\\b')).toBe(encodeURIComponent("'a\\\\b',").length)
    const uuids = Array.from(
      { length: 5000 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    )
    expect(chunkIdsForUrl(uuids)).toHaveLength(1)
    expect(chunkIdsForUrl([])).toEqual([])
    expect(chunkIdsForUrl(['x'.repeat(100)], 10)).toEqual([['x'.repeat(100)]])
  })
})

describe('toStoreError', () => {
  it('says what happened when the server answered an error without a message', () => {
    expect(toStoreError(new Error('')).message).toMatch(/without a message/)
  })
})
