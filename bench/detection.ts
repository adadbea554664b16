// npm run bench:detection — how fast driftwatch's sequential rules notice a real change, how
// often they cry wolf on stable traffic, and what one evaluation cycle costs.
//
// 1. Simulation (bench/detection-sim.ts): seeded streams of ~200 judged samples a minute, one
//    look a minute, the same numbers fed to driftwatch's evaluateLook (product defaults from
//    EvaluationSchema.parse({})), a fixed threshold on the last window and a fixed-sample test
//    re-run at every look. Delay = interactions after the change until the look that fires
//    (median over runs; seconds at 200 a minute, 1 interaction = 0.3 s); false alarm rate =
//    share of stable runs that ever fire.
// 2. Cost (bench/detection-cycle.ts): 10 million interactions in the embedded ClickHouse, one
//    runEvaluationCycle with four rules, median of 3.
// Ends with one JSON line. BENCH_RUNS (default 300), BENCH_ROWS (default 10000000) and
// BENCH_REFUSAL_EVERY_ROW=1 (refusal scores on all interactions, as in production) change it.

import { CYCLE_RULES, type CycleBench, runCycleBench } from './detection-cycle.ts'
import {
  DETECTORS,
  type DetectorName,
  type DetectorResult,
  detectionRate,
  median,
  quantile,
  rules,
  runScenario,
  SAMPLES_PER_MINUTE,
  type Scenario,
  type ScenarioResult,
  SETTINGS,
  type Source,
} from './detection-sim.ts'

const runs = Number(process.env.BENCH_RUNS ?? 300)
const rows = Number(process.env.BENCH_ROWS ?? 10_000_000)
const refusalEveryRow = process.env.BENCH_REFUSAL_EVERY_ROW === '1'

const rate = (p: number): Source => ({ kind: 'rate', p })
const latency = (shiftMs: number): Source => ({ kind: 'latency', shiftMs })
const H = rules.hallucination
const scenarios: Scenario[] = [
  // hallucination_rate above 0.01: the headline.
  {
    id: 'h_deploy',
    label: 'hallucination above 1%: new version v2 at 2% from its first sample',
    rule: H,
    preMinutes: 0,
    postMinutes: 180,
    change: true,
    before: rate(0.02),
    after: rate(0.02),
  },
  {
    id: 'h_drift',
    label: 'hallucination above 1%: same version, 0.4% for 60 min then 2%',
    rule: H,
    preMinutes: 60,
    postMinutes: 180,
    change: true,
    before: rate(0.004),
    after: rate(0.02),
  },
  {
    id: 'h_stable',
    label: 'hallucination above 1%: stable at 0.7%, 120 looks',
    rule: H,
    preMinutes: 0,
    postMinutes: 120,
    change: false,
    before: rate(0.007),
    after: rate(0.007),
  },
  {
    id: 'h_stable_04',
    label: 'hallucination above 1%: stable at 0.4%, 120 looks',
    rule: H,
    preMinutes: 0,
    postMinutes: 120,
    change: false,
    before: rate(0.004),
    after: rate(0.004),
  },
  {
    id: 'h_at_threshold',
    label: 'hallucination above 1%: stable exactly at 1.0%, 120 looks',
    rule: H,
    preMinutes: 0,
    postMinutes: 120,
    change: false,
    before: rate(0.01),
    after: rate(0.01),
  },
  {
    id: 'h_stable_24h',
    label: 'hallucination above 1%: stable at 0.7%, a whole 24h test period (1440 looks)',
    rule: H,
    preMinutes: 0,
    postMinutes: 1440,
    change: false,
    before: rate(0.007),
    after: rate(0.007),
  },
  // refusal_rate increase_by 0.005 vs last_stable (200k-sample baseline at 0.4 %).
  {
    id: 'r_deploy',
    label: 'refusal +0.5pt vs last stable: v2 at 2% vs 0.4%',
    rule: rules.refusal,
    preMinutes: 0,
    postMinutes: 180,
    change: true,
    before: rate(0.02),
    after: rate(0.02),
    baseline: rate(0.004),
  },
  {
    id: 'r_aa',
    label: 'refusal +0.5pt vs last stable: A/A at 0.4%, 120 looks',
    rule: rules.refusal,
    preMinutes: 0,
    postMinutes: 120,
    change: false,
    before: rate(0.004),
    after: rate(0.004),
    baseline: rate(0.004),
  },
  // latency_p99_ms increase_by 200 vs last_stable (200k-request baseline, log-normal, p99 ~2.6 s).
  {
    id: 'l_deploy',
    label: 'p99 +200 ms vs last stable: v2 every request +250 ms',
    rule: rules.p99,
    preMinutes: 0,
    postMinutes: 180,
    change: true,
    before: latency(250),
    after: latency(250),
    baseline: latency(0),
  },
  {
    id: 'l_aa',
    label: 'p99 +200 ms vs last stable: A/A, 120 looks',
    rule: rules.p99,
    preMinutes: 0,
    postMinutes: 120,
    change: false,
    before: latency(0),
    after: latency(0),
    baseline: latency(0),
  },
  {
    id: 'l_plus50',
    label: 'p99 +200 ms vs last stable: +50 ms (under the limit), 120 looks',
    rule: rules.p99,
    preMinutes: 0,
    postMinutes: 120,
    change: false,
    before: latency(50),
    after: latency(50),
    baseline: latency(0),
  },
].map((s, i) => ({ ...s, runs, seed: 1000 + i }))

const log = (line: string) => console.log(line)
const count = new Intl.NumberFormat('en-US')
const pct = (x: number) => `${(100 * x).toFixed(1)}%`
const events = (x: number) => (Number.isFinite(x) ? count.format(Math.round(x)) : 'never')
const minutes = (s: number) => (Number.isFinite(s) ? `${(s / 60).toFixed(1)} min` : '-')

log('bench:detection')
log(
  `settings (EvaluationSchema defaults): confidence ${SETTINGS.confidence}, min_samples ${SETTINGS.min_samples}, pending_evaluations ${SETTINGS.pending_evaluations}; ` +
    `~${SAMPLES_PER_MINUTE} samples/min, one look a minute (1 interaction ~ 0.3 s); ${runs} runs per stream`,
)
log('detectors on the same streams:')
log(
  '  sequential               driftwatch evaluateLook: mSPRT on cumulative data since the period start, pending 2',
)
log(
  '  fixed_threshold          the limit checked on the last 2 minutes (400 samples >= min_samples), fires at the first crossing',
)
log(
  '  per_window_ttest         fixed-sample z test at alpha 0.01 re-run every look on cumulative data, fires at the first p <= alpha',
)
log('  *_pending                the same two, but holding for pending_evaluations (2) looks like the product')
log('')

const results = new Map<string, ScenarioResult>()
for (const [i, s] of scenarios.entries()) {
  const r = runScenario(s)
  results.set(s.id, r)
  log(
    `[${i + 1}/${scenarios.length}] ${s.label} — ${count.format(r.looks)} looks in ${(r.ms / 1000).toFixed(1)} s`,
  )
  for (const name of DETECTORS) log(`  ${name.padEnd(25)}${describe(s, r.detectors[name])}`)
}

function describe(s: Scenario, d: DetectorResult): string {
  if (!s.change) return `false alarms ${d.alarms}/${s.runs} (${pct(d.alarms / s.runs)})`
  const early = s.preMinutes > 0 ? `; fired before the change in ${pct(d.alarms / s.runs)} of runs` : ''
  return (
    `delay median ${events(median(d.delayEvents))} interactions (${minutes(median(d.delaySeconds))}), ` +
    `p10-p90 ${events(quantile(d.delayEvents, 0.1))}-${events(quantile(d.delayEvents, 0.9))}, detected ${pct(detectionRate(d))} within ${s.postMinutes} min${early}`
  )
}

log('')
log(`evaluation cost: ${CYCLE_RULES.length} rules (${CYCLE_RULES.map((r) => r.name).join(', ')})`)
const cost: CycleBench = await runCycleBench({ rows, cycles: 3, refusalEveryRow, progress: log })
const cycleMs = median(cost.cycles.map((c) => c.ms))
const looks = cost.cycles[0]?.looks ?? 0
const mid = [...cost.cycles].sort((a, b) => a.ms - b.ms)[1] ?? cost.cycles[0]!
log(
  `  one cycle over ${count.format(cost.rows)} interactions: median ${cycleMs.toFixed(0)} ms, ${looks} looks (scopes), ${(cycleMs / looks).toFixed(2)} ms per scope`,
)
log('  where the median cycle spent its time (store calls, slowest first):')
const byLabel = new Map<string, { ms: number; calls: number }>()
for (const q of mid.queries) {
  const e = byLabel.get(q.label) ?? { ms: 0, calls: 0 }
  byLabel.set(q.label, { ms: e.ms + q.ms, calls: e.calls + 1 })
}
const storeMs = mid.queries.reduce((s, q) => s + q.ms, 0)
for (const [label, e] of [...byLabel].sort((a, b) => b[1].ms - a[1].ms)) {
  log(
    `    ${e.ms.toFixed(1).padStart(8)} ms  ${pct(e.ms / mid.ms).padStart(6)}  ${label}${e.calls > 1 ? ` (${e.calls} calls)` : ''}`,
  )
}
log(
  `    ${(mid.ms - storeMs).toFixed(1).padStart(8)} ms  ${pct((mid.ms - storeMs) / mid.ms).padStart(6)}  outside the store (evaluateLook, JSON, alert building)`,
)

const headline = (name: DetectorName) => {
  const d = (id: string) => results.get(id)!.detectors[name]
  const far = (id: string) => round(d(id).alarms / runs, 4)
  const delay = (id: string) => finite(median(d(id).delayEvents))
  return {
    delay_events: delay('h_deploy'),
    delay_seconds: finite(median(d('h_deploy').delaySeconds)),
    detection_rate: round(detectionRate(d('h_deploy')), 4),
    false_alarm_rate: far('h_stable'),
    false_alarm_rate_24h: far('h_stable_24h'),
    false_alarm_rate_at_threshold: far('h_at_threshold'),
    drift_delay_events: delay('h_drift'),
    refusal_increase: { delay_events: delay('r_deploy'), false_alarm_rate: far('r_aa') },
    p99_increase: {
      delay_events: delay('l_deploy'),
      false_alarm_rate: far('l_aa'),
      false_alarm_rate_plus50: far('l_plus50'),
    },
  }
}
const pending = (name: DetectorName) => ({
  pending2: {
    delay_events: finite(median(results.get('h_deploy')!.detectors[name].delayEvents)),
    false_alarm_rate: round(results.get('h_stable')!.detectors[name].alarms / runs, 4),
  },
})

console.log(
  JSON.stringify({
    sequential: headline('sequential'),
    fixed_threshold: { ...headline('fixed_threshold'), ...pending('fixed_threshold_pending') },
    per_window_ttest: { ...headline('per_window_ttest'), ...pending('per_window_ttest_pending') },
    eval_cycle_ms_10m: round(cycleMs, 1),
    eval_ms_per_scope_10m: round(cycleMs / looks, 2),
  }),
)

function finite(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x) : null
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
