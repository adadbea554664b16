// Placeholder filling for prompt templates. One pass over the template only: text that comes
// from users (which may itself contain "{{context}}") is never expanded again, so an
// interaction cannot smuggle another field into the prompt.

const PLACEHOLDER = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/g

export function fillPlaceholders(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (!Object.hasOwn(values, name)) throw new TypeError(`template placeholder {{${name}}} has no value`)
    return values[name]!
  })
}

/** Placeholder names used by a template, in order of first use. */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))]
}

/**
 * Caps one field so a huge output cannot blow the judge's context window; the marker tells
 * the judge the text was cut so it does not penalise the missing end as incompleteness.
 */
export function truncateField(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text
  return `${text.slice(0, maxChars)}\n[... truncated ${text.length - maxChars} characters ...]`
}
