// Deterministic, realistic synthetic interactions for demos, benchmarks and drift tests.
// `syntheticInteraction(i, options)` is random-access: interaction i depends only on
// (options.seed, i), so a test can regenerate any event without replaying the stream, and
// two runs with the same seed produce byte-identical messages.
//
// Shape of the traffic (defaults): llama-3.1-8b v1 is stable (variant control), v2 the
// canary (variants canary and shadow); five segments, text-dominant modalities, log-normal
// time-to-first-token and per-token decode time, small error / timeout / refusal rates,
// retrieved context for RAG segments, ~1 KB of JSON per event. Drift tests shift one
// version's latency, error rate or refusal rate through `versions`.

import type { Interaction, Modality } from '../contract/interaction.ts'

/** Per-version knobs; anything unset falls back to the global option. */
export interface VersionProfile {
  /** Median time to first token, ms. */
  ttftMedianMs?: number
  /** Median decode time per completion token, ms. */
  perTokenMedianMs?: number
  /** Multiplies latency and ttft (drift injection). */
  latencyMultiplier?: number
  /** Added to latency and ttft, ms (drift injection). */
  latencyOffsetMs?: number
  errorRate?: number
  timeoutRate?: number
  refusalRate?: number
}

export interface SyntheticOptions {
  seed?: number
  /** Timestamp of interaction 0, epoch ms. Fixed by default so output is reproducible. */
  startMs?: number
  /** Mean spacing between consecutive interactions, ms (each gets ± jitter, never reordered past a neighbour). */
  intervalMs?: number
  modelName?: string
  stableVersion?: string
  canaryVersion?: string
  /** Traffic split; control is served by stableVersion, canary and shadow by canaryVersion. */
  variantWeights?: { control: number; canary: number; shadow: number }
  errorRate?: number
  timeoutRate?: number
  refusalRate?: number
  /** Per model_version overrides, e.g. `{ v2: { latencyOffsetMs: 300 } }`. */
  versions?: Record<string, VersionProfile>
  /** Share of interactions that carry a user feedback score (1–5). */
  feedbackRate?: number
  /** A/B experiment traffic instead of control/canary/shadow (see ExperimentTraffic). */
  experiment?: ExperimentTraffic
  /** Shadow twins (syntheticShadowTwin): a shadow version answering the same requests. */
  shadow?: ShadowTraffic
}

/**
 * A shadow deployment: every production interaction (variants control and canary) gets a twin
 * answered by `version` (variant shadow, shadow_of = the production request_id, the same input
 * and context). The twin repeats production's answer, except for a share `rewriteRate` that
 * it answers in other words; its latency, errors and refusals follow `versions[version]`.
 */
export interface ShadowTraffic {
  version: string
  /** Share of twins whose answer is rewritten (default 0.1). */
  rewriteRate?: number
}

/**
 * A/B traffic: every user is assigned to one arm by a hash of (seed, user) — so a user sees
 * one variant, as a real experiment assigns — and variant_id is the arm's name. All arms are
 * served by stableVersion; per-arm effects change latency, error / refusal rates, cost and
 * the user feedback score.
 */
export interface ExperimentTraffic {
  /** Arm name -> share of users, e.g. { A: 0.5, B: 0.5 }. */
  arms: Record<string, number>
  /** Distinct users (default 20,000). */
  users?: number
  effects?: Record<string, ArmEffect>
}

export interface ArmEffect extends VersionProfile {
  /** Added to the mean user feedback score (1–5 scale, clipped). */
  feedbackShift?: number
  /** Multiplies cost_usd. */
  costMultiplier?: number
}

export const REFUSAL_TEXT = "I'm sorry, but I can't help with that."
export const SYNTHETIC_START_MS = Date.UTC(2025, 0, 6, 9, 0, 0)
const TIMEOUT_MS = 30_000
// Price per token in USD for an 8B model (order of magnitude of hosted offerings).
const USD_PER_PROMPT_TOKEN = 0.05 / 1e6
const USD_PER_COMPLETION_TOKEN = 0.08 / 1e6

const DEFAULT_PROFILES: Record<
  string,
  Required<Pick<VersionProfile, 'ttftMedianMs' | 'perTokenMedianMs'>>
> = {
  v1: { ttftMedianMs: 240, perTokenMedianMs: 16 },
  v2: { ttftMedianMs: 255, perTokenMedianMs: 16.5 },
}

interface Resolved {
  seed: number
  startMs: number
  intervalMs: number
  modelName: string
  stableVersion: string
  canaryVersion: string
  variantCut: [number, number]
  feedbackRate: number
  profiles: Map<string, Required<VersionProfile>>
  experiment?: {
    names: string[]
    cuts: number[]
    users: number
    profiles: Map<string, Required<VersionProfile>>
    effects: Record<string, ArmEffect>
  }
}

/** mulberry32: tiny, fast, good-enough 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** 32-bit avalanche hash of (a, b, c) (murmur3 finaliser over a simple combination). */
function hash32(a: number, b: number, c: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c + 0x7f4a7c15, 0x85ebca77)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0')
const hex6 = (n: number) => n.toString(16).padStart(6, '0')

/**
 * UUID-shaped (version 8, "custom") id, deterministic from (seed, i). The last 48 bits are
 * i XOR a seed mask, a bijection, so ids are unique for every i < 2^48 under one seed; the
 * rest is hashed so ids look random and spread over Kafka partitions.
 */
export function syntheticRequestId(seed: number, i: number): string {
  const a = hex8(hash32(seed, i, 1))
  const b = hex8(hash32(seed, i, 2))
  const lo = ((i % 0x1000000) ^ (hash32(seed, 0, 3) & 0xffffff)) >>> 0
  const hi = ((Math.floor(i / 0x1000000) ^ hash32(seed, 0, 4)) & 0xffffff) >>> 0
  return `${a}-${b.slice(0, 4)}-8${b.slice(5, 8)}-${((hash32(seed, i, 5) & 0x3fff) | 0x8000).toString(16)}-${hex6(hi)}${hex6(lo)}`
}

function resolve(options: SyntheticOptions): Resolved {
  const w = options.variantWeights ?? { control: 0.8, canary: 0.15, shadow: 0.05 }
  const total = w.control + w.canary + w.shadow
  const stableVersion = options.stableVersion ?? 'v1'
  const canaryVersion = options.canaryVersion ?? 'v2'
  const profiles = new Map<string, Required<VersionProfile>>()
  const versions = [stableVersion, canaryVersion, ...Object.keys(options.versions ?? {})]
  if (options.shadow) versions.push(options.shadow.version)
  for (const version of new Set(versions)) {
    const base = DEFAULT_PROFILES[version] ?? DEFAULT_PROFILES.v1!
    const o = options.versions?.[version] ?? {}
    profiles.set(version, {
      ttftMedianMs: o.ttftMedianMs ?? base.ttftMedianMs,
      perTokenMedianMs: o.perTokenMedianMs ?? base.perTokenMedianMs,
      latencyMultiplier: o.latencyMultiplier ?? 1,
      latencyOffsetMs: o.latencyOffsetMs ?? 0,
      errorRate: o.errorRate ?? options.errorRate ?? 0.01,
      timeoutRate: o.timeoutRate ?? options.timeoutRate ?? 0.004,
      refusalRate: o.refusalRate ?? options.refusalRate ?? 0.02,
    })
  }
  let experiment: Resolved['experiment']
  if (options.experiment) {
    const names = Object.keys(options.experiment.arms)
    const sum = names.reduce((a, n) => a + (options.experiment!.arms[n] as number), 0)
    let acc = 0
    const cuts = names.map((n) => {
      acc += (options.experiment!.arms[n] as number) / sum
      return acc
    })
    const stable = profiles.get(stableVersion)!
    const effects = options.experiment.effects ?? {}
    const armProfiles = new Map<string, Required<VersionProfile>>()
    for (const n of names) {
      const e = effects[n] ?? {}
      armProfiles.set(n, {
        ttftMedianMs: e.ttftMedianMs ?? stable.ttftMedianMs,
        perTokenMedianMs: e.perTokenMedianMs ?? stable.perTokenMedianMs,
        latencyMultiplier: e.latencyMultiplier ?? stable.latencyMultiplier,
        latencyOffsetMs: e.latencyOffsetMs ?? stable.latencyOffsetMs,
        errorRate: e.errorRate ?? stable.errorRate,
        timeoutRate: e.timeoutRate ?? stable.timeoutRate,
        refusalRate: e.refusalRate ?? stable.refusalRate,
      })
    }
    experiment = { names, cuts, users: options.experiment.users ?? 20_000, profiles: armProfiles, effects }
  }
  return {
    experiment,
    seed: options.seed ?? 42,
    startMs: options.startMs ?? SYNTHETIC_START_MS,
    intervalMs: options.intervalMs ?? 50,
    modelName: options.modelName ?? 'llama-3.1-8b',
    stableVersion,
    canaryVersion,
    variantCut: [w.control / total, (w.control + w.canary) / total],
    feedbackRate: options.feedbackRate ?? 0.08,
    profiles,
  }
}

// Resolving options costs more than generating one event; generators reuse one resolution.
const resolvedCache = new WeakMap<SyntheticOptions, Resolved>()
const NO_OPTIONS: SyntheticOptions = {}
function resolved(options: SyntheticOptions): Resolved {
  let r = resolvedCache.get(options)
  if (!r) {
    r = resolve(options)
    resolvedCache.set(options, r)
  }
  return r
}

// ---- content banks: enough variety that outputs are not all identical ----

interface Segment {
  name: string
  weight: number
  rag: boolean
  systemPromptVersion: string
  systemPromptTokens: number
  inputs: string[]
  outputs: string[]
  contexts: string[]
}

const COMPANIES = [
  'Acme GmbH',
  'Northwind Traders',
  'Globex Ltd',
  'Initech SARL',
  'Umbrella BV',
  'Stark Supplies',
]
const PRODUCTS = ['router', 'invoice portal', 'mobile app', 'API key', 'subscription', 'dashboard export']

const SEGMENTS: Segment[] = [
  {
    name: 'customer_support',
    weight: 0.35,
    rag: true,
    systemPromptVersion: 'support-2024-11-v7',
    systemPromptTokens: 420,
    inputs: [
      'Hi, my {p} stopped working after the last update and I have a demo with {c} tomorrow morning. I already restarted it twice and cleared the cache. What else can I try before I open a ticket?',
      'I was charged twice for my {p} this month (order for {c}). Can you tell me how to get the duplicate payment refunded and how long it usually takes?',
      'How do I add a second administrator to our {p}? The person who set it up left the company and we cannot change the billing details anymore.',
      'The {p} keeps logging me out every few minutes when I use it from the office network. It works fine from home. Is this a known issue?',
    ],
    outputs: [
      'Sorry about the trouble. First, check that the {p} is on the latest version under Settings > About. If it is, sign out, remove the saved session and sign in again; this clears a token that the update invalidated. If the problem persists, open a ticket with the time it happened and we will look at the server logs for your account.',
      'I can see why that is frustrating. Duplicate charges are usually a pending authorisation that drops off within 3–5 business days. If both charges are still there after that, reply here with the last four digits of the card and we will refund the duplicate, which then takes 5–10 business days to appear.',
      'An owner can add administrators under Organisation > Members > Invite, choosing the Admin role. If no owner is left, support can transfer ownership after verifying the domain: send us a request from an address at your company domain and we will start the verification.',
    ],
    contexts: [
      'KB-1042: After version 4.2 the session token format changed. Clients with a cached token must sign out and back in. Symptoms: repeated logouts, 401 errors on refresh.',
      'KB-0877: Duplicate charges. Pending authorisations are released by the card issuer within 3–5 business days. Refunds for settled duplicates are issued to the original payment method within 5–10 business days.',
      'KB-0311: Organisation roles. Owners can invite administrators. Ownership transfer without an owner requires domain verification through support.',
    ],
  },
  {
    name: 'invoice_extraction',
    weight: 0.2,
    rag: true,
    systemPromptVersion: 'invoice-2024-10-v3',
    systemPromptTokens: 610,
    inputs: [
      'Extract supplier, invoice number, invoice date, due date, currency, net amount, VAT and total from the attached invoice from {c}. Return JSON only.',
      'Please read this invoice from {c} and give me the line items with quantity, unit price and amount, plus the totals, as JSON.',
    ],
    outputs: [
      '{"supplier":"{c}","invoice_number":"INV-2024-{n}","invoice_date":"2024-11-04","due_date":"2024-12-04","currency":"EUR","net_amount":1240.00,"vat":235.60,"total":1475.60}',
      '{"supplier":"{c}","line_items":[{"description":"Consulting hours","quantity":8,"unit_price":120.0,"amount":960.0},{"description":"Travel","quantity":1,"unit_price":280.0,"amount":280.0}],"net_amount":1240.0,"vat":235.6,"total":1475.6}',
    ],
    contexts: [
      'INVOICE {c} — Invoice no. INV-2024-{n} — Date: 04.11.2024 — Due: 04.12.2024 — Consulting hours 8 x 120,00 EUR = 960,00 EUR — Travel 1 x 280,00 EUR = 280,00 EUR — Net 1.240,00 EUR — VAT 19% 235,60 EUR — Total 1.475,60 EUR — IBAN DE89 3704 0044 0532 0130 00',
    ],
  },
  {
    name: 'code_assist',
    weight: 0.2,
    rag: false,
    systemPromptVersion: 'code-2024-12-v2',
    systemPromptTokens: 350,
    inputs: [
      'Write a TypeScript function that retries an async call with exponential backoff and jitter, at most 5 attempts, and rethrows the last error.',
      'Why does this Python code raise "RuntimeError: dictionary changed size during iteration"? for k in d: if d[k] is None: del d[k]',
      'Convert this SQL to use a window function instead of a correlated subquery: SELECT id, (SELECT max(ts) FROM events e2 WHERE e2.user_id = e1.user_id) FROM events e1',
    ],
    outputs: [
      'async function retry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {\n  let last: unknown\n  for (let i = 0; i < attempts; i++) {\n    try { return await fn() } catch (e) { last = e }\n    await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** i))\n  }\n  throw last\n}',
      'You are deleting keys from the dict while iterating over it. Iterate over a copy of the keys instead: `for k in list(d): if d[k] is None: del d[k]`, or build a new dict: `d = {k: v for k, v in d.items() if v is not None}`.',
      'SELECT id, max(ts) OVER (PARTITION BY user_id) AS last_ts FROM events; the window function computes the maximum once per partition instead of running a subquery per row.',
    ],
    contexts: [],
  },
  {
    name: 'summarization',
    weight: 0.15,
    rag: true,
    systemPromptVersion: 'summary-2024-09-v5',
    systemPromptTokens: 280,
    inputs: [
      'Summarise the attached meeting notes in three bullet points for the {c} account team.',
      'Give me a two-sentence summary of this incident report for the status page.',
    ],
    outputs: [
      '- {c} renews for 24 months if the SSO integration ships by March.\n- Pricing stays flat; support moves to the premium tier.\n- Next step: security review with their IT team on the 14th.',
      'Between 09:12 and 09:47 UTC some customers could not sign in because a certificate expired on one load balancer. The certificate was renewed and automated renewal checks were added.',
    ],
    contexts: [
      'Meeting notes, account review {c}: renewal discussed, 24 months proposed, condition: SSO (SAML) integration live by end of March. Pricing unchanged. Support upgrade to premium agreed. Security review scheduled on the 14th with their IT department.',
      'Incident 2291: 09:12 UTC alerts on elevated 5xx at login. Root cause: expired TLS certificate on lb-eu-2. 09:40 certificate renewed, 09:47 error rate normal. Action items: automated expiry checks, runbook update.',
    ],
  },
  {
    name: 'knowledge_qa',
    weight: 0.1,
    rag: true,
    systemPromptVersion: 'kbqa-2024-11-v4',
    systemPromptTokens: 390,
    inputs: [
      'What is our data retention period for audit logs, and can customers on the {p} plan extend it?',
      'Which regions do we host customer data in, and can {c} choose EU-only storage?',
    ],
    outputs: [
      'Audit logs are kept for 400 days by default. Enterprise customers can extend retention to 7 years through a support request; other plans cannot extend it.',
      'Customer data is hosted in eu-west-1 and us-east-1. Customers can pin their organisation to the EU region at creation time; moving an existing organisation requires a migration request.',
    ],
    contexts: [
      'Policy DR-12: Audit log retention 400 days. Enterprise plan: extension up to 7 years on request.',
      'Hosting overview: production regions eu-west-1 (Ireland) and us-east-1 (Virginia). Region pinning is chosen at organisation creation; migrations handled by support.',
    ],
  },
]

const SEGMENT_CUTS: number[] = (() => {
  const total = SEGMENTS.reduce((s, x) => s + x.weight, 0)
  let acc = 0
  return SEGMENTS.map((s) => {
    acc += s.weight / total
    return acc
  })
})()

const MODALITY_CUTS: [Modality, number][] = [
  ['text', 0.88],
  ['image', 0.94],
  ['multimodal', 0.97],
  ['audio', 0.99],
  ['video', 1],
]
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2']
const TIERS = ['free', 'pro', 'enterprise']
const CHANNELS = ['web', 'api', 'mobile']

function pick<T>(items: readonly T[], r: number): T {
  return items[Math.min(items.length - 1, Math.floor(r * items.length))]!
}

/** Standard normal from two uniforms (Box–Muller); log-normal = median · e^(σ·z). */
function normal(rand: () => number): number {
  const u = 1 - rand()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
}

function fill(template: string, c: string, p: string, n: string): string {
  return template.replaceAll('{c}', c).replaceAll('{p}', p).replaceAll('{n}', n)
}

const tokens = (text: string) => Math.ceil(text.length / 4)

/** The i-th synthetic interaction (already normalised: valid under InteractionSchema). */
export function syntheticInteraction(i: number, options: SyntheticOptions = NO_OPTIONS): Interaction {
  const o = resolved(options)
  const rand = mulberry32(hash32(o.seed, i, 0))

  const rv = rand()
  let variant_id = rv < o.variantCut[0] ? 'control' : rv < o.variantCut[1] ? 'canary' : 'shadow'
  let model_version = variant_id === 'control' ? o.stableVersion : o.canaryVersion
  let profile = o.profiles.get(model_version)!
  const ex = o.experiment
  const userNo = hash32(o.seed, i, 7) % (ex ? ex.users : 5000)
  if (ex) {
    // The user, not the request, is the unit of assignment.
    const ru = hash32(o.seed, userNo, 11) / 4294967296
    let k = 0
    while (k < ex.cuts.length - 1 && ru >= (ex.cuts[k] as number)) k++
    variant_id = ex.names[k]!
    model_version = o.stableVersion
    profile = ex.profiles.get(variant_id)!
  }

  const rs = rand()
  let segmentIndex = 0
  while (rs >= SEGMENT_CUTS[segmentIndex]! && segmentIndex < SEGMENTS.length - 1) segmentIndex++
  const segment = SEGMENTS[segmentIndex]!

  const rm = rand()
  let modality: Modality = 'text'
  for (const [m, cut] of MODALITY_CUTS) {
    if (rm < cut) {
      modality = m
      break
    }
  }
  // Scanned invoices arrive as images more often than other requests.
  if (segment.name === 'invoice_extraction' && rand() < 0.3) modality = 'image'

  const company = pick(COMPANIES, rand())
  const product = pick(PRODUCTS, rand())
  const number = String(1000 + Math.floor(rand() * 9000))
  const user_input = fill(pick(segment.inputs, rand()), company, product, number)
  const context = segment.rag ? [fill(pick(segment.contexts, rand()), company, product, number)] : []

  const rStatus = rand()
  const status =
    rStatus < profile.errorRate
      ? 'error'
      : rStatus < profile.errorRate + profile.timeoutRate
        ? 'timeout'
        : 'ok'
  const refused = status === 'ok' && rand() < profile.refusalRate
  let model_output = ''
  if (status === 'ok')
    model_output = refused ? REFUSAL_TEXT : fill(pick(segment.outputs, rand()), company, product, number)

  const prompt_tokens =
    segment.systemPromptTokens + tokens(user_input) + context.reduce((s, c) => s + tokens(c), 0)
  let completion_tokens = status === 'ok' ? tokens(model_output) : 0
  let finish_reason: string | null = status === 'ok' ? 'stop' : status === 'error' ? 'error' : null
  if (status === 'ok' && !refused && rand() < 0.03) {
    finish_reason = 'length'
    completion_tokens = 1024
  }

  const ttftRaw = profile.ttftMedianMs * Math.exp(0.35 * normal(rand))
  const perToken = profile.perTokenMedianMs * Math.exp(0.2 * normal(rand))
  let latency = ttftRaw + completion_tokens * perToken
  let ttft: number | null = ttftRaw
  if (status === 'timeout') {
    latency = TIMEOUT_MS + rand() * 50
    ttft = null
  } else if (status === 'error') {
    latency = 20 + rand() * 400
    ttft = null
  }
  const shift = (v: number) => Math.round((v * profile.latencyMultiplier + profile.latencyOffsetMs) * 10) / 10
  const latency_ms = status === 'timeout' ? Math.round(latency * 10) / 10 : shift(latency)
  const ttft_ms = ttft === null ? null : Math.min(shift(ttft), latency_ms)

  const effect = ex?.effects[variant_id]
  const cost_usd =
    status === 'ok'
      ? Math.round(
          (prompt_tokens * USD_PER_PROMPT_TOKEN + completion_tokens * USD_PER_COMPLETION_TOKEN) *
            (effect?.costMultiplier ?? 1) *
            1e9,
        ) / 1e9
      : null
  const timestamp = o.startMs + Math.floor(i * o.intervalMs + rand() * o.intervalMs * 0.5)

  return {
    request_id: syntheticRequestId(o.seed, i),
    timestamp,
    user_id: `user-${String(userNo).padStart(5, '0')}`,
    session_id: rand() < 0.9 ? `sess-${hex8(hash32(o.seed, userNo, Math.floor(i / 400)))}` : null,
    variant_id,
    model_name: o.modelName,
    model_version,
    system_prompt_version: segment.systemPromptVersion,
    segment: segment.name,
    modality,
    user_input,
    model_output,
    context,
    latency_ms,
    ttft_ms,
    prompt_tokens,
    completion_tokens,
    cost_usd,
    status,
    finish_reason,
    safety_flag: refused ? rand() < 0.7 : rand() < 0.004,
    user_feedback_score:
      rand() < o.feedbackRate
        ? ex
          ? // Experiments: a rounded normal around 3.5 (+ the arm's shift), clipped to 1–5.
            Math.min(5, Math.max(1, Math.round(3.5 + (effect?.feedbackShift ?? 0) + normal(rand))))
          : 1 + Math.floor(rand() * 5)
        : null,
    attributes: {
      region: pick(REGIONS, rand()),
      customer_tier: pick(TIERS, rand()),
      channel: pick(CHANNELS, rand()),
      app_version: '4.2.1',
    },
    shadow_of: null,
  }
}

/** A rewritten answer: shares (almost) no words with any production answer. */
export const SHADOW_REWRITE_TEXT =
  'Thanks for reaching out! Our specialists will review this request and follow up by email within two business days with next steps.'

/**
 * The shadow twin of interaction i (options.shadow), or undefined when i has none (the
 * existing unpaired `shadow` variant, or no options.shadow). Random-access like
 * syntheticInteraction: it depends only on (seed, i).
 */
export function syntheticShadowTwin(
  i: number,
  options: SyntheticOptions = NO_OPTIONS,
): Interaction | undefined {
  const shadow = options.shadow
  if (!shadow) return undefined
  const production = syntheticInteraction(i, options)
  if (production.variant_id === 'shadow') return undefined
  const o = resolved(options)
  const profile = o.profiles.get(shadow.version)!
  const rand = mulberry32(hash32(o.seed, i, 17))
  const rStatus = rand()
  const status =
    rStatus < profile.errorRate
      ? 'error'
      : rStatus < profile.errorRate + profile.timeoutRate
        ? 'timeout'
        : 'ok'
  const rewritten = rand() < (shadow.rewriteRate ?? 0.1)
  const refused = status === 'ok' && rand() < profile.refusalRate
  let model_output = ''
  if (status === 'ok') {
    model_output = refused
      ? REFUSAL_TEXT
      : rewritten || production.status !== 'ok'
        ? SHADOW_REWRITE_TEXT
        : production.model_output
  }
  const completion_tokens = status === 'ok' ? tokens(model_output) : 0
  const ttftRaw = profile.ttftMedianMs * Math.exp(0.35 * normal(rand))
  const perToken = profile.perTokenMedianMs * Math.exp(0.2 * normal(rand))
  const raw =
    status === 'timeout'
      ? TIMEOUT_MS + rand() * 50
      : status === 'error'
        ? 20 + rand() * 400
        : ttftRaw + completion_tokens * perToken
  const shift = (v: number) => Math.round((v * profile.latencyMultiplier + profile.latencyOffsetMs) * 10) / 10
  const latency_ms = status === 'ok' ? shift(raw) : Math.round(raw * 10) / 10
  return {
    ...production,
    request_id: syntheticRequestId((o.seed ^ 0x5bd1e995) >>> 0, i),
    timestamp: production.timestamp + 1,
    variant_id: 'shadow',
    model_version: shadow.version,
    model_output,
    status,
    finish_reason: status === 'ok' ? 'stop' : status === 'error' ? 'error' : null,
    completion_tokens,
    latency_ms,
    ttft_ms: status === 'ok' ? Math.min(shift(ttftRaw), latency_ms) : null,
    cost_usd:
      status === 'ok'
        ? Math.round(
            (production.prompt_tokens * USD_PER_PROMPT_TOKEN + completion_tokens * USD_PER_COMPLETION_TOKEN) *
              1e9,
          ) / 1e9
        : null,
    safety_flag: refused,
    user_feedback_score: null,
    shadow_of: production.request_id,
  }
}

/** Interactions from..from+count-1 (lazy, so millions cost no memory). */
export function* syntheticInteractions(
  count: number,
  options: SyntheticOptions = NO_OPTIONS,
  from = 0,
): Generator<Interaction> {
  for (let i = from; i < from + count; i++) yield syntheticInteraction(i, options)
}

/** The plain-JSON Kafka value of an interaction (what the fastest producers send). */
export function interactionJsonBytes(interaction: Interaction): Buffer {
  return Buffer.from(JSON.stringify(interaction))
}

/** Shortcut: the JSON bytes of interaction i. */
export function syntheticJsonBytes(i: number, options: SyntheticOptions = NO_OPTIONS): Buffer {
  return interactionJsonBytes(syntheticInteraction(i, options))
}
