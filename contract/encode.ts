// Encodes interactions the way producers put them on Kafka: plain JSON, or Confluent-framed
// Avro / JSON Schema / Protobuf with the schema registered through the registry client and
// the schema id either in the 5-byte prefix or in the `__value_schema_id` header. Used by
// `driftwatch produce`, the demo and the tests; the decoder must read back exactly what this
// writes.
//
// Every format validates with the zod contract first and writes the normalised interaction,
// so a producer learns about a bad event at send time, not from the dead-letter topic.

import { createMutableRegistry, toBinary } from '@bufbuild/protobuf'
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt'
import { AvroSerializer } from '@confluentinc/schemaregistry/dist/serde/avro.js'
import { JsonSerializer } from '@confluentinc/schemaregistry/dist/serde/json.js'
import { ProtobufSerializer } from '@confluentinc/schemaregistry/dist/serde/protobuf.js'
import {
  HeaderSchemaIdSerializer,
  PrefixSchemaIdSerializer,
  SerdeType,
  type Serializer,
  SubjectNameStrategyType,
} from '@confluentinc/schemaregistry/dist/serde/serde.js'
import { ConfigError, DriftwatchError } from '../lib/errors.ts'
import { interactionAvroSchemaString } from './avro.ts'
import { formatZodIssues, type Interaction, type InteractionInput, InteractionSchema } from './interaction.ts'
import { interactionJsonSchemaString } from './json-schema.ts'
import { interactionProtoFile, interactionToProtoMessage } from './protobuf.ts'
import type { RegistryClient } from './registry.ts'

export const WIRE_FORMATS = ['json', 'avro', 'json-schema', 'protobuf'] as const
export type WireFormat = (typeof WIRE_FORMATS)[number]

export interface EncoderOptions {
  /** Required for every format but 'json'. */
  registry?: RegistryClient
  /** The subject is `<topic>-value` (TopicNameStrategy), as the decoder expects. */
  topic: string
  /** Where the schema id travels: 5-byte prefix (default) or `__value_schema_id` header (GUID). */
  schemaIdIn?: 'prefix' | 'header'
}

export interface EncodedMessage {
  value: Buffer
  headers?: Record<string, Buffer>
}

export interface Encoder {
  readonly format: WireFormat
  /** Registered schema id (framed formats). */
  readonly schemaId: number | undefined
  encode(interaction: Interaction | InteractionInput): Promise<EncodedMessage>
}

/** An interaction that does not satisfy the contract, caught before it is sent. */
export class InvalidInteractionError extends DriftwatchError {
  constructor(message: string) {
    super('INVALID_INTERACTION', message, { fix: 'fix the producer; the message names each failing field' })
  }
}

function normalise(interaction: Interaction | InteractionInput): Interaction {
  const result = InteractionSchema.safeParse(interaction)
  if (!result.success)
    throw new InvalidInteractionError(`invalid interaction: ${formatZodIssues(result.error)}`)
  return result.data
}

export async function createEncoder(format: WireFormat, options: EncoderOptions): Promise<Encoder> {
  if (format === 'json') {
    return {
      format,
      schemaId: undefined,
      encode: async (interaction) => ({ value: Buffer.from(JSON.stringify(normalise(interaction))) }),
    }
  }
  const { registry, topic } = options
  if (!registry)
    throw new ConfigError(`wire format ${format} needs a schema registry`, {
      fix: 'set schema_registry.url, or use format json',
    })

  const subject = `${topic}-value`
  const schema =
    format === 'avro'
      ? { schemaType: 'AVRO', schema: interactionAvroSchemaString }
      : format === 'json-schema'
        ? { schemaType: 'JSON', schema: interactionJsonSchemaString }
        : // The package's Protobuf serde exchanges schemas as base64 FileDescriptorProto.
          {
            schemaType: 'PROTOBUF',
            schema: Buffer.from(toBinary(FileDescriptorProtoSchema, interactionProtoFile.proto)).toString(
              'base64',
            ),
          }
  // Registered once up front (fails fast on a bad URL or credentials), then pinned by id
  // so the serializer never derives a schema from the message itself.
  const schemaId = await registry.register(subject, schema, false)
  const conf = {
    useSchemaId: schemaId,
    subjectNameStrategyType: SubjectNameStrategyType.TOPIC,
    schemaIdSerializer: options.schemaIdIn === 'header' ? HeaderSchemaIdSerializer : PrefixSchemaIdSerializer,
  }
  let serializer: Serializer
  let toWire: (interaction: Interaction) => unknown = (i) => i
  if (format === 'avro') serializer = new AvroSerializer(registry, SerdeType.VALUE, conf)
  else if (format === 'json-schema')
    serializer = new JsonSerializer(registry, SerdeType.VALUE, { ...conf, validate: false })
  else {
    serializer = new ProtobufSerializer(registry, SerdeType.VALUE, {
      ...conf,
      registry: createMutableRegistry(interactionProtoFile),
    })
    toWire = interactionToProtoMessage
  }

  return {
    format,
    schemaId,
    async encode(interaction) {
      const headers: Record<string, Buffer> = {}
      const value = await serializer.serialize(topic, toWire(normalise(interaction)), headers)
      return options.schemaIdIn === 'header' ? { value, headers } : { value }
    },
  }
}
