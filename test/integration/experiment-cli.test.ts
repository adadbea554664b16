// A/B experiments from the command line over real Kafka ingest and the embedded ClickHouse:
// synthetic A/B traffic (users hashed to arms, treatment +10 % feedback) -> ingest -> the
// refusal scorer -> `experiment plan | analyze | list`; a 55/45 stream against a 50/50 design
// is flagged; a user in both arms is reported; an unknown experiment exits 2, nothing written.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { interactionJsonBytes, syntheticInteraction } from '../../producers/synthetic.ts'
import { runCli } from '../helpers/cli.ts'
import { produceRaw } from '../helpers/ingest.ts'
import { createTopic, getBrokers, uniqueTopic } from '../helpers/kafka.ts'

let env: Record<string, string>

const AB = {
  arms: { A: 0.5, B: 0.5 },
  users: 40_000,
  effects: { B: { feedbackShift: 0.35 } },
  feedbackRate: 0.6,
}

beforeAll(async () => {
  const brokers = getBrokers()
  const topic = uniqueTopic('exp')
  await createTopic(brokers, topic, 3)
  const dir = mkdtempSync(join(tmpdir(), 'dw-exp-'))
  const config = join(dir, 'driftwatch.yaml')
  writeFileSync(
    config,
    `kafka:
  topics: [${topic}]
  group_id: ${topic}.g
  dead_letter_topic: ${topic}.dlq
jobs:
  settle_seconds: 0
experiments:
  - name: support-ab
    control: { variant_id: A }
    treatment: { variant_id: B }
    where: { segment: customer_support }
    goal: [{ metric: user_feedback_mean, mde: 0.05 }]
    guardrails:
      - { metric: refusal_rate, max_increase: 0 }
      - { metric: latency_p95_ms, max_increase_pct: 15 }
      - { metric: cost_per_interaction, max_increase_pct: 20 }
    started_at: 2020-01-01T00:00:00Z
  - name: srm-check
    control: { variant_id: C }
    treatment: { variant_id: D }
    goal: [{ metric: user_feedback_mean, mde: 0.05 }]
    started_at: 2020-01-01T00:00:00Z
`,
  )
  env = { KAFKA_BROKERS: brokers, DRIFTWATCH_CONFIG: config, DRIFTWATCH_DATA_DIR: join(dir, 'data') }
  const ab = await runCli(
    ['produce', '--synthetic', '20000', '--seed', '11', '--experiment', JSON.stringify(AB)],
    env,
  )
  expect(ab.code, ab.stderr).toBe(0)
  const srm = await runCli(
    [
      'produce',
      '--synthetic',
      '8000',
      '--seed',
      '12',
      '--experiment',
      '{"arms":{"C":0.55,"D":0.45},"users":8000}',
    ],
    env,
  )
  expect(srm.code, srm.stderr).toBe(0)
  // One user of arm A also served by B: what the assignment check is for.
  const options = { seed: 11, experiment: AB, feedbackRate: 0.6, startMs: Date.now() - 60_000 }
  let i = 0
  while (syntheticInteraction(i, options).segment !== 'customer_support') i++
  const first = syntheticInteraction(i, options)
  const other = first.variant_id === 'A' ? 'B' : 'A'
  await produceRaw(brokers, topic, [
    { value: interactionJsonBytes({ ...first, request_id: 'both-arms-1', variant_id: other }) },
  ])
  const ingested = await runCli(['ingest', '--until-caught-up'], env)
  expect(ingested.code, ingested.stderr).toBe(0)
  const jobs = await runCli(['jobs', 'run', 'refusal'], env)
  expect(jobs.code, jobs.stderr).toBe(0)
})

describe('driftwatch experiment', () => {
  it('plan measures the baseline from stored data', async () => {
    const r = await runCli(['experiment', 'plan', 'support-ab', '--format', 'json'], env)
    expect(r.code, r.stderr).toBe(0)
    const plan = JSON.parse(r.stdout)
    expect(plan.goals[0].metric).toBe('user_feedback_mean')
    expect(plan.goals[0].baseline).toBeGreaterThan(3)
    expect(plan.goals[0].baseline).toBeLessThan(4)
    expect(plan.planned_per_variant).toBeGreaterThan(50)
    expect(plan.daily).toBeGreaterThan(0)
  })

  it('analyze: treatment +10 % feedback with guardrails kept ships; the result is stored', async () => {
    const r = await runCli(['experiment', 'analyze', 'support-ab', '--format', 'json'], env)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining([
        'experiment',
        'decision',
        'reason',
        'srm',
        'assignment',
        'planned_per_variant',
        'metrics',
      ]),
    )
    expect(report.decision, report.reason).toBe('ship')
    expect(report.reason).toMatch(/^goal_met: .*user_feedback_mean in customer_support\/text/)
    expect(report.srm.flagged).toBe(false)
    expect(report.assignment.users_in_both).toBe(1)
    const row = report.metrics.find(
      (m: { metric: string; modality: string }) => m.metric === 'user_feedback_mean' && m.modality === 'text',
    )
    expect(Object.keys(row)).toEqual(
      expect.arrayContaining([
        'metric',
        'role',
        'segment',
        'modality',
        'control',
        'treatment',
        'diff',
        'rel_diff',
        'ci_low',
        'ci_high',
        'p_value',
        'verdict',
      ]),
    )
    expect(row.verdict).toBe('better')
    expect(new Set(report.metrics.map((m: { segment: string }) => m.segment))).toEqual(
      new Set(['customer_support']),
    )
    const refusal = report.metrics.filter((m: { metric: string }) => m.metric === 'refusal_rate')
    expect(refusal.length).toBeGreaterThan(0)
    expect(refusal.every((m: { verdict: string }) => m.verdict === 'ok')).toBe(true)

    const list = await runCli(['experiment', 'list', '--format', 'json'], env)
    expect(list.code, list.stderr).toBe(0)
    const listed = JSON.parse(list.stdout).experiments
    expect(listed.find((e: { name: string }) => e.name === 'support-ab')).toMatchObject({
      last_decision: 'ship',
      last_rule: 'goal_met',
      analyses: 1,
    })
  })

  it('a 55/45 stream with a 50/50 design is flagged and blocks the decision', async () => {
    const r = await runCli(['experiment', 'analyze', 'srm-check', '--format', 'json'], env)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.srm.flagged).toBe(true)
    expect(report.srm.p_value).toBeLessThan(0.001)
    expect(report.decision).toBe('keep_running')
    expect(report.reason).toMatch(/sample ratio mismatch/)
    const table = await runCli(['experiment', 'analyze', 'srm-check'], env)
    expect(table.stdout).toMatch(/FLAGGED/)
  })

  it('an unknown experiment is a clear error, exit 2, nothing written', async () => {
    const r = await runCli(['experiment', 'analyze', 'nope'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown experiment "nope"/)
    expect(r.stderr).toMatch(/configured experiments: support-ab, srm-check/)
    // Three analyses ran before this one (support-ab once, srm-check twice): no fourth row.
    const after = await runCli(
      ['sql', 'SELECT count() AS n FROM experiment_results', '--format', 'json'],
      env,
    )
    expect(JSON.parse(after.stdout)).toEqual([{ n: 3 }])
  })
})
