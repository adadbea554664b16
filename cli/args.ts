// Flag parsing for every command, on node:util parseArgs, with errors that name the flag.

import { type ParseArgsConfig, parseArgs } from 'node:util'
import { ConfigError } from '../lib/errors.ts'

export type Options = NonNullable<ParseArgsConfig['options']>

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options

export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  usage: string,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new ConfigError(`driftwatch ${command}: ${(error as Error).message}`, { fix: `usage: ${usage}` })
  }
}

export function intFlag(
  name: string,
  value: string | undefined,
  { min = 0, fallback }: { min?: number; fallback?: number } = {},
): number | undefined {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < min) {
    throw new ConfigError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`, {
      fix: `pass e.g. --${name} ${Math.max(min, 1)}`,
    })
  }
  return n
}

export function numberFlag(
  name: string,
  value: string | undefined,
  { min = 0, fallback }: { min?: number; fallback?: number } = {},
): number | undefined {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < min) {
    throw new ConfigError(`--${name} must be a number >= ${min}, got ${JSON.stringify(value)}`, {
      fix: `pass e.g. --${name} ${Math.max(min, 1)}`,
    })
  }
  return n
}

export function choiceFlag<T extends string>(
  name: string,
  value: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (!choices.includes(value as T)) {
    throw new ConfigError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`, {
      fix: `pass --${name} ${choices[0]}`,
    })
  }
  return value as T
}

/** A flag that may be given several times, e.g. --topic a --topic b. */
export function listFlag(value: string | string[] | boolean | undefined): string[] | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined
  return Array.isArray(value) ? value : [value]
}
