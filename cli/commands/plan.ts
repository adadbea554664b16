// driftwatch plan: how many interactions per variant, and how many days of traffic, a
// canary needs before a change of a rate can be decided (stats/sample-size.ts does the
// maths). Flags are checked here so that every error names the flag to fix.

import { ConfigError } from '../../lib/errors.ts'
import { type PlanSampleSizeInput, planSampleSize, type SampleSizePlan } from '../../stats/index.ts'
import { choiceFlag, parseCommandArgs } from '../args.ts'
import type { Command } from '../io.ts'

const USAGE =
  'driftwatch plan --baseline RATE --mde REL --daily N [--alpha 0.05] [--power 0.8] [--variants 2] [--format table|json]'

const HELP = `${USAGE}

  --baseline  current rate of the metric, in (0, 1), e.g. 0.76 task success
  --mde       smallest relative change worth detecting, > 0: 0.05 = +5 % (0.76 -> 0.798)
  --daily     interactions per day across all variants
  --alpha     two-sided significance level (default 0.05)
  --power     chance of detecting a change of exactly --mde (default 0.8)
  --variants  variants sharing the traffic equally (default 2)

Effect size = (p2 - p1) / sqrt(p (1 - p)) with p the mean of p1 and p2; two-sided z test.
`

const OPTIONS = {
  baseline: { type: 'string' },
  mde: { type: 'string' },
  daily: { type: 'string' },
  alpha: { type: 'string' },
  power: { type: 'string' },
  variants: { type: 'string' },
  format: { type: 'string', short: 'f' },
} as const

export interface PlanFlags {
  baseline?: string
  mde?: string
  daily?: string
  alpha?: string
  power?: string
  variants?: string
}

export type PlanOutput = SampleSizePlan & {
  baseline: number
  mde: number
  target_rate: number
  alpha: number
  power: number
  variants: number
  daily: number
}

export const planCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs('plan', argv, OPTIONS, USAGE)
  if (values.help) {
    io.stdout(HELP)
    return 0
  }
  const format = choiceFlag('format', values.format, ['table', 'json'] as const, 'table')
  const plan = computePlan(values)
  io.stdout(format === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan))
  return 0
}

/** Flag text → checked planner input → the plan. Every refusal names its flag. */
export function computePlan(flags: PlanFlags): PlanOutput {
  const input = planInput(flags)
  let plan: SampleSizePlan
  try {
    plan = planSampleSize(input)
  } catch (error) {
    // Inputs are checked above; what is left is an effect too small to ever detect.
    if (!(error instanceof RangeError)) throw error
    throw new ConfigError(`driftwatch plan: ${error.message}`, { fix: 'use a larger --mde' })
  }
  return {
    ...plan,
    baseline: input.baseline,
    mde: input.mde,
    target_rate: input.baseline * (1 + input.mde),
    alpha: input.alpha!,
    power: input.power!,
    variants: input.variants!,
    daily: input.daily,
  }
}

export function planInput(flags: PlanFlags): Required<PlanSampleSizeInput> {
  const baseline = requiredNumber('baseline', flags.baseline, 'e.g. --baseline 0.76')
  const mde = requiredNumber('mde', flags.mde, 'e.g. --mde 0.05 for +5 %')
  const daily = requiredNumber('daily', flags.daily, 'e.g. --daily 2000')
  const alpha = optionalNumber('alpha', flags.alpha, 0.05)
  const power = optionalNumber('power', flags.power, 0.8)
  const variants = optionalNumber('variants', flags.variants, 2)
  if (!(baseline > 0 && baseline < 1))
    fail('baseline', `must be a rate strictly between 0 and 1, got ${baseline}`, '--baseline 0.76')
  if (!(mde > 0)) fail('mde', `must be > 0 (a relative increase: 0.05 = +5 %), got ${mde}`, '--mde 0.05')
  if (!(baseline * (1 + mde) < 1)) {
    fail(
      'mde',
      `${mde} is too large for --baseline ${baseline}: baseline × (1 + mde) = ${round(baseline * (1 + mde))} is not a rate below 1`,
      `--mde ${round(((1 - baseline) / baseline) * 0.5)} (anything below ${round((1 - baseline) / baseline)})`,
    )
  }
  if (!(daily > 0)) fail('daily', `must be > 0 interactions per day, got ${daily}`, '--daily 2000')
  if (!(alpha > 0 && alpha < 1))
    fail('alpha', `must be strictly between 0 and 1, got ${alpha}`, '--alpha 0.05')
  if (!(power > alpha && power < 1))
    fail('power', `must be between --alpha (${alpha}) and 1, got ${power}`, '--power 0.8')
  if (!(Number.isInteger(variants) && variants >= 2))
    fail('variants', `must be an integer >= 2, got ${variants}`, '--variants 2')
  return { baseline, mde, daily, alpha, power, variants }
}

export function renderPlan(plan: PlanOutput): string {
  const rows: [string, string][] = [
    ['sample_size_per_variant', plan.sample_size_per_variant.toLocaleString('en-US')],
    ['total_sample', plan.total_sample.toLocaleString('en-US')],
    ['duration_days', String(plan.duration_days)],
    ['effect_size', plan.effect_size.toFixed(4)],
    ['', ''],
    ['baseline', `${plan.baseline} -> ${round(plan.target_rate)} (mde ${plan.mde} relative)`],
    ['alpha / power', `${plan.alpha} two-sided / ${plan.power}`],
    ['variants', String(plan.variants)],
    ['daily', plan.daily.toLocaleString('en-US')],
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return `${rows.map(([k, v]) => (k ? `${k.padEnd(width)}  ${v}` : '')).join('\n')}\n`
}

function requiredNumber(name: string, value: string | undefined, example: string): number {
  if (value === undefined)
    throw new ConfigError(`driftwatch plan: --${name} is required`, { fix: `${example}; usage: ${USAGE}` })
  return parseNumber(name, value)
}

function optionalNumber(name: string, value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : parseNumber(name, value)
}

function parseNumber(name: string, value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n))
    fail(
      name,
      `must be a number, got ${JSON.stringify(value)}`,
      `--${name} ${name === 'daily' ? 2000 : 0.05}`,
    )
  return n
}

function fail(name: string, problem: string, example: string): never {
  throw new ConfigError(`driftwatch plan: --${name} ${problem}`, { fix: `pass e.g. ${example}` })
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6
}
