// The JSON Schema of one interaction, generated from the zod contract (input side: what a
// producer may send, e.g. ISO or epoch-ms timestamps and optional fields left out). It is
// what producers register for the JSON Schema wire format, and what `writeInteractionJsonSchema`
// writes for teams that validate in other languages. Never edit the output by hand: change
// contract/interaction.ts instead.

import { writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { InteractionSchema } from './interaction.ts'

export const INTERACTION_SCHEMA_TITLE = 'driftwatch.Interaction'

function build(): Record<string, unknown> {
  const schema = z.toJSONSchema(InteractionSchema, {
    io: 'input',
    target: 'draft-2020-12',
    // Two fields are checked by hand-written zod.custom (for speed); their JSON Schema comes
    // from the `.meta()` next to them in interaction.ts.
    unrepresentable: 'any',
  }) as Record<string, unknown>
  // Unknown top-level fields are stripped, not rejected; say so instead of leaving it implicit.
  return { ...schema, title: INTERACTION_SCHEMA_TITLE, additionalProperties: true }
}

/** The generated JSON Schema (draft 2020-12), as an object. */
export const interactionJsonSchema: Readonly<Record<string, unknown>> = Object.freeze(build())

/** The same schema as the string a schema registry expects (`schemaType: 'JSON'`). */
export const interactionJsonSchemaString: string = JSON.stringify(interactionJsonSchema)

/** Writes the schema, pretty-printed, to `path` (for producers that register it themselves). */
export async function writeInteractionJsonSchema(path: string): Promise<void> {
  await writeFile(path, `${JSON.stringify(interactionJsonSchema, null, 2)}\n`)
}
