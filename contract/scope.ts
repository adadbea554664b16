// What a scope is, in one place: the four dimensions every metric is measured per
// (model_version × variant_id × segment × modality), its zod schemas (a full scope in alerts
// and persisted states; a partial filter in rules and sampling overrides), the value meaning
// "every value", and the one key function that identifies a scope in maps and tables.

import { z } from 'zod'

export const SCOPE_COLUMNS = ['model_version', 'variant_id', 'segment', 'modality'] as const
export type ScopeColumn = (typeof SCOPE_COLUMNS)[number]

/** Scope value meaning "all values of this dimension" (e.g. a baseline pooled over variants). */
export const ALL = '*'

const scopeValue = z.string().min(1)

/**
 * model_version × variant_id × segment × modality. Any dimension may be `'*'` (all). Rates are
 * never averaged across modalities, so a `'*'` modality only appears for non-rate metrics.
 */
export const ScopeSchema = z.strictObject({
  model_version: scopeValue,
  variant_id: scopeValue,
  segment: scopeValue,
  modality: scopeValue,
})
export type Scope = z.infer<typeof ScopeSchema>

/** A scope filter: every key given must match; a missing key matches every value. */
export const ScopeWhereSchema = ScopeSchema.partial()
export type ScopeWhere = z.infer<typeof ScopeWhereSchema>

const SEPARATOR = '|'

/** Joins parts with `|`, escaping `\` and `|` inside a part, so different parts never give one key. */
function joinEscaped(parts: readonly string[]): string {
  return parts.map((p) => p.replace(/\\/g, '\\\\').replace(/\|/g, '\\|')).join(SEPARATOR)
}

/** The identity of a scope in maps and keys: equal exactly when all four values are equal. */
export function scopeKey(scope: Scope): string {
  return joinEscaped(SCOPE_COLUMNS.map((c) => scope[c]))
}

/**
 * The key a baseline pooled over one version's variants is matched by: segment × modality
 * (model_version and variant_id differ between candidate and baseline by design).
 */
export function baselineKey(scope: Pick<Scope, 'segment' | 'modality'>): string {
  return joinEscaped([scope.segment, scope.modality])
}

/** A scope for people (logs, job details): `v1 | control | support | text`. Not a key. */
export function scopeLabel(scope: Scope): string {
  return SCOPE_COLUMNS.map((c) => scope[c]).join(' | ')
}
