// Human progress lines for long-running commands, on stderr, so stdout stays for results.

import type { IngestProgress } from '../consumers/ingest-service.ts'

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

export function formatIngestProgress(p: IngestProgress): string {
  const parts = [`${fmt.format(p.stored)} rows stored`, `${fmt.format(p.rate)}/s`]
  if (p.poisoned > 0) parts.push(`${fmt.format(p.poisoned)} dead-lettered`)
  if (p.skipped > 0) parts.push(`${fmt.format(p.skipped)} already stored`)
  parts.push(`lag ${p.lag === undefined ? '?' : fmt.format(p.lag)}`)
  if (p.storeDown) parts.push('STORE UNAVAILABLE, retrying')
  return `ingest: ${parts.join(', ')}`
}

export function formatCount(n: number): string {
  return fmt.format(n)
}
