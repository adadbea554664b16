// driftwatch produce --synthetic N: realistic synthetic interactions onto a Kafka topic,
// for demos and benchmarks. Plain JSON by default; schema-registry framed formats need
// schema_registry.url.

import { z } from 'zod'
import { createEncoder } from '../../contract/encode.ts'
import { createRegistryClient } from '../../contract/registry.ts'
import { ConfigError } from '../../lib/errors.ts'
import { type EncodeFn, produceSynthetic } from '../../producers/produce.ts'
import { interactionJsonBytes, type SyntheticOptions } from '../../producers/synthetic.ts'
import { choiceFlag, intFlag, numberFlag, parseCommandArgs } from '../args.ts'
import { appContext, kafkaFor } from '../context.ts'
import type { Command } from '../io.ts'
import { formatCount } from '../progress.ts'

const USAGE =
  'driftwatch produce --synthetic N [--topic T] [--rate R] [--format json|avro|json-schema|protobuf] [--seed S] [--from I]\n  [--shadow-version V [--shadow-rewrite-rate R]]\n  [--drift \'{"v2":{"refusalRate":0.2,"latencyOffsetMs":250}}\']\n  [--experiment \'{"arms":{"A":0.5,"B":0.5},"effects":{"B":{"feedbackShift":0.3}},"feedbackRate":0.5}\'] [--config FILE]'
const FORMATS = ['json', 'avro', 'json-schema', 'protobuf'] as const

export const produceCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs(
    'produce',
    argv,
    {
      synthetic: { type: 'string' },
      topic: { type: 'string' },
      rate: { type: 'string' },
      format: { type: 'string' },
      seed: { type: 'string' },
      from: { type: 'string' },
      drift: { type: 'string' },
      experiment: { type: 'string' },
      'shadow-version': { type: 'string' },
      'shadow-rewrite-rate': { type: 'string' },
    },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const count = intFlag('synthetic', values.synthetic, { min: 1 })
  if (count === undefined)
    throw new ConfigError('driftwatch produce: --synthetic N is required', { fix: `usage: ${USAGE}` })
  const rate = numberFlag('rate', values.rate, { min: 0.001 })
  const format = choiceFlag('format', values.format, FORMATS, 'json')
  // A fresh seed per run, so two runs add new interactions instead of re-sending old ids.
  const seed = intFlag('seed', values.seed, { fallback: Math.floor(Math.random() * 2 ** 31) })!
  const from = intFlag('from', values.from, { fallback: 0 })!
  const shadowVersion = values['shadow-version']
  const rewriteRate = numberFlag('shadow-rewrite-rate', values['shadow-rewrite-rate'], { min: 0 })
  if (rewriteRate !== undefined && rewriteRate > 1)
    throw new ConfigError('--shadow-rewrite-rate is a share from 0 to 1', {
      fix: 'e.g. --shadow-rewrite-rate 0.2',
    })
  if (rewriteRate !== undefined && !shadowVersion)
    throw new ConfigError('--shadow-rewrite-rate needs --shadow-version', {
      fix: 'e.g. --shadow-version v2-shadow --shadow-rewrite-rate 0.2',
    })
  if (shadowVersion !== undefined && !/^\S+$/.test(shadowVersion))
    throw new ConfigError('--shadow-version must be a model_version (no spaces)', {
      fix: 'e.g. --shadow-version v2-shadow',
    })
  let twins = 0
  const ctx = appContext(io, values.config)
  const topic = values.topic ?? ctx.config.kafka.topics[0]!
  const encode = await encoderFor(format, ctx.config.schema_registry, topic)
  const { kafka, brokers } = await kafkaFor(ctx, `${ctx.config.kafka.client_id}-producer`)
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const intervalMs = rate ? 1000 / rate : 10
  // Timestamps end now (bulk) or start now (at a rate), so windows over "the last hour" see them.
  const startMs = rate ? Date.now() : Date.now() - Math.round(count * intervalMs)
  io.stderr(
    `produce: ${formatCount(count)} synthetic interactions (${format}, seed ${seed}) → ${topic} on ${brokers.join(',')}\n`,
  )
  const started = Date.now()
  let lastReport = 0
  try {
    const sent = await produceSynthetic({
      producer,
      topic,
      count,
      rate,
      from,
      synthetic: {
        seed,
        startMs,
        intervalMs,
        versions: parseDrift(values.drift),
        ...parseExperiment(values.experiment),
        ...(shadowVersion ? { shadow: { version: shadowVersion, rewriteRate } } : {}),
      },
      onTwin: () => {
        twins++
      },
      encode,
      signal: io.signal,
      onProgress: (n) => {
        if (Date.now() - lastReport < 2000 && n < count) return
        lastReport = Date.now()
        io.stderr(`produce: ${formatCount(n)} / ${formatCount(count)} sent\n`)
      },
    })
    const seconds = (Date.now() - started) / 1000
    io.stdout(
      `${JSON.stringify({ sent, ...(shadowVersion ? { shadow_twins: twins } : {}), topic, format, seed, seconds: Math.round(seconds * 100) / 100, events_per_s: Math.round(sent / seconds) })}\n`,
    )
    return sent === count ? 0 : 130
  } finally {
    await producer.disconnect()
  }
}

async function encoderFor(
  format: (typeof FORMATS)[number],
  registry: { url?: string; username?: string; password?: string },
  topic: string,
): Promise<EncodeFn> {
  if (format === 'json') return (interaction) => ({ value: interactionJsonBytes(interaction) })
  if (!registry.url) {
    throw new ConfigError(`--format ${format} needs a schema registry`, {
      fix: 'set schema_registry.url in driftwatch.yaml or SCHEMA_REGISTRY_URL, or use --format json',
    })
  }
  const encoder = await createEncoder(format, {
    registry: createRegistryClient({
      url: registry.url,
      username: registry.username,
      password: registry.password,
    }),
    topic,
  })
  return (interaction) => encoder.encode(interaction)
}

const ProfileShape = {
  ttftMedianMs: z.number().positive(),
  perTokenMedianMs: z.number().positive(),
  latencyMultiplier: z.number().positive(),
  latencyOffsetMs: z.number(),
  errorRate: z.number().min(0).max(1),
  timeoutRate: z.number().min(0).max(1),
  refusalRate: z.number().min(0).max(1),
}

const ExperimentTrafficSchema = z
  .object({
    arms: z.record(z.string().min(1), z.number().positive()).refine((a) => Object.keys(a).length >= 2, {
      message: 'name at least two arms, e.g. {"A":0.5,"B":0.5}',
    }),
    users: z.number().int().positive().optional(),
    effects: z
      .record(
        z.string(),
        z
          .object({ ...ProfileShape, feedbackShift: z.number(), costMultiplier: z.number().positive() })
          .partial()
          .strict(),
      )
      .optional(),
    feedbackRate: z.number().min(0).max(1).optional(),
  })
  .strict()

/** --experiment: A/B traffic, users assigned to arms by hash (producers/synthetic.ts ExperimentTraffic). */
function parseExperiment(text: string | undefined): Pick<SyntheticOptions, 'experiment' | 'feedbackRate'> {
  if (text === undefined) return {}
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new ConfigError('--experiment is not JSON', {
      fix: `e.g. --experiment '{"arms":{"A":0.5,"B":0.5}}'`,
    })
  }
  const parsed = ExperimentTrafficSchema.safeParse(raw)
  if (!parsed.success) {
    throw new ConfigError(
      `--experiment: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`,
      {
        fix:
          'keys: arms (name -> share), users, effects (arm -> ' +
          Object.keys(ProfileShape).join(', ') +
          ', feedbackShift, costMultiplier), feedbackRate',
      },
    )
  }
  const { feedbackRate, ...experiment } = parsed.data
  return feedbackRate === undefined ? { experiment } : { experiment, feedbackRate }
}

const DriftSchema = z.record(
  z.string(),
  z
    .object({
      ttftMedianMs: z.number().positive(),
      perTokenMedianMs: z.number().positive(),
      latencyMultiplier: z.number().positive(),
      latencyOffsetMs: z.number(),
      errorRate: z.number().min(0).max(1),
      timeoutRate: z.number().min(0).max(1),
      refusalRate: z.number().min(0).max(1),
    })
    .partial()
    .strict(),
)

/** --drift: per model_version changes of the synthetic traffic, for demos and drift tests. */
function parseDrift(text: string | undefined): SyntheticOptions['versions'] {
  if (text === undefined) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new ConfigError('--drift is not JSON', { fix: `e.g. --drift '{"v2":{"refusalRate":0.2}}'` })
  }
  const parsed = DriftSchema.safeParse(raw)
  if (!parsed.success) {
    throw new ConfigError(
      `--drift: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      {
        fix: 'keys per version: ttftMedianMs, perTokenMedianMs, latencyMultiplier, latencyOffsetMs, errorRate, timeoutRate, refusalRate',
      },
    )
  }
  return parsed.data
}
