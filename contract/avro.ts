// The Avro form of one interaction (record driftwatch.v1.Interaction), for producers that
// send Confluent-framed Avro. Written by hand because Avro schemas are read by people and by
// other languages' code generators; a unit test checks that its fields are exactly the zod
// contract's, so the two cannot drift apart silently.
//
// Choices: modality and status are strings, not Avro enums (adding a symbol to an enum breaks
// old readers; the zod contract checks the values); optional fields are ["null", T] with
// default null, so a writer schema without them still resolves.

export const AVRO_RECORD_NAME = 'driftwatch.v1.Interaction'

const nullable = (type: unknown) => ({ type: ['null', type], default: null })

export const interactionAvroSchema = {
  type: 'record',
  name: 'Interaction',
  namespace: 'driftwatch.v1',
  doc: 'One LLM interaction (driftwatch event contract)',
  fields: [
    { name: 'request_id', type: 'string' },
    {
      name: 'timestamp',
      type: { type: 'long', logicalType: 'timestamp-millis' },
      doc: 'epoch milliseconds, UTC',
    },
    { name: 'user_id', type: 'string' },
    { name: 'session_id', ...nullable('string') },
    { name: 'variant_id', type: 'string' },
    { name: 'model_name', type: 'string' },
    { name: 'model_version', type: 'string' },
    { name: 'system_prompt_version', type: 'string' },
    { name: 'segment', type: 'string' },
    { name: 'modality', type: 'string', doc: 'text | image | audio | video | multimodal' },
    { name: 'user_input', type: 'string' },
    { name: 'model_output', type: 'string' },
    { name: 'context', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'latency_ms', type: 'double' },
    { name: 'ttft_ms', ...nullable('double') },
    { name: 'prompt_tokens', type: 'int' },
    { name: 'completion_tokens', type: 'int' },
    { name: 'cost_usd', ...nullable('double') },
    { name: 'status', type: 'string', doc: 'ok | error | timeout' },
    { name: 'finish_reason', ...nullable('string') },
    { name: 'safety_flag', ...nullable('boolean') },
    { name: 'user_feedback_score', ...nullable('double') },
    { name: 'attributes', type: { type: 'map', values: 'string' }, default: {} },
    // Added later, last and with a null default: records written without it still decode.
    { name: 'shadow_of', ...nullable('string') },
  ],
} as const

/** The schema string to register (`schemaType: 'AVRO'`). */
export const interactionAvroSchemaString: string = JSON.stringify(interactionAvroSchema)

/** Field names in schema order (tests compare them with the zod contract's). */
export const AVRO_FIELD_NAMES: readonly string[] = interactionAvroSchema.fields.map((f) => f.name)
