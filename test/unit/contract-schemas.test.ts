import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js'
import { JsonSerializer } from '@confluentinc/schemaregistry/dist/serde/json.js'
import { SerdeType, SubjectNameStrategyType } from '@confluentinc/schemaregistry/dist/serde/serde.js'
import { describe, expect, it } from 'vitest'
import { AVRO_FIELD_NAMES } from '../../contract/avro.ts'
import { INTERACTION_FIELDS } from '../../contract/interaction.ts'
import {
  interactionJsonSchema,
  interactionJsonSchemaString,
  writeInteractionJsonSchema,
} from '../../contract/json-schema.ts'
import { INTERACTION_PROTO, PROTO_FIELD_NAMES } from '../../contract/protobuf.ts'
import { syntheticInteraction } from '../../producers/synthetic.ts'

describe('every wire schema carries exactly the contract fields', () => {
  it('Avro', () => {
    expect(AVRO_FIELD_NAMES).toEqual(INTERACTION_FIELDS)
  })

  it('Protobuf', () => {
    expect(PROTO_FIELD_NAMES).toEqual(INTERACTION_FIELDS)
    for (const field of INTERACTION_FIELDS) expect(INTERACTION_PROTO).toMatch(new RegExp(` ${field} = \\d+;`))
  })

  it('JSON Schema (generated from zod, input side)', () => {
    const properties = interactionJsonSchema.properties as Record<string, unknown>
    expect(Object.keys(properties)).toEqual(INTERACTION_FIELDS)
    expect(interactionJsonSchema.required).toEqual([
      'request_id',
      'timestamp',
      'user_id',
      'variant_id',
      'model_name',
      'model_version',
      'system_prompt_version',
      'segment',
      'modality',
      'user_input',
      'model_output',
      'latency_ms',
      'prompt_tokens',
      'completion_tokens',
      'status',
    ])
    expect(properties.timestamp).toMatchObject({ type: ['string', 'number'] })
    expect(interactionJsonSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
  })
})

describe('JSON Schema as producers use it', () => {
  // A producer validating with the package's own JsonSerializer (ajv) before sending.
  async function validates(message: unknown): Promise<boolean> {
    const registry = new MockClient()
    const id = await registry.register(
      't-value',
      { schemaType: 'JSON', schema: interactionJsonSchemaString },
      false,
    )
    const serializer = new JsonSerializer(registry, SerdeType.VALUE, {
      useSchemaId: id,
      validate: true,
      // zod writes nullable and either-type fields as `type: [..]` (valid JSON Schema);
      // ajv's strict mode wants that allowed explicitly, or it warns.
      allowUnionTypes: true,
      subjectNameStrategyType: SubjectNameStrategyType.TOPIC,
    })
    return serializer.serialize('t', message).then(
      () => true,
      () => false,
    )
  }

  it('accepts contract-valid events in their producer forms', async () => {
    const event = syntheticInteraction(0)
    expect(await validates(event)).toBe(true)
    const { session_id: _s, attributes: _a, ttft_ms: _t, ...minimal } = event
    expect(
      await validates({ ...minimal, timestamp: new Date(event.timestamp).toISOString(), context: 'doc' }),
    ).toBe(true)
  })

  it('rejects what the contract rejects structurally', async () => {
    const event = syntheticInteraction(0)
    expect(await validates({ ...event, modality: 'smell' })).toBe(false)
    expect(await validates({ ...event, prompt_tokens: -1 })).toBe(false)
    const { request_id: _r, ...missing } = event
    expect(await validates(missing)).toBe(false)
  })

  it('writeInteractionJsonSchema writes the same schema, pretty-printed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-schema-'))
    try {
      const path = join(dir, 'interaction.schema.json')
      await writeInteractionJsonSchema(path)
      const text = await readFile(path, 'utf8')
      expect(JSON.parse(text)).toEqual(interactionJsonSchema)
      expect(text.endsWith('}\n')).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
