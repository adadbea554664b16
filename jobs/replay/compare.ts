// Candidate vs recorded per segment x modality, scored by the same scorers, with the rules'
// statistics (experiments/compare.ts fixedTest): a one-sided test that the candidate is worse —
// two-proportion z or Fisher's exact for rates, Welch for judge means, the exceedance test for
// p95 latency — Holm-corrected over every tested (scope, metric); a scope is regressed when the
// corrected p-value is below alpha and the worsening exceeds replay.max_increase[metric].
// Pure: answers in, report out.

import { holmAdjust } from '../../experiments/analysis.ts'
import { type ArmSample, armValue, fixedTest, testable } from '../../experiments/compare.ts'
import { metricDefinition } from '../../metrics/registry.ts'

/**
 * One side of one case after scoring: metric name (metrics/registry.ts) -> the value one
 * interaction contributes (0/1 for rates, the score for means, ms for latency), null when that
 * side has no value (not answered, not scored, budget cut).
 */
export type ScoredSide = Record<string, number | null>

export interface ScoredCase {
  segment: string
  modality: string
  /** Suite weight or revenue impact (usd per failure); 1 for recorded traffic without exposure. */
  weight: number
  recorded: ScoredSide | null
  candidate: ScoredSide
}

export interface ScopeComparison {
  segment: string
  modality: string
  metric: string
  recorded: { n: number; value: number | null }
  candidate: { n: number; value: number | null }
  /** Candidate minus recorded. */
  diff: number | null
  /** One-sided p-value of "the candidate is worse", before the correction. */
  p_value: number | null
  regressed: boolean
  /** Which test produced p_value: welch | two_proportion_z | fisher_exact | quantile_exceedance. */
  test: string | null
  /** Holm-adjusted p-value. */
  p_adjusted: number | null
  /** Candidate-side weighted rate or mean (suite weights or revenue impact), for reports. */
  candidate_weighted: number | null
  /** Rates only: sum of the weights of failing cases per side (weighted failures; in USD when weights are USD). */
  weighted_failures: { recorded: number; candidate: number } | null
}

export interface ReplayReport {
  cases: number
  regressed: boolean
  by_scope: ScopeComparison[]
  alpha: number
  correction: 'holm'
  budget_exhausted: boolean
  message: string
}

/** Metrics compared, in report order; a metric appears only where some side has a value. */
export const REPLAY_METRICS = [
  'hallucination_rate',
  'unsafe_rate',
  'helpfulness_mean',
  'refusal_rate',
  'error_rate',
  'latency_p95_ms',
] as const

function sample(values: readonly number[], kind: 'rate' | 'mean' | 'quantile'): ArmSample {
  const n = values.length
  if (kind === 'rate') return { kind, n, x: values.reduce((a, b) => a + b, 0) }
  if (kind === 'quantile') return { kind, n, sorted: [...values].sort((a, b) => a - b) }
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : 0
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0
  return { kind, n, mean, variance }
}

export function compareReplay(
  cases: readonly ScoredCase[],
  options: {
    alpha: number
    limits?: Record<string, number | undefined>
    budgetExhausted?: boolean
    planned?: number
    notes?: readonly string[]
  },
): ReplayReport {
  const scopes = new Map<string, ScoredCase[]>()
  for (const c of cases) {
    const key = `${c.segment}\u0000${c.modality}`
    scopes.set(key, [...(scopes.get(key) ?? []), c])
  }
  const rows: (ScopeComparison & { _p: number | null })[] = []
  for (const group of [...scopes.values()].sort(
    (a, b) => a[0]!.segment.localeCompare(b[0]!.segment) || a[0]!.modality.localeCompare(b[0]!.modality),
  )) {
    for (const metric of REPLAY_METRICS) {
      const def = metricDefinition(metric)
      const rec = group.flatMap((c) => {
        const v = c.recorded?.[metric]
        return v === null || v === undefined ? [] : [{ v, w: c.weight }]
      })
      const cand = group.flatMap((c) => {
        const v = c.candidate[metric]
        return v === null || v === undefined ? [] : [{ v, w: c.weight }]
      })
      if (rec.length === 0 && cand.length === 0) continue
      const r = sample(
        rec.map((x) => x.v),
        def.kind,
      )
      const t = sample(
        cand.map((x) => x.v),
        def.kind,
      )
      const weights = cand.reduce((s, x) => s + x.w, 0)
      const base = {
        segment: group[0]!.segment,
        modality: group[0]!.modality,
        metric,
        recorded: { n: rec.length, value: rec.length ? armValue(r, def) : null },
        candidate: { n: cand.length, value: cand.length ? armValue(t, def) : null },
        candidate_weighted:
          def.kind !== 'quantile' && weights > 0 ? cand.reduce((s, x) => s + x.w * x.v, 0) / weights : null,
        weighted_failures:
          def.kind === 'rate'
            ? {
                recorded: rec.reduce((s, x) => s + x.w * x.v, 0),
                candidate: cand.reduce((s, x) => s + x.w * x.v, 0),
              }
            : null,
      }
      if (!testable(r, t, def)) {
        const diff =
          base.recorded.value !== null && base.candidate.value !== null
            ? base.candidate.value - base.recorded.value
            : null
        rows.push({ ...base, diff, test: null, p_value: null, p_adjusted: null, regressed: false, _p: null })
        continue
      }
      const test = fixedTest(def, r, t, 0.95)
      rows.push({
        ...base,
        diff: test.diff,
        test: test.test,
        p_value: test.pWorse,
        p_adjusted: null,
        regressed: false,
        _p: test.pWorse,
      })
    }
  }
  const tested = rows.filter((r) => r._p !== null)
  const adjusted = holmAdjust(tested.map((r) => r._p!))
  tested.forEach((r, i) => {
    r.p_adjusted = adjusted[i]!
    const worsening = metricDefinition(r.metric).worse === 'higher' ? (r.diff ?? 0) : -(r.diff ?? 0)
    r.regressed = r.p_adjusted < options.alpha && worsening > (options.limits?.[r.metric] ?? 0)
  })
  const by_scope = rows.map(({ _p, ...r }) => r)
  const regressed = by_scope.some((r) => r.regressed)
  const names = [
    ...new Set(by_scope.filter((r) => r.regressed).map((r) => `${r.metric} in ${r.segment}/${r.modality}`)),
  ]
  const cut = options.budgetExhausted
    ? ` Budget cut: ${cases.length}${options.planned ? ` of ${options.planned}` : ''} cases were answered before the budget ran out; only those are compared.`
    : ''
  const notes = options.notes?.length ? ` ${options.notes.join(' ')}` : ''
  return {
    cases: cases.length,
    regressed,
    by_scope,
    alpha: options.alpha,
    correction: 'holm',
    budget_exhausted: options.budgetExhausted ?? false,
    message: `${regressed ? `regression: ${names.join(', ')}` : 'no regression beyond the limits'}.${cut}${notes}`,
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** JUnit XML: one testcase per (segment x modality, metric); a regression is a failure. */
export function junitXml(report: ReplayReport, name = 'driftwatch-replay'): string {
  const failures = report.by_scope.filter((r) => r.regressed).length
  const cases = report.by_scope.map((r) => {
    const title = `${r.metric} ${r.segment}/${r.modality}`
    const detail = `recorded ${r.recorded.value ?? '-'} (n=${r.recorded.n}), candidate ${r.candidate.value ?? '-'} (n=${r.candidate.n}), diff ${r.diff ?? '-'}, p ${r.p_value ?? '-'} (Holm ${r.p_adjusted ?? '-'})`
    const body = r.regressed
      ? `<failure message="${escapeXml(`regressed: ${detail}`)}" type="regression">${escapeXml(detail)}</failure>`
      : r.p_value === null
        ? '<skipped message="no recorded answers to compare with"/>'
        : ''
    return `    <testcase classname="${escapeXml(`${name}.${r.segment}.${r.modality}`)}" name="${escapeXml(title)}">${body}</testcase>`
  })
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${escapeXml(name)}" tests="${report.by_scope.length}" failures="${failures}">
  <testsuite name="${escapeXml(name)}" tests="${report.by_scope.length}" failures="${failures}" errors="0">
${cases.join('\n')}
  </testsuite>
</testsuites>
`
}
