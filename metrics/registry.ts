// The one registry of drift metrics: each metric names its source (an interactions column
// or a scorer's metric in `scores`) once, its kind (rate, mean or quantile) and which
// direction is worse. Every number driftwatch pages about is computed from this table.

export type MetricKind = 'rate' | 'mean' | 'quantile'
export type Worse = 'higher' | 'lower'

interface MetricBase {
  name: string
  kind: MetricKind
  worse: Worse
  unit: string
  description: string
}

/** Computed from `interactions`: `expr` is a SQL expression over one row, `filter` selects rows. */
export interface InteractionMetric extends MetricBase {
  source: 'interactions'
  /** rate: a 0/1 condition; mean and quantile: the value. */
  expr: string
  filter?: string
  /** quantile only. */
  p?: number
}

/** Computed from `scores` of one scorer and metric, within one scorer_version. */
export interface ScoreMetric extends MetricBase {
  source: 'scores'
  scorer: string
  scoreMetric: string
}

export type MetricDefinition = InteractionMetric | ScoreMetric

const q = (
  name: string,
  p: number,
  expr: string,
  filter: string,
  description: string,
): InteractionMetric => ({
  name,
  kind: 'quantile',
  source: 'interactions',
  expr,
  filter,
  p,
  worse: 'higher',
  unit: 'ms',
  description,
})

export const METRICS: Readonly<Record<string, MetricDefinition>> = Object.freeze({
  hallucination_rate: {
    name: 'hallucination_rate',
    kind: 'rate',
    source: 'scores',
    scorer: 'judge',
    scoreMetric: 'hallucination',
    worse: 'higher',
    unit: 'share',
    description: 'share of judged samples with a claim unsupported by the context (or wrong for the input)',
  },
  unsafe_rate: {
    name: 'unsafe_rate',
    kind: 'rate',
    source: 'scores',
    scorer: 'llama_guard',
    scoreMetric: 'unsafe',
    worse: 'higher',
    unit: 'share',
    description: 'share of Llama Guard samples classified unsafe (S1-S14)',
  },
  refusal_rate: {
    name: 'refusal_rate',
    kind: 'rate',
    source: 'scores',
    scorer: 'refusal',
    scoreMetric: 'refusal',
    worse: 'higher',
    unit: 'share',
    description:
      'share of interactions whose answer is a refusal or failure to answer (built-in detector, every row)',
  },
  helpfulness_mean: {
    name: 'helpfulness_mean',
    kind: 'mean',
    source: 'scores',
    scorer: 'judge',
    scoreMetric: 'helpfulness',
    worse: 'lower',
    unit: 'score 1-5',
    description: 'mean judge helpfulness score',
  },
  shadow_divergence_rate: {
    name: 'shadow_divergence_rate',
    kind: 'rate',
    source: 'scores',
    scorer: 'shadow',
    scoreMetric: 'divergent',
    worse: 'higher',
    unit: 'share',
    description:
      "share of shadow answers whose distance from the production twin's is above shadow.divergence_threshold (scope: the shadow version)",
  },
  shadow_divergence_mean: {
    name: 'shadow_divergence_mean',
    kind: 'mean',
    source: 'scores',
    scorer: 'shadow',
    scoreMetric: 'divergence',
    worse: 'higher',
    unit: 'distance 0-1',
    description:
      "mean distance of shadow answers from their production twins' (embedding cosine or lexical; scope: the shadow version)",
  },
  latency_p50_ms: q(
    'latency_p50_ms',
    0.5,
    'latency_ms',
    "status = 'ok'",
    'median end-to-end latency of successful requests',
  ),
  latency_p95_ms: q(
    'latency_p95_ms',
    0.95,
    'latency_ms',
    "status = 'ok'",
    'p95 end-to-end latency of successful requests',
  ),
  latency_p99_ms: q(
    'latency_p99_ms',
    0.99,
    'latency_ms',
    "status = 'ok'",
    'p99 end-to-end latency of successful requests',
  ),
  ttft_p95_ms: q('ttft_p95_ms', 0.95, 'ttft_ms', 'ttft_ms IS NOT NULL', 'p95 time to first token'),
  error_rate: {
    name: 'error_rate',
    kind: 'rate',
    source: 'interactions',
    expr: "status = 'error'",
    worse: 'higher',
    unit: 'share',
    description: 'share of requests with status error',
  },
  timeout_rate: {
    name: 'timeout_rate',
    kind: 'rate',
    source: 'interactions',
    expr: "status = 'timeout'",
    worse: 'higher',
    unit: 'share',
    description: 'share of requests with status timeout',
  },
  cost_per_interaction: {
    name: 'cost_per_interaction',
    kind: 'mean',
    source: 'interactions',
    expr: 'cost_usd',
    filter: 'cost_usd IS NOT NULL',
    worse: 'higher',
    unit: 'USD',
    description: 'mean cost of one interaction',
  },
  tokens_per_interaction: {
    name: 'tokens_per_interaction',
    kind: 'mean',
    source: 'interactions',
    expr: 'prompt_tokens + completion_tokens',
    worse: 'higher',
    unit: 'tokens',
    description: 'mean prompt + completion tokens of one interaction',
  },
  user_feedback_mean: {
    name: 'user_feedback_mean',
    kind: 'mean',
    source: 'interactions',
    expr: 'user_feedback_score',
    filter: 'user_feedback_score IS NOT NULL',
    worse: 'lower',
    unit: 'score',
    description: 'mean user feedback score where given',
  },
})

export const METRIC_NAMES = Object.keys(METRICS) as readonly string[]

export function metricDefinition(name: string): MetricDefinition {
  const metric = METRICS[name]
  if (!metric) throw new RangeError(`unknown metric ${name}; known: ${METRIC_NAMES.join(', ')}`)
  return metric
}
