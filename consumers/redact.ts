// Optional redaction at ingest (ingest.redact): e-mail addresses, phone numbers, card
// numbers and custom regexes in user_input and model_output are replaced by a marker
// before the row is built, so that PII never reaches the store. Pure: a function of the
// config and the text.

import type { IngestConfig } from '../config/schema.ts'
import type { Interaction } from '../contract/interaction.ts'
import type { MessageDecoder } from './ingest-batch.ts'

export type RedactConfig = IngestConfig['redact']
export type Redactor = (text: string) => string

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g
// 13–19 digits, optionally grouped by spaces or dashes; kept only if the Luhn check passes.
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g
// Optional +country, optional (area), then digit groups; kept only with 9–15 digits, so
// dates (2025-01-06) and short numbers stay.
const PHONE = /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![\w])/g

export function luhnValid(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return digits.length >= 13 && sum % 10 === 0
}

/** undefined when nothing is configured: ingest then skips the step entirely. */
export function createRedactor(config: RedactConfig): Redactor | undefined {
  const steps: Redactor[] = []
  // Cards before phones: a card number is also a long digit run.
  if (config.card_numbers)
    steps.push((t) => t.replace(CARD, (m) => (luhnValid(m.replace(/\D/g, '')) ? '[CARD]' : m)))
  if (config.emails) steps.push((t) => t.replace(EMAIL, '[EMAIL]'))
  if (config.phone_numbers)
    steps.push((t) =>
      t.replace(PHONE, (m) => {
        const n = m.replace(/\D/g, '').length
        return n >= 9 && n <= 15 ? '[PHONE]' : m
      }),
    )
  for (const p of config.patterns) {
    const regex = new RegExp(p.regex, p.flags.includes('g') ? p.flags : `${p.flags}g`)
    const marker = `[${p.name.toUpperCase()}]`
    steps.push((t) => t.replace(regex, marker))
  }
  if (steps.length === 0) return undefined
  return (text) => steps.reduce((t, step) => step(t), text)
}

export function redactInteraction(event: Interaction, redact: Redactor): Interaction {
  return { ...event, user_input: redact(event.user_input), model_output: redact(event.model_output) }
}

/** A decoder whose interactions come out redacted. */
export function redactingDecoder(decoder: MessageDecoder, redact: Redactor | undefined): MessageDecoder {
  if (!redact) return decoder
  return {
    decode: async (message, topic) => redactInteraction(await decoder.decode(message, topic), redact),
    decodeNow: (message, topic) => {
      const event = decoder.decodeNow?.(message, topic)
      return event === undefined ? undefined : redactInteraction(event, redact)
    },
  }
}
