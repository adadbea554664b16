// Scorer versions: one string per (model, prompt) pair, stored with every score so numbers
// produced by different prompts or models are never mixed in one baseline. The scheme is
// `${model}@${first 12 hex chars of sha256(prompt text)}`: stable across machines and runs
// (line endings normalised), and it changes whenever a byte of the prompt changes.

import { createHash } from 'node:crypto'

/** 12 hex chars = 48 bits: collisions between a repo's prompt revisions are not a concern. */
export const PROMPT_HASH_LENGTH = 12

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** CRLF checkouts (Windows, git autocrlf) must not create a new scorer version. */
export function normalizePromptText(text: string): string {
  return text.replace(/\r\n?/g, '\n')
}

export function promptHash(text: string): string {
  return sha256Hex(normalizePromptText(text)).slice(0, PROMPT_HASH_LENGTH)
}

/** `${model}@${promptHash(templateText)}`, e.g. `llama-3.3-70b-instruct@3f9a0c1b2d4e`. */
export function scorerVersion(model: string, templateText: string): string {
  const name = model.trim()
  if (name === '') throw new TypeError('scorerVersion: model must be a non-empty string')
  return `${name}@${promptHash(templateText)}`
}

/**
 * Llama Guard: the prompt mode is hashed together with the prompt, because the same model
 * fed the server's chat template or our raw prompt is two different scorers.
 */
export function llamaGuardScorerVersion(model: string, promptMode: string, promptText: string): string {
  return scorerVersion(model, `llama-guard\npromptMode=${promptMode}\n${promptText}`)
}

/** Built-in refusal detector: no model, so the name is fixed and the hash covers its rules. */
export function refusalScorerVersion(ruleSpec: string): string {
  return `refusal@${promptHash(ruleSpec)}`
}
