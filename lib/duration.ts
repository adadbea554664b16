// Durations in config, like `15m`, `24h`, `7d`: parsed once into milliseconds.

import { z } from 'zod'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim())
  if (!match) return undefined
  return Math.round(Number(match[1]) * UNITS[match[2]!]!)
}

/** zod: a duration string (`30s`, `15m`, `24h`, `7d`) → milliseconds. */
export const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text)
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like 30s, 15m, 24h or 7d, got ${JSON.stringify(text)}`,
    })
    return z.NEVER
  }
  return ms
})

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${Math.round(ms / 1000)}s`
}
