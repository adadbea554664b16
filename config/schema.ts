// The one zod schema of driftwatch.yaml. Every key, its default and its meaning live here;
// docs/config.md is the reader's copy. Keys are snake_case like the rest of the YAML.

import { validate as isValidCron } from 'node-cron'
import { z } from 'zod'
import { ScopeWhereSchema } from '../contract/scope.ts'
import { ExperimentSchema } from '../experiments/schema.ts'
import { METRICS } from '../metrics/registry.ts'
import { EvaluationSchema, RuleSchema } from '../rules/schema.ts'

const port = z.number().int().min(0).max(65535)
const positiveInt = z.number().int().positive()

export const KafkaConfigSchema = z
  .object({
    /** host:port list. Env KAFKA_BROKERS (comma-separated) wins; unset → the local broker of `driftwatch kafka up`, else 127.0.0.1:9092. */
    brokers: z
      .array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port'))
      .min(1)
      .optional(),
    client_id: z.string().min(1).default('driftwatch'),
    /** Topics the ingest consumer reads. */
    topics: z.array(z.string().min(1)).min(1).default(['llm.interactions']),
    group_id: z.string().min(1).default('driftwatch-ingest'),
    /** Where messages that cannot become a row go, with the reason in headers. */
    dead_letter_topic: z.string().min(1).default('llm.interactions.dlq'),
    /** Numeric rollback triggers are published here. */
    rollback_topic: z.string().min(1).default('llm.rollback'),
    ssl: z.boolean().default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        /** Prefer env KAFKA_SASL_PASSWORD over writing it here. */
        password: z.string().optional(),
      })
      .strict()
      .optional(),
    /** Partitions created for topics driftwatch creates itself (local broker, demo). */
    default_partitions: positiveInt.default(3),
  })
  .strict()

export const SchemaRegistryConfigSchema = z
  .object({
    /** Unset: only plain JSON messages are accepted; framed ones go to the DLQ as unknown_schema_id. Env SCHEMA_REGISTRY_URL. */
    url: z.string().url().optional(),
    username: z.string().optional(),
    /** Prefer env SCHEMA_REGISTRY_PASSWORD. */
    password: z.string().optional(),
  })
  .strict()

export const ClickHouseConfigSchema = z
  .object({
    /** Unset: embedded ClickHouse (chDB) in data_dir. Env CLICKHOUSE_URL. */
    url: z.string().url().optional(),
    username: z.string().default('default'),
    /** Prefer env CLICKHOUSE_PASSWORD. */
    password: z.string().default(''),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only')
      .default('driftwatch'),
    /** Folder of the embedded store. Env DRIFTWATCH_DATA_DIR. Relative to the working directory. */
    data_dir: z.string().min(1).default('.driftwatch/data'),
    /**
     * Embedded store: have the engine's allocator give freed memory back to the system at
     * once (jemalloc dirty/muzzy decay 0) instead of keeping it for reuse. Lowers peak RSS of
     * an ingesting process by ~200 MB but slows inserts by ~35 % (bench:ingest), so it is off
     * by default. Ignored if JE_MALLOC_CONF is set in the environment.
     */
    release_memory: z.boolean().default(false),
    request_timeout_ms: positiveInt.default(60_000),
    /**
     * A ClickHouse cluster's name (as in the servers' remote_servers): `driftwatch migrate`
     * applies the migrations' cluster variant (ON CLUSTER, Replicated engines, Distributed
     * tables; store/cluster-ddl.ts). Server mode only. Unset: a single server.
     */
    cluster: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'a cluster name from remote_servers: letters, digits, _ . - only')
      .optional(),
  })
  .strict()

const RedactPatternSchema = z
  .object({
    /** The marker is [NAME] in capitals, e.g. name: employee_id -> [EMPLOYEE_ID]. */
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'letters, digits and _ only'),
    /** A JavaScript regular expression. */
    regex: z.string().min(1),
    flags: z
      .string()
      .regex(/^[gimsuy]*$/, 'JavaScript regex flags only (g i m s u y)')
      .default('g'),
  })
  .strict()
  .superRefine((p, ctx) => {
    try {
      new RegExp(p.regex, p.flags)
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        path: ['regex'],
        message: `not a valid regular expression: ${(error as Error).message}`,
      })
    }
  })

export const RedactConfigSchema = z
  .object({
    /** user@example.com -> [EMAIL] */
    emails: z.boolean().default(false),
    /** +1 415 555 0100, (030) 1234 5678 -> [PHONE]: 9 to 15 digits, so dates and short numbers stay. */
    phone_numbers: z.boolean().default(false),
    /** 13-19 digit runs (spaces or dashes allowed) that pass the Luhn check -> [CARD]. */
    card_numbers: z.boolean().default(false),
    patterns: z.array(RedactPatternSchema).default([]),
  })
  .strict()

export const IngestConfigSchema = z
  .object({
    /** Rows per insert, at most. */
    batch_size: positiveInt.max(1_000_000).default(5000),
    /** A partial batch is inserted after this long (the broker's fetch wait). */
    flush_interval_ms: positiveInt.max(60_000).default(1000),
    /** Larger messages go to the dead-letter topic as too_large. */
    max_message_bytes: positiveInt.default(1_048_576),
    /** Partitions processed in parallel by one consumer process. */
    partitions_concurrently: positiveInt.max(64).default(3),
    /** A consumer that stops heartbeating (crash, kill -9) leaves the group after this long. */
    session_timeout_ms: z.number().int().min(6000).max(300_000).default(30_000),
    /** Backoff while ClickHouse is unavailable: first delay and cap. Retries never give up. */
    retry_initial_ms: positiveInt.default(200),
    retry_max_ms: positiveInt.default(10_000),
    /** Replace PII in user_input and model_output before they are stored. All off by default. */
    redact: RedactConfigSchema.prefault({}),
  })
  .strict()

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. DRIFTWATCH_ADMIN_TOKEN')

export const ServerAuthConfigSchema = z
  .object({
    /** NAME of the env var holding the admin token (writes: deployment marks, review labels; and everything a reader may do). */
    admin_token_env: envName.default('DRIFTWATCH_ADMIN_TOKEN'),
    /** NAME of the env var holding the reader token (dashboard, /sql, /metrics, status). */
    read_token_env: envName.default('DRIFTWATCH_READ_TOKEN'),
    /** NAME of the env var holding the verdict token (GET /verdict only, for Argo Rollouts). */
    verdict_token_env: envName.default('DRIFTWATCH_VERDICT_TOKEN'),
  })
  .strict()

export const ServerSqlConfigSchema = z
  .object({
    /** Seconds a /sql query (and the dashboard's console) may run; ClickHouse stops it after that. */
    max_execution_time: z.number().positive().default(30),
    /** Bytes of memory one query may use. Default 2 GiB. */
    max_memory_usage: positiveInt.default(2 * 1024 ** 3),
    /** Rows a result may have; more is an error, not a silent truncation. */
    max_result_rows: positiveInt.default(1_000_000),
    /** Bytes a result may have (uncompressed). Default 256 MiB. */
    max_result_bytes: positiveInt.default(256 * 1024 ** 2),
    /** /sql queries running at once; more are refused with 429. */
    max_concurrent_queries: positiveInt.max(64).default(2),
  })
  .strict()

export const ServerConfigSchema = z
  .object({
    /** The HTTP endpoint (dashboard, /sql, /verdict, /metrics). Bound to loopback by default; any other address needs tokens (server.auth). */
    host: z.string().default('127.0.0.1'),
    /** 0 picks a free port; the running instance records it in <data_dir>/driftwatch-instance.json. Env DRIFTWATCH_HTTP_PORT. */
    port: port.default(8787),
    auth: ServerAuthConfigSchema.prefault({}),
    /** Origins (scheme://host:port) allowed to send writes besides the endpoint's own, e.g. a reverse proxy's. */
    allowed_origins: z.array(z.string().url()).default([]),
    /** Host header values (name or name:port) accepted besides the bound address; a wildcard bind with none accepts any. */
    allowed_hosts: z.array(z.string().min(1)).default([]),
    sql: ServerSqlConfigSchema.prefault({}),
  })
  .strict()

// ---- scoring jobs (docs/scoring-jobs.md is the reader's copy of this part) ----

const unitInterval = z.number().min(0).max(1)
const cron = z.string().refine((value) => isValidCron(value), {
  message:
    'not a valid cron expression: use 5 fields (minute hour day month weekday) or 6 with seconds, e.g. "*/5 * * * *"',
})

/** A scope filter: every key given must match (model_version x variant_id x segment x modality). */
const SamplingWhereSchema = ScopeWhereSchema.refine((where) => Object.keys(where).length > 0, {
  message: 'name at least one of model_version, variant_id, segment, modality',
})

const SamplingOverrideSchema = z
  .object({
    where: SamplingWhereSchema,
    /** Replaces `rate` for matching scopes. */
    rate: unitInterval.optional(),
    /** Replaces `min_per_scope` for matching scopes. */
    min_per_scope: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((o) => o.rate !== undefined || o.min_per_scope !== undefined, {
    message: 'set rate and/or min_per_scope',
  })

/** The sampling knobs without defaults: what a scorer may override, key by key. */
const samplingShape = {
  /** Share of interactions scored, chosen by a hash of request_id (same rows on every rerun and replica). */
  rate: unitInterval,
  /** At least this many rows per scope per window (the lowest-hash ones), so rare scopes get samples. */
  min_per_scope: z.number().int().min(0),
  /** Length of the window the minimum applies to, by interaction timestamp. */
  window_minutes: z.number().int().positive().max(1440),
  /** Score every interaction whose status is not ok. */
  always_errors: z.boolean(),
  /** Score every interaction the app flagged itself (safety_flag = true). */
  always_flagged: z.boolean(),
  /** First matching entry wins. */
  overrides: z.array(SamplingOverrideSchema),
}

export const SamplingConfigSchema = z
  .object({
    rate: samplingShape.rate.default(0.05),
    min_per_scope: samplingShape.min_per_scope.default(20),
    window_minutes: samplingShape.window_minutes.default(60),
    always_errors: samplingShape.always_errors.default(true),
    always_flagged: samplingShape.always_flagged.default(true),
    overrides: samplingShape.overrides.default([]),
  })
  .strict()

const SamplingPatchSchema = z.object(samplingShape).partial().strict()

/** What every model-backed scorer (Llama Guard, judge) shares: endpoint, limits, budget. */
const modelScorerShape = {
  /** Model scorers are off until an endpoint is configured. */
  enabled: z.boolean().default(false),
  /** OpenAI-compatible API root, e.g. http://localhost:8000/v1 (vLLM). */
  base_url: z.string().url().optional(),
  model: z.string().min(1).optional(),
  /** NAME of the environment variable holding the API key; the key itself never goes in the YAML. */
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. JUDGE_API_KEY')
    .optional(),
  api_key: z
    .never({
      error:
        'do not write the API key here: put it in an environment variable and set api_key_env to its name',
    })
    .optional(),
  /** Per HTTP attempt. */
  timeout_ms: positiveInt.default(30_000),
  /** Attempts after the first one within a run (429 / 5xx / timeout), honouring Retry-After. */
  max_retries: z.number().int().min(0).max(10).default(3),
  max_concurrency: positiveInt.max(256).default(4),
  requests_per_second: z.number().positive().default(5),
  /** Daily budgets (UTC day), summed over restarts. Unset: no limit. */
  tokens_per_day: positiveInt.optional(),
  usd_per_day: z.number().positive().optional(),
  price_per_1k_prompt_tokens: z.number().min(0).default(0),
  price_per_1k_completion_tokens: z.number().min(0).default(0),
  /** Share of a daily budget after which only the per-scope minimum is scored. */
  degrade_at: z.number().gt(0).max(1).default(0.8),
  /** Runs that may try one row before its failure is final. */
  max_attempts: positiveInt.max(100).default(5),
  /** Scores written per insert. */
  batch_size: positiveInt.max(10_000).default(50),
  /** Replaces keys of the global `sampling` section for this scorer. */
  sampling: SamplingPatchSchema.optional(),
}

function checkModelScorer(
  value: {
    enabled: boolean
    base_url?: string
    model?: string
    usd_per_day?: number
    price_per_1k_prompt_tokens: number
    price_per_1k_completion_tokens: number
  },
  ctx: z.RefinementCtx,
) {
  if (
    value.usd_per_day !== undefined &&
    value.price_per_1k_prompt_tokens === 0 &&
    value.price_per_1k_completion_tokens === 0
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['usd_per_day'],
      message:
        'has no effect while both prices are 0: set price_per_1k_prompt_tokens and price_per_1k_completion_tokens, or use tokens_per_day',
    })
  }
  if (!value.enabled) return
  for (const key of ['base_url', 'model'] as const) {
    if (!value[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when enabled is true' })
  }
}

export const LlamaGuardConfigSchema = z
  .object({
    ...modelScorerShape,
    /** chat-template: the server applies the Llama Guard chat template; raw: driftwatch sends the task prompt. */
    prompt_mode: z.enum(['chat-template', 'raw']).default('chat-template'),
  })
  .strict()
  .superRefine(checkModelScorer)

export const JudgeConfigSchema = z
  .object({
    ...modelScorerShape,
    /** Prompt template file (relative to the working directory); unset: the shipped prompts/judge-v1.md. */
    prompt: z.string().min(1).optional(),
    response_format: z.enum(['json_object', 'json_schema', 'none']).default('json_object'),
  })
  .strict()
  .superRefine(checkModelScorer)

export const RefusalConfigSchema = z
  .object({
    /** The built-in detector, on every answered interaction. */
    enabled: z.boolean().default(true),
    /** Interactions read and scored per step. */
    batch_size: positiveInt.max(100_000).default(5000),
  })
  .strict()

export const ScorersConfigSchema = z
  .object({
    refusal: RefusalConfigSchema.default(RefusalConfigSchema.parse({})),
    llama_guard: LlamaGuardConfigSchema.default(LlamaGuardConfigSchema.parse({})),
    judge: JudgeConfigSchema.default(JudgeConfigSchema.parse({})),
  })
  .strict()

export const JobsConfigSchema = z
  .object({
    /** Run the scheduler inside `driftwatch start`. */
    enabled: z.boolean().default(true),
    /** Cron expression per job name, replacing the job's default schedule. */
    schedule: z.record(z.string(), cron).default({}),
    /** Time zone of the cron expressions. */
    timezone: z.string().min(1).default('UTC'),
    /** Only rows ingested at least this long ago are read, so inserts in flight are never skipped. */
    settle_seconds: z.number().min(0).max(3600).default(10),
    /** A job's first run (or a new scorer version's) looks this far back by interaction time; 'all' for everything. */
    backfill_hours: z.union([z.literal('all'), z.number().positive()]).default(24),
    /** How often a running job reports progress (stderr line, job_runs row). */
    progress_interval_ms: positiveInt.default(5000),
    /** Run every job once when the scheduler starts, instead of waiting for the first tick. */
    run_on_start: z.boolean().default(false),
    /**
     * Server mode: how long the job lease (jobs/lease.ts) holds without a renewal; the holder
     * renews every third of it, so a runner that dies is replaced within ~1.3x this.
     */
    lease_ttl_ms: z.number().int().min(3000).max(600_000).default(30_000),
  })
  .strict()

export const ReviewConfigSchema = z
  .object({
    /** Share of scored samples queued for human review, chosen by a hash of request_id. */
    fraction: unitInterval.default(0.1),
    /** Scorers whose samples are queued. */
    scorers: z.array(z.enum(['llama_guard', 'judge'])).default(['llama_guard', 'judge']),
  })
  .strict()

export const AlertsConfigSchema = z
  .object({
    /** PagerDuty Events API v2. The routing key is read from the env var named here, never from this file. */
    pagerduty: z
      .object({
        routing_key_env: z.string().min(1).default('PAGERDUTY_ROUTING_KEY'),
        /** Default https://events.pagerduty.com/v2/enqueue; env PAGERDUTY_EVENTS_URL wins. */
        url: z.string().url().optional(),
        source: z.string().min(1).default('driftwatch'),
      })
      .strict()
      .optional(),
    /** HMAC-SHA256 signed webhook; the secret is read from the env var named here. */
    webhook: z
      .object({ url: z.string().url(), secret_env: z.string().min(1).default('DRIFTWATCH_WEBHOOK_SECRET') })
      .strict()
      .optional(),
    /** Publish rollback triggers on kafka.rollback_topic. */
    kafka: z.boolean().default(true),
  })
  .strict()

/** Cost of one failure by segment (and optionally metric): turns rates into dollars at risk (metrics/exposure.ts). */
export const ExposureEntrySchema = z
  .object({
    segment: z.string().min(1),
    /** A failure-rate metric (kind rate, higher is worse); unset: every failure rate of the segment. */
    metric: z
      .enum(
        Object.values(METRICS)
          .filter((m) => m.kind === 'rate' && m.worse === 'higher')
          .map((m) => m.name) as [string, ...string[]],
        { error: () => 'not a failure-rate metric (kind rate, higher is worse)' },
      )
      .optional(),
    usd_per_failure: z.number().min(0),
  })
  .strict()
export type ExposureEntry = z.output<typeof ExposureEntrySchema>

/** `driftwatch replay` (docs/replay.md): candidate calls and the regression limits. */
export const ReplayConfigSchema = z
  .object({
    /** Per HTTP attempt to the candidate. */
    timeout_ms: positiveInt.default(30_000),
    /** Attempts after the first (429 / 5xx / timeout), honouring Retry-After, as the scorers. */
    max_retries: z.number().int().min(0).max(10).default(3),
    max_tokens: positiveInt.default(1024),
    temperature: z.number().min(0).max(2).default(0),
    /** NAME of the environment variable holding the candidate's API key. */
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable')
      .optional(),
    /** Prices for --budget-usd. */
    price_per_1k_prompt_tokens: z.number().min(0).default(0),
    price_per_1k_completion_tokens: z.number().min(0).default(0),
    /** Family-wise significance level of the per-scope regression tests (Holm). */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /** Largest acceptable worsening per metric (absolute), e.g. { refusal_rate: 0.02 }; default 0. */
    max_increase: z
      .object({
        hallucination_rate: z.number().min(0),
        unsafe_rate: z.number().min(0),
        helpfulness_mean: z.number().min(0),
        refusal_rate: z.number().min(0),
        error_rate: z.number().min(0),
        latency_p95_ms: z.number().min(0),
      })
      .partial()
      .strict()
      .default({}),
  })
  .strict()

/** The golden suite on a schedule (docs/replay.md#golden-suite): the `golden` job, metric golden_pass_rate. */
export const GoldenConfigSchema = z
  .object({
    /** JSONL file: {input, reference?, weight?, segment?, modality?, context?} per line. */
    suite: z.string().min(1),
    cron: cron.default('0 3 * * *'),
    /** The live endpoint's OpenAI-compatible API root. */
    target: z.string().url(),
    model: z.string().min(1),
    /** Without a judge, a case with a reference passes at this character-trigram similarity or more. */
    min_similarity: z.number().min(0).max(1).default(0.5),
    concurrency: positiveInt.max(64).default(4),
  })
  .strict()
export type GoldenConfig = z.output<typeof GoldenConfigSchema>
/** The optional embeddings endpoint of the shadow job: the scorers' client limits and budget. */
export const ShadowEmbeddingsConfigSchema = z
  .object({
    /** OpenAI-compatible API root, e.g. http://localhost:8080/v1 (POST {base_url}/embeddings). */
    base_url: z.string().url(),
    model: z.string().min(1),
    /** NAME of the environment variable holding the API key. */
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. EMBEDDINGS_API_KEY')
      .optional(),
    /** Asked of models that can shorten their vectors (OpenAI text-embedding-3-*); unset: the model's own size. */
    dimensions: positiveInt.optional(),
    /** Texts per request. */
    batch_size: positiveInt.max(2048).default(64),
    timeout_ms: positiveInt.default(30_000),
    max_retries: z.number().int().min(0).max(10).default(3),
    max_concurrency: positiveInt.max(256).default(4),
    requests_per_second: z.number().positive().default(5),
    /** Daily budgets (UTC day, summed over restarts from scoring_spend); over them the job measures lexically. */
    tokens_per_day: positiveInt.optional(),
    usd_per_day: z.number().positive().optional(),
    price_per_1k_tokens: z.number().min(0).default(0),
  })
  .strict()

/** Shadow deployments (docs/shadow.md): the `shadow` job pairing shadow answers with production's. */
export const ShadowConfigSchema = z
  .object({
    /** Run the shadow job (jobs run shadow, and on its schedule). */
    enabled: z.boolean().default(true),
    /** A pair whose distance is above this counts as divergent (shadow_divergence_rate). */
    divergence_threshold: z.number().gt(0).lt(1).default(0.3),
    /** Pairs read and scored per step. */
    batch_size: positiveInt.max(100_000).default(1000),
    /** The most divergent pairs of each run queued for human review (review_queue, scorer shadow). */
    review_top: z.number().int().min(0).max(1000).default(10),
    /** Unset: lexical similarity (token-set Jaccard) only. */
    embeddings: ShadowEmbeddingsConfigSchema.optional(),
  })
  .strict()

export const ConfigSchema = z
  .object({
    kafka: KafkaConfigSchema.default(KafkaConfigSchema.parse({})),
    schema_registry: SchemaRegistryConfigSchema.default({}),
    clickhouse: ClickHouseConfigSchema.default(ClickHouseConfigSchema.parse({})),
    ingest: IngestConfigSchema.default(IngestConfigSchema.parse({})),
    server: ServerConfigSchema.default(ServerConfigSchema.parse({})),
    jobs: JobsConfigSchema.default(JobsConfigSchema.parse({})),
    sampling: SamplingConfigSchema.default(SamplingConfigSchema.parse({})),
    scorers: ScorersConfigSchema.default(ScorersConfigSchema.parse({})),
    review: ReviewConfigSchema.default(ReviewConfigSchema.parse({})),
    rules: z.array(RuleSchema).default([]),
    evaluation: EvaluationSchema.prefault({}),
    alerts: AlertsConfigSchema.prefault({}),
    /** A/B experiments (docs/experiments.md): `driftwatch experiment list | plan | analyze NAME`. */
    experiments: z.array(ExperimentSchema).default([]),
    replay: ReplayConfigSchema.prefault({}),
    /** Shadow deployments (docs/shadow.md): divergence of shadow answers from production's. */
    shadow: ShadowConfigSchema.prefault({}),
    /** Dollars at risk per segment (docs/config.md#exposure): shown in experiment and replay reports. */
    exposure: z.array(ExposureEntrySchema).default([]),
    golden: GoldenConfigSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const alias = config.evaluation.schedule
    if (alias !== undefined && !isValidCron(alias))
      ctx.addIssue({
        code: 'custom',
        path: ['evaluation', 'schedule'],
        message: 'not a valid cron expression (and deprecated: write it as jobs.schedule.evaluate)',
      })
    const seen = new Set<string>()
    config.rules.forEach((rule, i) => {
      if (seen.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name ${rule.name}`,
        })
      seen.add(rule.name)
    })
    const experiments = new Set<string>()
    config.experiments.forEach((experiment, i) => {
      if (experiments.has(experiment.name))
        ctx.addIssue({
          code: 'custom',
          path: ['experiments', i, 'name'],
          message: `duplicate experiment name ${experiment.name}`,
        })
      experiments.add(experiment.name)
    })
  })
  .strict()
  // evaluation.schedule is the old spelling of jobs.schedule.evaluate: the one place a job's
  // schedule is set wins, the alias fills it when unset.
  .transform((config) => {
    const alias = config.evaluation.schedule
    if (alias !== undefined && config.jobs.schedule.evaluate === undefined)
      config.jobs.schedule = { ...config.jobs.schedule, evaluate: alias }
    return config
  })

export type Config = z.output<typeof ConfigSchema>
export type KafkaConfig = Config['kafka']
export type ClickHouseConfig = Config['clickhouse']
export type IngestConfig = Config['ingest']
export type AlertsConfig = Config['alerts']
export type JobsConfig = Config['jobs']
export type SamplingConfig = Config['sampling']
export type ScorersConfig = Config['scorers']
export type LlamaGuardConfig = Config['scorers']['llama_guard']
export type JudgeConfig = Config['scorers']['judge']
export type ReviewConfig = Config['review']
export type ServerConfig = Config['server']
export type ShadowConfig = Config['shadow']
