// leaseState: the rule every runner applies to the lease rows, so all agree on one holder.
import { describe, expect, it } from 'vitest'
import { type LeaseRow, leaseState } from '../../jobs/lease.ts'

const row = (
  term: number,
  holder: string,
  kind: LeaseRow['kind'],
  claimed: number,
  ttl = 1000,
): LeaseRow => ({
  term,
  holder,
  kind,
  claimed_ms: claimed,
  expires_ms: claimed + ttl,
})

describe('leaseState', () => {
  it('is free when nobody ever claimed', () => {
    expect(leaseState([], 5)).toEqual({ term: 0, holder: undefined, expiresMs: 0, free: true })
  })

  it('gives a contested term to the earliest claim, ties broken by holder name, whatever the row order', () => {
    const rows = [row(3, 'b', 'claim', 100), row(3, 'c', 'claim', 100), row(3, 'a', 'claim', 101)]
    expect(leaseState(rows, 500).holder).toBe('b')
    expect(leaseState([...rows].reverse(), 500).holder).toBe('b')
  })

  it('ignores the losers’ rows for expiry and counts only the latest term', () => {
    const rows = [
      row(2, 'old', 'claim', 0, 10_000),
      row(3, 'a', 'claim', 100),
      row(3, 'b', 'claim', 150, 10_000),
    ]
    expect(leaseState(rows, 1000)).toEqual({ term: 3, holder: 'a', expiresMs: 1100, free: false })
    expect(leaseState(rows, 1100).free).toBe(true)
  })

  it('extends with renewals and ends at once on a release (renewal with ttl 0)', () => {
    const rows = [row(1, 'a', 'claim', 0), row(1, 'a', 'renew', 800)]
    expect(leaseState(rows, 1500)).toMatchObject({ holder: 'a', expiresMs: 1800, free: false })
    expect(leaseState([...rows, row(1, 'a', 'renew', 900, 0)], 1000)).toMatchObject({ free: true })
  })
})
