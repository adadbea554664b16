// Replay inputs: a golden suite file (JSONL: {input, reference?, weight?, segment?, modality?})
// or a SELECT over interactions. Both are checked completely before anything is sent or
// written, and every refusal names the line or the flag to fix.

import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { ConfigError } from '../../lib/errors.ts'

/** One case to send to the candidate. */
export interface ReplayCase {
  /** The recorded interaction's request_id, or `suite:<line>` for a suite case. */
  id: string
  segment: string
  modality: string
  input: string
  context: string[]
  /** What the recorded version answered (or the suite's reference); null when unknown. */
  recorded: string | null
  /** Recorded status (ok | error | timeout); suites: ok. */
  recordedStatus: string
  weight: number
  /** The recorded interaction, when the case comes from traffic. */
  original?: Record<string, unknown>
}

const SuiteLineSchema = z
  .object({
    input: z.string().min(1, 'input is empty'),
    reference: z.string().optional(),
    weight: z.number().positive().default(1),
    segment: z.string().min(1).default('golden'),
    modality: z.string().min(1).default('text'),
    context: z.array(z.string()).default([]),
  })
  .strict()

export function parseSuite(text: string, file: string): ReplayCase[] {
  const cases: ReplayCase[] = []
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return
    const where = `${file}:${index + 1}`
    let raw: unknown
    try {
      raw = JSON.parse(line)
    } catch {
      throw new ConfigError(`suite line ${where} is not JSON`, {
        fix: 'one JSON object per line, e.g. {"input": "How do I reset my password?", "reference": "..."}',
      })
    }
    const parsed = SuiteLineSchema.safeParse(raw)
    if (!parsed.success) {
      const missing = parsed.error.issues.some((i) => i.path[0] === 'input' && i.code === 'invalid_type')
      throw new ConfigError(
        missing
          ? `suite line ${where} has no input`
          : `suite line ${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ')}`,
        { fix: 'every line needs "input" (string); optional: reference, weight, segment, modality, context' },
      )
    }
    const c = parsed.data
    cases.push({
      id: `suite:${index + 1}`,
      segment: c.segment,
      modality: c.modality,
      input: c.input,
      context: c.context,
      recorded: c.reference ?? null,
      recordedStatus: 'ok',
      weight: c.weight,
    })
  })
  if (cases.length === 0)
    throw new ConfigError(`suite ${file} has no cases`, { fix: 'add JSONL lines with "input"' })
  return cases
}

export function readSuite(path: string): ReplayCase[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read suite ${path}: ${(error as Error).message}`, {
      fix: 'pass an existing JSONL file',
    })
  }
  return parseSuite(text, path)
}

/** Only one SELECT (or WITH ... SELECT) statement; the store also runs it read-only. */
export function checkSelect(sql: string): string {
  const trimmed = sql.trim().replace(/;\s*$/, '')
  if (!/^(select|with)\b/i.test(trimmed) || trimmed.includes(';')) {
    throw new ConfigError(
      `--select must be one SELECT over interactions, got ${JSON.stringify(sql.slice(0, 80))}`,
      {
        fix: `e.g. --select "SELECT request_id FROM interactions WHERE model_version = 'v1' AND timestamp > now() - INTERVAL 1 DAY"`,
      },
    )
  }
  return trimmed
}

/** Stratified selection: at most perScope cases per segment x modality, a hash-ordered sample. */
export function selectionSql(select: string): string {
  return `SELECT request_id, segment, modality, user_input, model_output, status, context, user_id, session_id,
  model_name, model_version, system_prompt_version, variant_id, timestamp, latency_ms, cost_usd, prompt_tokens, completion_tokens
FROM interactions FINAL
WHERE request_id IN (SELECT request_id FROM (${select}))
ORDER BY segment, modality, cityHash64(request_id)
LIMIT {per_scope:UInt32} BY segment, modality`
}

export function caseFromRow(row: Record<string, unknown>): ReplayCase {
  return {
    id: String(row.request_id),
    segment: String(row.segment),
    modality: String(row.modality),
    input: String(row.user_input),
    context: (row.context as string[] | undefined) ?? [],
    recorded: String(row.model_output ?? ''),
    recordedStatus: String(row.status),
    weight: 1,
    original: row,
  }
}
