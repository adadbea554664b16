// Candidate vs recorded per segment x modality, scored by the same scorers, with the rules'
// statistics: a one-sided test that the candidate is worse (two-proportion z, or Fisher's
// exact test for small counts), Holm-corrected over every (scope, metric), and a scope is
// regressed when the corrected p-value is below alpha and the worsening exceeds the limit.
// Pure: answers in, report out.

import { holmAdjust } from '../../experiments/analysis.ts'
import { fixedTest } from '../../experiments/compare.ts'
import { metricDefinition } from '../../metrics/registry.ts'

/** One side of one case after scoring: 0/1 per metric. */
export interface ScoredSide {
  refusal: 0 | 1
  error: 0 | 1
}

export interface ScoredCase {
  segment: string
  modality: string
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
  diff: number | null
  p_value: number | null
  regressed: boolean
  /** Holm-adjusted p-value. */
  p_adjusted: number | null
  /** Candidate-side weighted rate (suite weights or revenue impact), for reports. */
  candidate_weighted: number | null
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

export const REPLAY_METRICS = [
  { metric: 'refusal_rate', key: 'refusal' },
  { metric: 'error_rate', key: 'error' },
] as const

export function compareReplay(
  cases: readonly ScoredCase[],
  options: { alpha: number; limits?: Record<string, number>; budgetExhausted?: boolean; planned?: number },
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
    for (const { metric, key } of REPLAY_METRICS) {
      const def = metricDefinition(metric)
      const rec = group.filter((c) => c.recorded !== null)
      const rx = rec.reduce((s, c) => s + c.recorded![key], 0)
      const cx = group.reduce((s, c) => s + c.candidate[key], 0)
      const weights = group.reduce((s, c) => s + c.weight, 0)
      const weighted =
        weights > 0 ? group.reduce((s, c) => s + c.weight * c.candidate[key], 0) / weights : null
      const base = {
        segment: group[0]!.segment,
        modality: group[0]!.modality,
        metric,
        recorded: { n: rec.length, value: rec.length ? rx / rec.length : null },
        candidate: { n: group.length, value: group.length ? cx / group.length : null },
        candidate_weighted: weighted,
      }
      if (rec.length === 0) {
        rows.push({ ...base, diff: null, p_value: null, p_adjusted: null, regressed: false, _p: null })
        continue
      }
      const t = fixedTest(
        def,
        { kind: 'rate', n: rec.length, x: rx },
        { kind: 'rate', n: group.length, x: cx },
        0.95,
      )
      rows.push({
        ...base,
        diff: t.diff,
        p_value: t.pWorse,
        p_adjusted: null,
        regressed: false,
        _p: t.pWorse,
      })
    }
  }
  const tested = rows.filter((r) => r._p !== null)
  const adjusted = holmAdjust(tested.map((r) => r._p!))
  tested.forEach((r, i) => {
    r.p_adjusted = adjusted[i]!
    r.regressed = r.p_adjusted < options.alpha && (r.diff ?? 0) > (options.limits?.[r.metric] ?? 0)
  })
  const by_scope = rows.map(({ _p, ...r }) => r)
  const regressed = by_scope.some((r) => r.regressed)
  const names = [
    ...new Set(by_scope.filter((r) => r.regressed).map((r) => `${r.metric} in ${r.segment}/${r.modality}`)),
  ]
  const cut = options.budgetExhausted
    ? ` Budget cut: ${cases.length}${options.planned ? ` of ${options.planned}` : ''} cases were answered before the budget ran out; only those are compared.`
    : ''
  return {
    cases: cases.length,
    regressed,
    by_scope,
    alpha: options.alpha,
    correction: 'holm',
    budget_exhausted: options.budgetExhausted ?? false,
    message: `${regressed ? `regression: ${names.join(', ')}` : 'no regression beyond the limits'}.${cut}`,
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
