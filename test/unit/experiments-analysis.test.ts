// The A/B analysis and the decision matrix on seeded synthetic arms: ship, safety reject, A/A
// (one run and the false-positive rate over many seeds), SRM, users in both arms, don't stop
// early, early guardrail failure; Welch on the guide's numbers against independent values.
import { describe, expect, it } from 'vitest'
import { analyzeExperiment, type ExperimentMeasurements, holmAdjust } from '../../experiments/analysis.ts'
import { fixedTest, studentTQuantile } from '../../experiments/compare.ts'
import { DECISION_MATRIX } from '../../experiments/decision.ts'
import { planGoal } from '../../experiments/plan.ts'
import { type Experiment, ExperimentSchema } from '../../experiments/schema.ts'
import { metricDefinition } from '../../metrics/registry.ts'
import { createRng, type Rng } from '../../stats/index.ts'

const experiment: Experiment = ExperimentSchema.parse({
  name: 'support-prompt-v2',
  control: { variant_id: 'A' },
  treatment: { variant_id: 'B' },
  where: { segment: 'support_chat' },
  goal: [{ metric: 'helpfulness_mean', mde: 0.05 }],
  guardrails: [
    { metric: 'unsafe_rate', max_increase: 0 },
    { metric: 'latency_p95_ms', max_increase_pct: 15 },
    { metric: 'cost_per_interaction', max_increase_pct: 20 },
  ],
  started_at: '2026-11-01T00:00:00Z',
})

interface ArmProfile {
  helpfulness: number
  unsafe: number
  latencyMedian: number
  cost: number
}
const BASE: ArmProfile = { helpfulness: 4.0, unsafe: 0.01, latencyMedian: 900, cost: 0.002 }

function meanSample(values: number[]) {
  const n = values.length
  const mean = values.reduce((a, b) => a + b, 0) / n
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)
  return { kind: 'mean' as const, n, mean, variance }
}

/** One arm's observations, drawn the way the store would hold them. */
function arm(rng: Rng, n: number, p: ArmProfile) {
  // Judge scores 1-5: a rounded, clipped normal (what a judge's integer scale looks like).
  const help = Array.from({ length: n }, () =>
    Math.min(5, Math.max(1, Math.round(rng.normal(p.helpfulness, 0.8)))),
  )
  let unsafe = 0
  for (let i = 0; i < n; i++) unsafe += rng.bernoulli(p.unsafe)
  const latency = Array.from({ length: n }, () => rng.logNormal(Math.log(p.latencyMedian), 0.4)).sort(
    (a, b) => a - b,
  )
  const cost = Array.from({ length: n }, () => p.cost * Math.exp(rng.normal(0, 0.3)))
  return {
    helpfulness_mean: meanSample(help),
    unsafe_rate: { kind: 'rate' as const, n, x: unsafe },
    latency_p95_ms: { kind: 'quantile' as const, n, sorted: latency },
    cost_per_interaction: meanSample(cost),
  }
}

function simulate(
  seed: number,
  n: { control: number; treatment: number },
  treatment: Partial<ArmProfile> = {},
  options: { usersInBoth?: number; users?: { control: number; treatment: number } } = {},
): ExperimentMeasurements {
  const rng = createRng(seed)
  const c = arm(rng, n.control, BASE)
  const t = arm(rng, n.treatment, { ...BASE, ...treatment })
  const metrics = ['helpfulness_mean', 'unsafe_rate', 'latency_p95_ms', 'cost_per_interaction'] as const
  return {
    users: options.users ?? { control: n.control, treatment: n.treatment },
    interactions: { control: n.control, treatment: n.treatment },
    usersInBoth: options.usersInBoth ?? 0,
    scopes: metrics.map((metric) => ({
      metric,
      segment: 'support_chat',
      modality: 'text',
      control: c[metric],
      treatment: t[metric],
    })),
  }
}

describe('experiment analysis', () => {
  it('treatment +10 % helpfulness, guardrails kept: ship, by the goal_met rule', () => {
    const report = analyzeExperiment(
      experiment,
      simulate(1, { control: 3000, treatment: 3000 }, { helpfulness: 4.4 }),
    )
    expect(report.decision).toBe('ship')
    expect(report.rule).toBe('goal_met')
    expect(report.reason).toMatch(/^goal_met: .*helpfulness_mean in support_chat\/text/)
    const goal = report.metrics.find((m) => m.metric === 'helpfulness_mean')!
    expect(goal).toMatchObject({
      role: 'goal',
      segment: 'support_chat',
      modality: 'text',
      verdict: 'better',
      test: 'welch',
    })
    expect(goal.rel_diff!).toBeGreaterThan(0.05)
    expect(goal.ci_low!).toBeGreaterThan(0)
    for (const g of report.metrics.filter((m) => m.role === 'guardrail')) expect(g.verdict).toBe('ok')
    expect(report.metrics.find((m) => m.metric === 'latency_p95_ms')!.test).toBe('quantile_exceedance')
    expect(report.srm.flagged).toBe(false)
    expect(report.correction).toMatchObject({ method: 'holm', comparisons: 4 })
    expect(report.planned_per_variant!).toBeLessThan(3000)
  })

  it('a safety regression rejects and names safety, even with a better goal', () => {
    const report = analyzeExperiment(
      experiment,
      simulate(2, { control: 3000, treatment: 3000 }, { helpfulness: 4.4, unsafe: 0.04 }),
    )
    expect(report.decision).toBe('reject')
    expect(report.rule).toBe('safety_regression')
    expect(report.reason).toMatch(/safety regression: unsafe_rate in support_chat\/text/)
    expect(report.metrics.find((m) => m.metric === 'unsafe_rate')!.verdict).toBe('fail')
  })

  it('A/A: identical arms give no_difference', () => {
    const report = analyzeExperiment(experiment, simulate(3, { control: 3000, treatment: 3000 }))
    expect(report.decision).toBe('no_difference')
    expect(report.rule).toBe('goal_below_mde')
  })

  it('A/A over 200 seeded splits: the share of wrong decisions (ship or reject) is within alpha', () => {
    let wrong = 0
    let decided = 0
    const runs = 200
    for (let seed = 1000; seed < 1000 + runs; seed++) {
      const report = analyzeExperiment(experiment, simulate(seed, { control: 1000, treatment: 1000 }))
      if (report.rule !== 'planned_sample_not_reached') decided++
      if (report.decision === 'ship' || report.decision === 'reject') wrong++
    }
    expect(decided).toBe(runs) // every run reached its planned size: the fixed tests decided
    // Holm controls the family-wise rate at alpha = 0.05 (at most 10 of 200 expected); a
    // binomial(200, 0.05) reaches 19 with probability 0.5 %, so 18 flags a real excess
    // without failing by chance. Measured: 4 of 200 (2 %).
    expect(wrong).toBeLessThanOrEqual(18)
  })

  it('a 55/45 split with a 50/50 design is flagged and blocks the decision', () => {
    const report = analyzeExperiment(
      experiment,
      simulate(
        4,
        { control: 3300, treatment: 2700 },
        { helpfulness: 4.4 },
        { users: { control: 3300, treatment: 2700 } },
      ),
    )
    expect(report.srm.flagged).toBe(true)
    expect(report.srm.p_value).toBeLessThan(0.001)
    expect(report.decision).toBe('keep_running')
    expect(report.rule).toBe('sample_ratio_mismatch')
  })

  it('reports users seen in both arms', () => {
    const report = analyzeExperiment(
      experiment,
      simulate(5, { control: 3000, treatment: 3000 }, {}, { usersInBoth: 1 }),
    )
    expect(report.assignment.users_in_both).toBe(1)
    expect(report.assignment.share_in_both).toBeCloseTo(1 / 5999, 10)
  })

  it("don't stop early: a clear winner below the planned size keeps running", () => {
    const report = analyzeExperiment(
      experiment,
      simulate(6, { control: 60, treatment: 60 }, { helpfulness: 4.4 }),
    )
    expect(report.planned_per_variant!).toBeGreaterThan(60)
    expect(report.decision).toBe('keep_running')
    expect(report.rule).toBe('planned_sample_not_reached')
  })

  it('a guardrail far beyond its limit fails the always-valid test before the planned size', () => {
    const report = analyzeExperiment(
      experiment,
      simulate(7, { control: 200, treatment: 200 }, { cost: 0.004, helpfulness: 4.4 }),
    )
    expect(report.planned_per_variant!).toBeGreaterThan(200)
    expect(report.decision).toBe('reject')
    expect(report.rule).toBe('guardrail_regression')
    expect(report.reason).toMatch(/cost_per_interaction in support_chat\/text .*sequential/)
  })

  it('never pools modalities: each segment x modality is its own row', () => {
    const m = simulate(8, { control: 500, treatment: 500 })
    const image = simulate(9, { control: 500, treatment: 500 }).scopes.map((s) => ({
      ...s,
      modality: 'image',
    }))
    const report = analyzeExperiment(experiment, { ...m, scopes: [...m.scopes, ...image] })
    const rows = report.metrics.filter((r) => r.metric === 'helpfulness_mean')
    expect(rows.map((r) => r.modality).sort()).toEqual(['image', 'text'])
    expect(rows.every((r) => r.control.n === 500)).toBe(true)
    expect(report.correction.comparisons).toBe(8)
  })

  it('the decision matrix is data: every rule names a decision and a description', () => {
    expect(DECISION_MATRIX.map((r) => r.rule)).toEqual([
      'sample_ratio_mismatch',
      'safety_regression',
      'guardrail_regression',
      'planned_sample_not_reached',
      'goal_regression',
      'goal_met',
      'goal_below_mde',
    ])
  })
})

describe('statistics of one comparison', () => {
  it("Welch on the guide's numbers (4.017 vs 4.084, sd 0.8, n 2500 each) matches independent values", () => {
    // Computed independently in Python (math only): t = 0.067 / sqrt(2 · 0.64 / 2500)
    // = 2.9610096462186357, df = 4998 (equal variances and sizes), two-sided p by Simpson
    // integration of the Student t density from t to 40 (400k steps): 0.0030807440868847315.
    // (The guide prints p = 0.0033 from its random samples, whose sds are not exactly 0.8.)
    const c = { kind: 'mean' as const, n: 2500, mean: 4.017, variance: 0.64 }
    const t = { kind: 'mean' as const, n: 2500, mean: 4.084, variance: 0.64 }
    const r = fixedTest(metricDefinition('helpfulness_mean'), c, t, 0.95)
    expect(r.test).toBe('welch')
    expect(r.pTwoSided).toBeCloseTo(0.0030807440868847315, 9)
    expect(r.diff).toBeCloseTo(0.067, 12)
    // CI: diff ± t_{0.975, 4998} se with t_{0.975, 4998} = 1.9604386 (normal 1.959964 + (z³+z)/(4 df)).
    const half = 1.96043857 * 0.02262741699796952
    expect(r.ciLow).toBeCloseTo(0.067 - half, 6)
    expect(r.ciHigh).toBeCloseTo(0.067 + half, 6)
    // Helpfulness: lower is worse, so "better" is the one-sided p for an increase.
    expect(r.pBetter).toBeCloseTo(0.0030807440868847315 / 2, 9)
  })

  it('Student t quantile inverts the CDF (t_{0.975, 10} = 2.2281388519649385, scipy.stats.t.ppf)', () => {
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281388519649385, 9)
  })

  it('rare events use the exact test', () => {
    const r = fixedTest(
      metricDefinition('unsafe_rate'),
      { kind: 'rate', n: 400, x: 0 },
      { kind: 'rate', n: 400, x: 3 },
      0.95,
    )
    expect(r.test).toBe('fisher_exact')
    // All 3 events in the treatment: C(400, 3) / C(800, 3) = 0.12453066332916145 (exact fraction).
    expect(r.pWorse).toBeCloseTo(0.12453066332916145, 9)
  })

  it('Holm adjusts like statsmodels multipletests(method="holm")', () => {
    // statsmodels: multipletests([0.01, 0.04, 0.03, 0.005], method='holm')[1] = [0.03, 0.06, 0.06, 0.02]
    const adj = holmAdjust([0.01, 0.04, 0.03, 0.005])
    expect(adj[0]).toBeCloseTo(0.03, 12)
    expect(adj[1]).toBeCloseTo(0.06, 12)
    expect(adj[2]).toBeCloseTo(0.06, 12)
    expect(adj[3]).toBeCloseTo(0.02, 12)
  })

  it('the planner turns the MDE in the better direction and sizes means by MDE x mean / sd', () => {
    const plan = planGoal(
      { metric: 'refusal_rate', mde: 0.05 },
      { kind: 'rate', n: 10_000, x: 2400 },
      0.05,
      0.8,
    )
    // refusal_rate is worse when higher, so the goal is a 5 % decrease: 0.24 -> 0.228.
    expect(plan.target).toBeCloseTo(0.228, 12)
    expect(plan.sample_size_per_variant).toBeGreaterThan(10_000)
    const success = planGoal(
      { metric: 'helpfulness_mean', mde: 0.05 },
      { kind: 'mean', n: 100, mean: 4, variance: 0.64 },
      0.05,
      0.8,
    )
    // d = 0.2 / 0.8 = 0.25: n = (1.959964 + 0.841621)² · 2 / 0.0625 = 251.16 -> 252.
    expect(success.sample_size_per_variant).toBe(252)
  })
})
