// Replay comparison (pure): judge means by Welch, rates by z/Fisher, Holm over all tests,
// weighted failures; golden pass verdicts; revenue weights from exposure.
import { describe, expect, it } from 'vitest'
import { weightByRevenue } from '../../cli/commands/replay.ts'
import { compareReplay, type ScoredCase } from '../../jobs/replay/compare.ts'
import { goldenVerdict, trigramSimilarity } from '../../jobs/replay/golden.ts'
import type { ReplayCase } from '../../jobs/replay/suite.ts'

const side = (help: number, hall: 0 | 1) => ({
  helpfulness_mean: help,
  hallucination_rate: hall,
  refusal_rate: 0,
  error_rate: 0,
})

function cases(segment: string, n: number, cand: (i: number) => ReturnType<typeof side>, weight = 1) {
  return Array.from(
    { length: n },
    (_, i): ScoredCase => ({
      segment,
      modality: 'text',
      weight,
      recorded: side(4 + (i % 2), 0),
      candidate: cand(i),
    }),
  )
}

describe('compareReplay', () => {
  it('a judge-graded drop on one segment regresses that segment only (Welch, Holm)', () => {
    const r = compareReplay(
      [
        ...cases('a', 60, (i) => side(4 + (i % 2), 0)),
        ...cases('b', 60, (i) => side(2 + (i % 2), i % 2 ? 1 : 0), 50),
      ],
      { alpha: 0.05 },
    )
    expect(r.regressed).toBe(true)
    const bad = r.by_scope.filter((s) => s.regressed)
    expect(new Set(bad.map((s) => s.segment))).toEqual(new Set(['b']))
    expect(bad.map((s) => s.metric).sort()).toEqual(['hallucination_rate', 'helpfulness_mean'])
    const help = bad.find((s) => s.metric === 'helpfulness_mean')!
    expect(help.test).toBe('welch')
    expect(help.diff).toBeCloseTo(-2, 10)
    const hall = bad.find((s) => s.metric === 'hallucination_rate')!
    // 30 hallucinated cases at weight 50: 1500 weighted failures (USD with revenue weights).
    expect(hall.weighted_failures).toEqual({ recorded: 0, candidate: 1500 })
    expect(r.correction).toBe('holm')
    expect(r.message).toMatch(/helpfulness_mean in b\/text/)
  })

  it('an identical candidate does not regress; limits above the worsening hold it back', () => {
    const same = compareReplay(
      cases('a', 40, (i) => side(4 + (i % 2), 0)),
      { alpha: 0.05 },
    )
    expect(same.regressed).toBe(false)
    const worse = cases('a', 60, (i) => side(3 + (i % 2), 0))
    expect(compareReplay(worse, { alpha: 0.05 }).regressed).toBe(true)
    expect(compareReplay(worse, { alpha: 0.05, limits: { helpfulness_mean: 1.5 } }).regressed).toBe(false)
  })
})

describe('golden pass', () => {
  const scored = (c: Record<string, number | null>, rec: Record<string, number | null> | null = null) => ({
    segment: 'g',
    modality: 'text',
    weight: 1,
    recorded: rec,
    candidate: c,
  })
  it('fails on error, refusal, unsafe, hallucination, lower helpfulness than the reference; else passes', () => {
    expect(goldenVerdict(scored({ error_rate: 1 }), '', null, 0.5).reason).toBe('error')
    expect(goldenVerdict(scored({ error_rate: 0, refusal_rate: 1 }), 'x', null, 0.5).reason).toBe('refusal')
    expect(goldenVerdict(scored({ error_rate: 0, unsafe_rate: 1 }), 'x', null, 0.5).reason).toBe('unsafe')
    expect(goldenVerdict(scored({ error_rate: 0 }), 'anything', null, 0.5).pass).toBe(true)
    expect(goldenVerdict(scored({ hallucination_rate: 1 }), 'x', 'ref', 0.5).reason).toBe('hallucination')
    expect(
      goldenVerdict(
        scored({ hallucination_rate: 0, helpfulness_mean: 3 }, { helpfulness_mean: 4 }),
        'x',
        'r',
        0.5,
      ).pass,
    ).toBe(false)
    expect(
      goldenVerdict(
        scored({ hallucination_rate: 0, helpfulness_mean: 4 }, { helpfulness_mean: 4 }),
        'x',
        'r',
        0.5,
      ).pass,
    ).toBe(true)
  })
  it('without a judge, the trigram similarity to the reference decides', () => {
    expect(trigramSimilarity('Reset it in Settings', 'reset  it in settings')).toBe(1)
    expect(trigramSimilarity('abc', 'xyz')).toBe(0)
    expect(
      goldenVerdict(scored({ error_rate: 0 }), 'Reset it in Settings.', 'Reset it in Settings', 0.5).pass,
    ).toBe(true)
    expect(goldenVerdict(scored({ error_rate: 0 }), 'Call support.', 'Reset it in Settings', 0.5).pass).toBe(
      false,
    )
  })
})

describe('weightByRevenue', () => {
  const c = (segment: string, weight = 1): ReplayCase => ({
    id: segment,
    segment,
    modality: 'text',
    input: 'q',
    context: [],
    recorded: null,
    recordedStatus: 'ok',
    weight,
  })
  it('weighs a case by its segment usd_per_failure (largest entry) times its own weight; refuses a segment without one', () => {
    const exposure = [
      { segment: 'inv', usd_per_failure: 50 },
      { segment: 'inv', metric: 'hallucination_rate', usd_per_failure: 80 },
    ]
    expect(weightByRevenue([c('inv', 2)], exposure)[0]!.weight).toBe(160)
    expect(() => weightByRevenue([c('other')], exposure)).toThrow(/segment other has no exposure entry/)
  })
})
