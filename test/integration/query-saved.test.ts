// Every shipped saved query runs on a migrated store with a few known rows and returns the
// numbers worked out by hand here (windows, scopes, scorer versions kept apart).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { detectNewVersions, markStable } from '../../deploy/deployments.ts'
import { METRIC_NAMES, METRICS } from '../../metrics/registry.ts'
import { fetchScopeStats } from '../../metrics/scope-stats.ts'
import { findSavedQuery, loadSavedQueries } from '../../queries/catalog.ts'
import { parseJsonEachRow, runSavedQuery } from '../../queries/run.ts'
import type { Store } from '../../store/store.ts'
import { clickhouseTime } from '../../store/time.ts'
import { createTestStore } from '../helpers/store.ts'

const T0 = Date.parse('2026-03-02T10:00:00.000Z')
const WINDOW = { from: '2026-03-02T10:00:00Z', to: '2026-03-02T11:00:00Z' }
const queries = loadSavedQueries()
let store: Store

type Row = Record<string, unknown>
const run = async <T = Row>(name: string, params: Record<string, string>) =>
  parseJsonEachRow<T>(
    await runSavedQuery(store, findSavedQuery(queries, name), params, { now: T0 + 3_600_000 }),
  )

function interaction(id: string, over: Partial<Row> & { at: number }): Row {
  const { at, ...rest } = over
  return {
    request_id: id,
    timestamp: clickhouseTime(at),
    user_id: 'u',
    variant_id: 'control',
    model_name: 'llama',
    model_version: 'v1',
    system_prompt_version: 'p1',
    segment: 'invoice_extraction',
    modality: 'text',
    user_input: 'in',
    model_output: 'out',
    context: [],
    latency_ms: 100,
    ttft_ms: null,
    prompt_tokens: 10,
    completion_tokens: 5,
    cost_usd: null,
    status: 'ok',
    finish_reason: null,
    safety_flag: null,
    user_feedback_score: null,
    attributes: {},
    kafka_topic: 't',
    kafka_partition: 0,
    kafka_offset: 0,
    ...rest,
  }
}

function score(i: Row, scorer: string, metric: string, value: number, scorerVersion: string): Row {
  return {
    request_id: i.request_id,
    scorer,
    scorer_version: scorerVersion,
    metric,
    value,
    label: value ? metric : 'ok',
    categories: [],
    category_names: [],
    detail: '',
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    model_version: i.model_version,
    variant_id: i.variant_id,
    segment: i.segment,
    modality: i.modality,
    interaction_ts: i.timestamp,
    run_id: 'r',
  }
}

beforeAll(async () => {
  store = await createTestStore()
  // v1 (control): 10 ok requests at 100..190 ms and one error at 5000 ms; 1 of 10 hallucinates.
  // v2 (canary): 10 ok at 200..290 ms and one timeout; 4 of 10 hallucinate under judge@a,
  // 0 under judge@b. v2 image: 2 rows. One v2 row falls outside the window.
  const rows: Row[] = []
  for (let k = 0; k < 10; k++) {
    rows.push(interaction(`v1-${k}`, { at: T0 + k * 60_000, latency_ms: 100 + 10 * k, ttft_ms: 50 }))
    rows.push(
      interaction(`v2-${k}`, {
        at: T0 + k * 60_000 + 1000,
        model_version: 'v2',
        variant_id: 'canary',
        latency_ms: 200 + 10 * k,
      }),
    )
  }
  rows.push(interaction('v1-err', { at: T0 + 15 * 60_000, status: 'error', latency_ms: 5000 }))
  rows.push(
    interaction('v2-tmo', {
      at: T0 + 15 * 60_000,
      model_version: 'v2',
      variant_id: 'canary',
      status: 'timeout',
      latency_ms: 30_000,
    }),
  )
  rows.push(
    interaction('v2-img-0', {
      at: T0 + 60_000,
      model_version: 'v2',
      variant_id: 'canary',
      modality: 'image',
    }),
  )
  rows.push(
    interaction('v2-img-1', {
      at: T0 + 120_000,
      model_version: 'v2',
      variant_id: 'canary',
      modality: 'image',
    }),
  )
  rows.push(interaction('v2-late', { at: T0 + 2 * 3_600_000, model_version: 'v2', variant_id: 'canary' }))
  await store.insert('interactions', rows)
  const scored = rows.filter((r) => /^v[12]-\d$/.test(String(r.request_id)))
  const scores = scored.flatMap((r) => {
    const k = Number(String(r.request_id).slice(3))
    const hallucinates = r.model_version === 'v1' ? k === 0 : k < 4
    return [
      score(r, 'judge', 'hallucination', hallucinates ? 1 : 0, 'judge@a'),
      score(r, 'refusal', 'refusal', 0, 'refusal@1'),
      ...(r.model_version === 'v2' ? [score(r, 'judge', 'hallucination', 0, 'judge@b')] : []),
    ]
  })
  await store.insert('scores', scores)
  await store.insert('ingest_errors', [
    ...[0, 1, 2].map((k) => ({
      kafka_topic: 't',
      kafka_partition: 0,
      kafka_offset: k,
      reason: 'not_json',
      detail: `bad ${k}`,
      raw_base64: 'eA==',
      raw_bytes: 1,
      headers: {},
      first_seen: clickhouseTime(T0 + k * 1000),
    })),
    {
      kafka_topic: 't',
      kafka_partition: 1,
      kafka_offset: 7,
      reason: 'schema_invalid',
      detail: 'no request_id',
      raw_base64: 'e30=',
      raw_bytes: 2,
      headers: {},
      first_seen: clickhouseTime(T0 + 5000),
    },
    {
      kafka_topic: 't',
      kafka_partition: 1,
      kafka_offset: 8,
      reason: 'schema_invalid',
      detail: 'old',
      raw_base64: 'e30=',
      raw_bytes: 2,
      headers: {},
      first_seen: clickhouseTime(T0 - 86_400_000),
    },
  ])
})
afterAll(async () => {
  await store?.close()
})

describe('saved query rule-window', () => {
  it('gives n and value per scope and scorer_version, never mixing scorer versions', async () => {
    const rows = await run<Row>('rule-window', {
      ...WINDOW,
      model_version: 'v2',
      metric: 'hallucination_rate',
      segment: 'invoice_extraction',
    })
    expect(rows.map((r) => [r.modality, r.scorer_version, r.n, r.value])).toEqual([
      ['text', 'judge@a', 10, 0.4],
      ['text', 'judge@b', 10, 0],
    ])
  })

  it('computes latency quantiles over ok requests and error rates over all, with registry names', async () => {
    const rows = await run<{ metric: string; n: number; value: number }>('rule-window', {
      ...WINDOW,
      model_version: 'v1',
    })
    const byMetric = Object.fromEntries(rows.map((r) => [r.metric, r]))
    expect(byMetric.latency_p99_ms).toMatchObject({ n: 10, value: 190 })
    expect(byMetric.latency_p50_ms!.value).toBe(150)
    expect(byMetric.error_rate).toMatchObject({ n: 11 })
    expect(byMetric.error_rate!.value).toBeCloseTo(1 / 11, 12)
    expect(byMetric.ttft_p95_ms).toMatchObject({ n: 10, value: 50 })
    expect(byMetric.hallucination_rate).toMatchObject({ n: 10, value: 0.1 })
    expect(byMetric.refusal_rate).toMatchObject({ n: 10, value: 0 })
    expect(byMetric.cost_per_interaction).toBeUndefined() // no costs given: no row rather than a 0
    for (const r of rows) expect(METRIC_NAMES).toContain(r.metric)
  })

  it('leaves out what is outside [from, to)', async () => {
    const rows = await run<{ n: number }>('rule-window', {
      ...WINDOW,
      model_version: 'v2',
      modality: 'text',
      metric: 'error_rate',
    })
    expect(rows.map((r) => r.n)).toEqual([11])
  })
})

describe('rule-window and the evaluator', () => {
  it('give the same n and value for every metric and scope on one fixture', async () => {
    const rows = await run<Row>('rule-window', WINDOW)
    const from = Date.parse(WINDOW.from)
    const to = Date.parse(WINDOW.to)
    const fromEvaluator: Row[] = []
    for (const metric of Object.values(METRICS)) {
      const versions =
        metric.source === 'scores'
          ? [...new Set(rows.filter((r) => r.metric === metric.name).map((r) => String(r.scorer_version)))]
          : ['']
      for (const scorerVersion of versions) {
        for (const s of await fetchScopeStats(store, { metric, from, to, scorerVersion })) {
          if (s.n === 0) continue
          fromEvaluator.push({
            ...s.scope,
            metric: metric.name,
            scorer_version: scorerVersion,
            n: s.n,
            value: s.value,
          })
        }
      }
    }
    const key = (r: Row) =>
      [r.model_version, r.variant_id, r.segment, r.modality, r.metric, r.scorer_version].join('\u0000')
    const sorted = (list: Row[]) =>
      list
        .map((r) => ({ ...r, n: Number(r.n), value: Number(r.value) }))
        .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    expect(rows.length).toBeGreaterThan(20)
    expect(sorted(rows)).toEqual(sorted(fromEvaluator))
  })

  it('bucketed stats (the rule page chart, one query) equal one query per bucket window', async () => {
    const from = Date.parse(WINDOW.from)
    const to = Date.parse(WINDOW.to)
    const step = Math.ceil((to - from) / 7)
    for (const metric of [METRICS.error_rate!, METRICS.latency_p95_ms!]) {
      const bucketed = await fetchScopeStats(store, { metric, from, to, bucketMs: step })
      const perWindow: string[] = []
      for (let b = 0; from + b * step < to; b++) {
        const window = { from: from + b * step, to: Math.min(to, from + (b + 1) * step) }
        for (const s of await fetchScopeStats(store, { metric, ...window }))
          perWindow.push(`${b} ${Object.values(s.scope).join('/')} ${s.n} ${s.value}`)
      }
      const got = bucketed.map((s) => `${s.bucket} ${Object.values(s.scope).join('/')} ${s.n} ${s.value}`)
      expect(got.length).toBeGreaterThan(0)
      expect(got.sort()).toEqual(perWindow.sort())
    }
  })
})

describe('saved query worst-scopes', () => {
  it('ranks scopes by change against the last stable version, same scorer_version only', async () => {
    expect(await detectNewVersions(store)).toHaveLength(2)
    await markStable(store, 'v1', { note: 'baseline' })
    const rows = await run<Row>('worst-scopes', {
      ...WINDOW,
      metric: 'hallucination_rate',
      baseline_from: WINDOW.from,
      baseline_to: WINDOW.to,
      min_n: '1',
    })
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      model_version: 'v2',
      variant_id: 'canary',
      modality: 'text',
      scorer_version: 'judge@a',
      n: 10,
      value: 0.4,
    })
    expect(rows[0]).toMatchObject({ baseline_version: 'v1', baseline_n: 10, baseline_value: 0.1 })
    expect(rows[0]!.change).toBeCloseTo(0.3, 12)
    expect(rows[0]!.change_pct).toBeCloseTo(3, 12)

    const latency = await run<Row>('worst-scopes', {
      ...WINDOW,
      metric: 'latency_p99_ms',
      baseline_from: WINDOW.from,
      min_n: '1',
    })
    expect(latency.map((r) => [r.model_version, r.value, r.baseline_value, r.change])).toEqual([
      ['v2', 290, 190, 100],
    ])
    // min_n leaves thin scopes out.
    expect(
      await run('worst-scopes', {
        ...WINDOW,
        metric: 'latency_p99_ms',
        baseline_from: WINDOW.from,
        min_n: '11',
      }),
    ).toEqual([])
  })
})

describe('saved query trigger-interactions', () => {
  it('lists the scored interactions behind a rate trigger, positives first, with their scores', async () => {
    const rows = await run<{ request_id: string; metric_value: number; scores: Record<string, number> }>(
      'trigger-interactions',
      {
        ...WINDOW,
        version: 'v2',
        segment: 'invoice_extraction',
        metric: 'hallucination_rate',
        scorer_version: 'judge@a',
        limit: '5',
      },
    )
    expect(rows).toHaveLength(5)
    expect(rows.slice(0, 4).map((r) => r.metric_value)).toEqual([1, 1, 1, 1])
    expect(rows[4]!.metric_value).toBe(0)
    expect(
      rows
        .slice(0, 4)
        .map((r) => r.request_id)
        .sort(),
    ).toEqual(['v2-0', 'v2-1', 'v2-2', 'v2-3'])
    expect(rows[0]!.scores).toEqual({ hallucination: 1 })
  })

  it('orders by latency for a latency trigger and by time without a metric', async () => {
    const slow = await run<{ request_id: string; metric_value: number }>('trigger-interactions', {
      ...WINDOW,
      version: 'v2',
      metric: 'latency_p99_ms',
      limit: '2',
    })
    expect(slow.map((r) => [r.request_id, r.metric_value])).toEqual([
      ['v2-tmo', 30_000],
      ['v2-9', 290],
    ])
    const all = await run<{ request_id: string; scores: Record<string, number> }>('trigger-interactions', {
      ...WINDOW,
      version: 'v2',
      modality: 'text',
    })
    expect(all).toHaveLength(11)
    expect(all[0]!.request_id).toBe('v2-tmo')
    expect(all.find((r) => r.request_id === 'v2-0')!.scores).toEqual({ hallucination: 0, refusal: 0 }) // same scored_at: the greater scorer_version (judge@b) wins
  })
})

describe('saved query ingest-errors', () => {
  it('counts dead-lettered messages per reason in the window and shows the newest of each', async () => {
    const rows = await run<Row>('ingest-errors', { from: WINDOW.from, per_reason: '2' })
    expect(rows.map((r) => [r.reason, r.reason_total, r.kafka_offset])).toEqual([
      ['not_json', 3, 2],
      ['not_json', 3, 1],
      ['schema_invalid', 1, 7],
    ])
  })
})

describe('saved query scope-overview', () => {
  it('gives traffic per scope with its share, errors, scored rows and deployment status', async () => {
    const rows = await run<Row>('scope-overview', WINDOW)
    expect(
      rows.map((r) => [r.model_version, r.deployment, r.variant_id, r.modality, r.interactions, r.scored]),
    ).toEqual([
      ['v1', 'stable', 'control', 'text', 11, 10],
      ['v2', 'detected', 'canary', 'text', 11, 10],
      ['v2', 'detected', 'canary', 'image', 2, 0],
    ])
    expect(rows[1]!.share_of_version).toBeCloseTo(11 / 13, 4)
    expect(rows[1]!.timeout_rate).toBeCloseTo(1 / 11, 4)
  })
})
