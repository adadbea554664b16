// The Protobuf form of one interaction (message driftwatch.v1.Interaction), for producers
// that send Confluent-framed Protobuf. The descriptor is built at runtime from one field table
// (no protoc step in the build); the same table prints the .proto text for other languages.
//
// Choices: modality and status are strings, not enums, so the zod contract stays the one
// place that lists allowed values (a proto3 enum would also need a meaningless zero value);
// optional fields use proto3 `optional` so "absent" decodes to null, not 0 or "".

import {
  create,
  createFileRegistry,
  type DescMessage,
  type Message,
  type MessageInitShape,
} from '@bufbuild/protobuf'
import {
  type FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
} from '@bufbuild/protobuf/wkt'
import type { Interaction } from './interaction.ts'

export const PROTO_FILE_NAME = 'driftwatch/v1/interaction.proto'
export const PROTO_PACKAGE = 'driftwatch.v1'
export const PROTO_MESSAGE_NAME = `${PROTO_PACKAGE}.Interaction`

type Kind = 'string' | 'int64' | 'double' | 'uint32' | 'bool' | 'repeated string' | 'map<string, string>'

// Field numbers are the wire contract: never renumber, only append.
const FIELDS: [name: keyof Interaction, number: number, kind: Kind, optional?: true][] = [
  ['request_id', 1, 'string'],
  ['timestamp', 2, 'int64'], // epoch milliseconds, UTC
  ['user_id', 3, 'string'],
  ['session_id', 4, 'string', true],
  ['variant_id', 5, 'string'],
  ['model_name', 6, 'string'],
  ['model_version', 7, 'string'],
  ['system_prompt_version', 8, 'string'],
  ['segment', 9, 'string'],
  ['modality', 10, 'string'],
  ['user_input', 11, 'string'],
  ['model_output', 12, 'string'],
  ['context', 13, 'repeated string'],
  ['latency_ms', 14, 'double'],
  ['ttft_ms', 15, 'double', true],
  ['prompt_tokens', 16, 'uint32'],
  ['completion_tokens', 17, 'uint32'],
  ['cost_usd', 18, 'double', true],
  ['status', 19, 'string'],
  ['finish_reason', 20, 'string', true],
  ['safety_flag', 21, 'bool', true],
  ['user_feedback_score', 22, 'double', true],
  ['attributes', 23, 'map<string, string>'],
  // Added later with a new field number: messages without it still decode (proto3 optional).
  ['shadow_of', 24, 'string', true],
]

/** Field names of the Protobuf message, in field-number order (tests compare them with zod's). */
export const PROTO_FIELD_NAMES: readonly string[] = FIELDS.map(([name]) => name)

const SCALAR: Record<string, Type> = {
  string: Type.STRING,
  int64: Type.INT64,
  double: Type.DOUBLE,
  uint32: Type.UINT32,
  bool: Type.BOOL,
}

function buildFile() {
  const fields: MessageInitShape<typeof FieldDescriptorProtoSchema>[] = []
  const oneofDecl: { name: string }[] = []
  for (const [name, number, kind, optional] of FIELDS) {
    const jsonName = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
    if (kind === 'repeated string') {
      fields.push({ name, number, jsonName, label: Label.REPEATED, type: Type.STRING })
    } else if (kind === 'map<string, string>') {
      fields.push({
        name,
        number,
        jsonName,
        label: Label.REPEATED,
        type: Type.MESSAGE,
        typeName: `.${PROTO_MESSAGE_NAME}.AttributesEntry`,
      })
    } else if (optional) {
      // proto3 `optional` is a synthetic one-field oneof named _<field>.
      fields.push({
        name,
        number,
        jsonName,
        label: Label.OPTIONAL,
        type: SCALAR[kind]!,
        proto3Optional: true,
        oneofIndex: oneofDecl.length,
      })
      oneofDecl.push({ name: `_${name}` })
    } else {
      fields.push({ name, number, jsonName, label: Label.OPTIONAL, type: SCALAR[kind]! })
    }
  }
  return create(FileDescriptorProtoSchema, {
    name: PROTO_FILE_NAME,
    package: PROTO_PACKAGE,
    syntax: 'proto3',
    messageType: [
      {
        name: 'Interaction',
        field: fields,
        oneofDecl,
        nestedType: [
          {
            name: 'AttributesEntry',
            field: [
              { name: 'key', number: 1, jsonName: 'key', label: Label.OPTIONAL, type: Type.STRING },
              { name: 'value', number: 2, jsonName: 'value', label: Label.OPTIONAL, type: Type.STRING },
            ],
            options: { mapEntry: true },
          },
        ],
      },
    ],
  })
}

const registry = createFileRegistry(buildFile(), () => undefined)

/** The message descriptor (for ProtobufSerializer's registry and for decoding by hand). */
export const InteractionMessage: DescMessage = registry.getMessage(PROTO_MESSAGE_NAME)!
export const interactionProtoFile = registry.getFile(PROTO_FILE_NAME)!

/** The same schema as .proto text, for producers in other languages. */
export const INTERACTION_PROTO: string = [
  'syntax = "proto3";',
  '',
  `package ${PROTO_PACKAGE};`,
  '',
  '// One LLM interaction; see driftwatch contract/interaction.ts for the rules on each field.',
  'message Interaction {',
  ...FIELDS.map(([name, number, kind, optional]) => {
    const comment = name === 'timestamp' ? ' // epoch milliseconds, UTC' : ''
    return `  ${optional ? 'optional ' : ''}${kind} ${name} = ${number};${comment}`
  }),
  '}',
  '',
].join('\n')

/**
 * A decoded Protobuf message as the plain object the zod contract validates: snake_case
 * names, int64 as number, unset optional fields left undefined (zod turns them into null).
 */
export function protoMessageToInput(message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const field of InteractionMessage.fields) {
    const value = message[field.localName]
    out[field.name] = typeof value === 'bigint' ? Number(value) : value
  }
  return out
}

/** An interaction as a Protobuf message for ProtobufSerializer (nulls become "unset"). */
export function interactionToProtoMessage(interaction: Interaction): Message {
  const init: Record<string, unknown> = {}
  const source = interaction as Record<string, unknown>
  for (const field of InteractionMessage.fields) {
    const value = source[field.name]
    if (value === null || value === undefined) continue
    init[field.localName] = field.name === 'timestamp' ? BigInt(value as number) : value
  }
  return create(InteractionMessage, init as never) as Message
}
