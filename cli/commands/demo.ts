// driftwatch demo (what `npm start` runs): a local Kafka broker, the embedded store, a
// synthetic producer at a steady rate and the monitor, all on this machine, with live
// progress. Ctrl-C stops everything cleanly; the broker keeps running for the next demo
// (`driftwatch kafka down` stops it).

import { lastStable, markStable } from '../../deploy/deployments.ts'
import { kafkaUp } from '../../infra/kafka-local.ts'
import { loadRuleStates } from '../../jobs/evaluate/state-store.ts'
import { errorMessage } from '../../lib/errors.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import { ensureTopics } from '../../lib/kafka-topics.ts'
import { createLogger } from '../../lib/log.ts'
import { produceSynthetic } from '../../producers/produce.ts'
import { interactionJsonBytes } from '../../producers/synthetic.ts'
import type { RuleState } from '../../rules/evaluate.ts'
import { RuleSchema } from '../../rules/schema.ts'
import { intFlag, numberFlag, parseCommandArgs } from '../args.ts'
import { appContext } from '../context.ts'
import type { Command } from '../io.ts'
import { runMonitor } from './start.ts'

const USAGE = 'driftwatch demo [--rate EVENTS_PER_S] [--seconds N] [--config FILE]'

export const demoCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs(
    'demo',
    argv,
    { rate: { type: 'string' }, seconds: { type: 'string' } },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const rate = numberFlag('rate', values.rate, { min: 0.1, fallback: 200 })!
  const seconds = intFlag('seconds', values.seconds, { min: 1 })
  const ctx = appContext(io, values.config)
  // The demo talks through progress lines; structured logs only for warnings, unless asked.
  if (!io.env.DRIFTWATCH_LOG_LEVEL) ctx.log = createLogger({ level: 'warn' })
  const demoRules = ctx.config.rules.length === 0
  if (demoRules) {
    ctx.config.rules = DEMO_RULES.map((r) => RuleSchema.parse(r))
    // Look every 20 s instead of every minute, so the demo shows a decision within minutes.
    ctx.config.jobs.schedule = {
      evaluate: '*/20 * * * * *',
      refusal: '*/20 * * * * *',
      detect_versions: '*/20 * * * * *',
      ...ctx.config.jobs.schedule,
    }
    io.stderr(
      `demo: no rules in the config, using ${DEMO_RULES.map((r) => r.name).join(', ')}; v2 is given +300 ms latency and more refusals\n`,
    )
  }
  if (!ctx.config.kafka.brokers) {
    io.stderr(
      'demo: starting the local Kafka broker (first run downloads it with Maven; later runs reuse it)\n',
    )
    const up = await kafkaUp({ cwd: io.cwd, env: io.env, log: ctx.log, signal: io.signal })
    io.stderr(`demo: KAFKA_BROKERS=${up.brokers}${up.reused ? ' (already running)' : ''}\n`)
    ctx.config.kafka.brokers = up.brokers.split(',')
  }
  const kafka = createKafka({ config: ctx.config.kafka, brokers: ctx.config.kafka.brokers!, log: ctx.log })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopics(
      admin,
      [...ctx.config.kafka.topics, ctx.config.kafka.dead_letter_topic],
      ctx.config.kafka.default_partitions,
    )
  } finally {
    await admin.disconnect()
  }

  const startedAt = Date.now()
  const stop = new AbortController()
  io.signal.addEventListener('abort', () => stop.abort(), { once: true })
  const timer = seconds ? setTimeout(() => stop.abort(), seconds * 1000) : undefined
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  io.stderr(
    `demo: producing ${rate} synthetic interactions/s to ${ctx.config.kafka.topics[0]}; Ctrl-C to stop\n`,
  )
  const producing = produceSynthetic({
    producer,
    topic: ctx.config.kafka.topics[0]!,
    count: Number.MAX_SAFE_INTEGER,
    rate,
    synthetic: {
      seed: Math.floor(Math.random() * 2 ** 31),
      startMs: Date.now(),
      intervalMs: 1000 / rate,
      versions: demoRules ? { v2: { latencyOffsetMs: 300, refusalRate: 0.12 } } : undefined,
    },
    encode: (interaction) => ({ value: interactionJsonBytes(interaction) }),
    signal: stop.signal,
  }).catch((error) => {
    io.stderr(`demo: producer stopped: ${errorMessage(error)}\n`)
    return 0
  })
  try {
    return await runMonitor(ctx, io, stop.signal, {
      onStoreReady: async (store) => {
        if (demoRules && !(await lastStable(store))) {
          await markStable(store, 'v1', {
            force: true,
            note: 'demo: the version in production before the canary',
            by: 'driftwatch demo',
          })
          io.stderr('demo: v1 marked stable (the rollback target); v2 is the canary\n')
        }
      },
      onStatus: async (store) =>
        io.stderr(
          formatRuleStates([...(await loadRuleStates(store, undefined, ctx.log)).values()], startedAt),
        ),
      statusIntervalMs: 20_000,
    })
  } finally {
    if (timer) clearTimeout(timer)
    stop.abort()
    await producing
    await producer.disconnect()
  }
}

/** Rules the demo uses when driftwatch.yaml has none: the canary's regressions they catch are injected above. */
const DEMO_RULES = [
  {
    // p95: the synthetic p99 sits among 1,024-token answers, too noisy for a 2-minute demo.
    name: 'p95-latency-regression',
    metric: 'latency_p95_ms',
    where: { segment: 'customer_support', modality: 'text' },
    compare_to: 'last_stable',
    increase_by: 200,
    min_samples: 200,
    action: 'rollback',
  },
  {
    name: 'refusal-spike',
    metric: 'refusal_rate',
    where: { segment: 'customer_support', modality: 'text' },
    compare_to: 'last_stable',
    increase_by: 0.05,
    min_samples: 200,
    action: 'page',
  },
]

/** The rule states as progress lines; a firing rule says how long after the demo's start it fired. */
export function formatRuleStates(states: RuleState[], startedAt: number): string {
  if (states.length === 0) return 'rules: waiting for the first evaluation\n'
  const lines = states
    .sort(
      (a, b) => a.rule.localeCompare(b.rule) || a.scope.model_version.localeCompare(b.scope.model_version),
    )
    .map(
      (s) =>
        `  ${s.status.padEnd(12)} ${s.rule} ${s.scope.model_version}/${s.scope.variant_id}/${s.scope.segment}/${s.scope.modality}: ${s.last?.message ?? ''}${s.status === 'firing' && s.fired_at !== null ? ` [fired at ${new Date(s.fired_at).toISOString().slice(11, 19)} UTC]` : ''}`,
    )
  const firing = states.filter((s) => s.status === 'firing')
  // One entry per rule and version (its scopes fire at different looks): the earliest fire.
  const first = new Map<string, number | null>()
  for (const s of firing) {
    const key = `${s.rule} on ${s.scope.model_version}`
    const prev = first.get(key)
    if (prev === undefined || (s.fired_at !== null && (prev === null || s.fired_at < prev)))
      first.set(key, s.fired_at)
  }
  const headline =
    firing.length > 0
      ? `rules: FIRING ${[...first]
          .map(
            ([key, at]) =>
              `${key}${at !== null ? ` (${elapsed(at - startedAt)} after the demo started)` : ''}`,
          )
          .join(', ')}\n`
      : 'rules:\n'
  return `${headline}${lines.join('\n')}\n`
}

function elapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`
}
