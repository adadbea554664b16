// Turns one Kafka message value into a validated Interaction, whatever wire format the
// producer used, or throws PoisonMessageError with a stable `reason` for the dead-letter
// topic. Every format ends in the same zod schema, so a field means the same thing
// whichever way it arrived.
//
// How a value is recognised (checked in this order):
//   null or 0 bytes (a tombstone), or only BOM/whitespace   -> `empty`
//   longer than maxMessageBytes                              -> `too_large`
//   header __value_schema_id present                         -> framed, schema id in the header
//                                                               (the package's DualSchemaIdDeserializer rule;
//                                                               the value is then the bare Avro/JSON/Protobuf body)
//   first byte '{'                                           -> plain JSON (the fast path)
//   first byte 0x00 (+ 4-byte big-endian id) or 0x01 (+ 16-byte GUID)
//                                                            -> Confluent-framed, schema id in the prefix
//   UTF-8 BOM / whitespace, then a JSON token                -> plain JSON (a non-object is `schema_invalid`)
//   any other printable text                                 -> `not_json`
//   any other binary byte (control byte, >= 0x80)            -> `bad_magic_byte` (gzip, raw Avro, a future framing)
// Reasons after that: `not_json` (JSON.parse failed), `schema_invalid` (zod said no),
// `unknown_schema_id` (registry has no such id), `undecodable` (frame found but the body does
// not decode with its schema, or no registry is configured for a framed message). A registry
// outage is no reason: it throws RegistryUnavailableError (retriable, never dead-lettered).
//
// Messages never quote field values: they end up in logs, and values are user text.

import { RestError } from '@confluentinc/schemaregistry/dist/rest-error.js'
import type { Deserializer } from '@confluentinc/schemaregistry/dist/serde/serde.js'
import { PoisonMessageError, RegistryUnavailableError } from '../lib/errors.ts'
import { fastInteraction } from './fast-interaction.ts'
import { formatZodIssues, type Interaction, InteractionSchema } from './interaction.ts'
import { protoMessageToInput } from './protobuf.ts'
import type { RegistryClient } from './registry.ts'

export { createRegistryClient, type RegistryClient, type RegistryConfig } from './registry.ts'

export const POISON_REASONS = [
  'empty',
  'too_large',
  'not_json',
  'schema_invalid',
  'bad_magic_byte',
  'unknown_schema_id',
  'undecodable',
] as const
export type PoisonReason = (typeof POISON_REASONS)[number]

/** Every `dlq.reason` a dead-lettered message can carry: the decoder's, and the store's refusal. */
export const DEAD_LETTER_REASONS = [...POISON_REASONS, 'store_rejected'] as const
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number]

/** kafkajs' IHeaders, spelled out so this module does not depend on kafkajs. */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>

export interface DecodableMessage {
  value: Buffer | null
  headers?: MessageHeaders
}

export interface DecoderOptions {
  /** Needed only for schema-registry framed messages; plain JSON never touches it. */
  registry?: RegistryClient
  /** Larger values are `too_large` before any parsing. Default 1 MiB (Kafka's default limit). */
  maxMessageBytes?: number
}

export interface Decoder {
  decode(message: DecodableMessage, topic: string): Promise<Interaction>
  /**
   * The same answer without a promise when no schema registry is involved (plain JSON and
   * every poison found on the bytes): the ingest hot path, one message at a time, so each
   * parsed object dies young. Undefined for a framed message: ask decode().
   */
  decodeNow(message: DecodableMessage, topic: string): Interaction | undefined
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576
export const VALUE_SCHEMA_ID_HEADER = '__value_schema_id'
const SCHEMA_TYPES = ['AVRO', 'JSON', 'PROTOBUF'] as const
type SchemaType = (typeof SCHEMA_TYPES)[number]
/** A 404 (or unusable schema) for an id is remembered this long: a flood of bad ids is not a flood of requests. */
const UNKNOWN_ID_TTL_MS = 60_000
const MAX_CACHED_IDS = 10_000

const poison = (reason: PoisonReason, message: string, fix?: string) =>
  new PoisonMessageError(reason, message, fix === undefined ? {} : { fix })

export function createDecoder(options: DecoderOptions = {}): Decoder {
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const registry = options.registry
  const framed = registry ? createFramedDecoder(registry) : undefined

  async function decode(message: DecodableMessage, topic: string): Promise<Interaction> {
    return decodeNow(message, topic) ?? decodeFramedMessage(message, topic)
  }

  function decodeNow(message: DecodableMessage, _topic: string): Interaction | undefined {
    const value = message.value
    if (value == null || value.length === 0) throw poison('empty', 'message value is empty (null or 0 bytes)')
    if (value.length > maxBytes) {
      throw poison(
        'too_large',
        `message value is ${value.length} bytes, over the ${maxBytes}-byte limit`,
        'raise ingest.max_message_bytes if such interactions are legitimate',
      )
    }
    if (message.headers?.[VALUE_SCHEMA_ID_HEADER] !== undefined) return undefined
    const first = value[0]!
    if (first === 0x7b) return parseJson(value)
    if (first === 0x00 || first === 0x01) return undefined
    return decodeOther(value)
  }

  /** A message decodeNow left: schema id in the header or in the value's prefix. */
  function decodeFramedMessage(message: DecodableMessage, topic: string): Promise<Interaction> {
    const value = message.value!
    const headerId = message.headers?.[VALUE_SCHEMA_ID_HEADER]
    if (headerId !== undefined)
      return decodeFramed(value, message.headers, topic, schemaIdFromHeader(headerId))
    return decodeFramed(value, message.headers, topic, schemaIdFromPrefix(value))
  }

  function decodeFramed(
    value: Buffer,
    headers: MessageHeaders | undefined,
    topic: string,
    id: SchemaRef,
  ): Promise<Interaction> {
    if (!framed) {
      throw poison(
        'undecodable',
        `message is schema-registry framed (schema ${id.label}) but no schema registry is configured`,
        'set schema_registry.url; dead-lettered messages can be replayed afterwards',
      )
    }
    return framed(value, headers, topic, id)
  }

  return { decode, decodeNow }
}

/**
 * Plain JSON: one JSON.parse and one pass of the hand-written validator; this is the path
 * that must stay lean. Only a message it rejects goes through zod, for the reason.
 */
function parseJson(bytes: Buffer): Interaction {
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw poison('not_json', `message value is not valid JSON${syntaxErrorPosition(error)}`)
  }
  return fastInteraction(parsed) ?? validate(parsed)
}

function validate(value: unknown): Interaction {
  const result = InteractionSchema.safeParse(value)
  if (!result.success) throw poison('schema_invalid', formatZodIssues(result.error))
  return result.data
}

const JSON_START = new Set([
  0x5b, 0x22, 0x2d, 0x74, 0x66, 0x6e, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
])

function decodeOther(value: Buffer): Interaction {
  let i = 0
  if (value[0] === 0xef && value[1] === 0xbb && value[2] === 0xbf) i = 3
  while (
    i < value.length &&
    (value[i] === 0x20 || value[i] === 0x09 || value[i] === 0x0a || value[i] === 0x0d)
  )
    i++
  if (i === value.length) throw poison('empty', 'message value holds only whitespace')
  const b = value[i]!
  // A JSON token: parse it, so `[...]` or `"..."` is reported as "not an object" (schema_invalid).
  if (b === 0x7b || JSON_START.has(b)) return parseJson(i === 0 ? value : value.subarray(i))
  if (b >= 0x20 && b < 0x7f)
    throw poison(
      'not_json',
      `message value is text but not JSON (starts with ${JSON.stringify(String.fromCharCode(b))})`,
    )
  throw poison(
    'bad_magic_byte',
    `message value starts with byte 0x${hex(value[0]!)}: neither JSON ('{') nor a schema-registry frame (0x00 or 0x01)`,
    'producers must send plain JSON or use a Confluent serializer (magic byte 0x00 + schema id)',
  )
}

// ---- schema-registry framed messages ----

interface SchemaRef {
  key: string
  label: string
}

function schemaIdFromPrefix(value: Buffer): SchemaRef {
  if (value[0] === 0x00) {
    if (value.length < 5)
      throw poison('undecodable', `framed message is ${value.length} bytes, shorter than its 5-byte header`)
    const id = value.readInt32BE(1)
    return { key: `id:${id}`, label: `id ${id}` }
  }
  if (value.length < 17)
    throw poison(
      'undecodable',
      `framed message is ${value.length} bytes, shorter than its 17-byte GUID header`,
    )
  const guid = formatGuid(value, 1)
  return { key: `guid:${guid}`, label: `guid ${guid}` }
}

function schemaIdFromHeader(header: Buffer | string | (Buffer | string)[]): SchemaRef {
  // Same reading as the package's DualSchemaIdDeserializer: last value wins, strings are UTF-8.
  const last = Array.isArray(header) ? header[header.length - 1] : header
  const bytes = typeof last === 'string' ? Buffer.from(last, 'utf8') : last
  if (!bytes || bytes.length === 0)
    throw poison('bad_magic_byte', `header ${VALUE_SCHEMA_ID_HEADER} is empty`)
  if (bytes[0] === 0x01 && bytes.length >= 17) {
    const guid = formatGuid(bytes, 1)
    return { key: `guid:${guid}`, label: `guid ${guid}` }
  }
  if (bytes[0] === 0x00 && bytes.length >= 5) {
    const id = bytes.readInt32BE(1)
    return { key: `id:${id}`, label: `id ${id}` }
  }
  throw poison(
    'bad_magic_byte',
    `header ${VALUE_SCHEMA_ID_HEADER} starts with byte 0x${hex(bytes[0]!)} (${bytes.length} bytes): expected 0x01 + 16-byte GUID or 0x00 + 4-byte id`,
  )
}

type SerdeModules = {
  deserializer(type: SchemaType, registry: RegistryClient): Deserializer
}

// The serde modules cost ~300 ms to load; a plain-JSON consumer never pays for them.
let serdeModules: Promise<SerdeModules> | undefined
function loadSerde(): Promise<SerdeModules> {
  serdeModules ??= (async () => {
    const [serde, avro, json, protobuf] = await Promise.all([
      import('@confluentinc/schemaregistry/dist/serde/serde.js'),
      import('@confluentinc/schemaregistry/dist/serde/avro.js'),
      import('@confluentinc/schemaregistry/dist/serde/json.js'),
      import('@confluentinc/schemaregistry/dist/serde/protobuf.js'),
    ])
    // TOPIC strategy (subject = <topic>-value), stated explicitly: the package's default,
    // ASSOCIATED, asks the registry for topic associations and keys its cache by the whole
    // schema text on every message.
    const conf = { subjectNameStrategyType: serde.SubjectNameStrategyType.TOPIC }
    return {
      deserializer(type, registry) {
        if (type === 'AVRO') return new avro.AvroDeserializer(registry, serde.SerdeType.VALUE, conf)
        // No ajv validation in the deserializer: the zod contract validates every format.
        if (type === 'JSON')
          return new json.JsonDeserializer(registry, serde.SerdeType.VALUE, { ...conf, validate: false })
        return new protobuf.ProtobufDeserializer(registry, serde.SerdeType.VALUE, conf)
      },
    }
  })()
  return serdeModules
}

type FramedDecode = (
  value: Buffer,
  headers: MessageHeaders | undefined,
  topic: string,
  id: SchemaRef,
) => Promise<Interaction>

function createFramedDecoder(registry: RegistryClient): FramedDecode {
  const deserializers = new Map<SchemaType, Deserializer>()
  const schemaTypes = new Map<string, { promise: Promise<SchemaType>; expiresAt: number }>()

  async function lookupSchemaType(id: SchemaRef, topic: string): Promise<SchemaType> {
    let info: { schemaType?: string }
    try {
      // Same arguments as the Avro/JSON deserializers use, so the client's cache serves both.
      info = id.key.startsWith('id:')
        ? await registry.getBySubjectAndId(`${topic}-value`, Number(id.key.slice(3)))
        : await registry.getByGuid(id.key.slice(5))
    } catch (error) {
      throw registryError(error, id)
    }
    const type = (info.schemaType ?? 'AVRO').toUpperCase()
    if (!(SCHEMA_TYPES as readonly string[]).includes(type)) {
      throw poison(
        'undecodable',
        `schema ${id.label} has type ${type}; driftwatch reads AVRO, JSON and PROTOBUF`,
      )
    }
    // The REST client caches schemas by id only, ignoring the requested format, and the
    // Protobuf deserializer needs the "serialized" (base64 descriptor) form: drop the text
    // form just cached. Happens once per Protobuf schema id; MockClient ignores it.
    if (type === 'PROTOBUF') registry.clearCaches()
    return type as SchemaType
  }

  function schemaTypeOf(id: SchemaRef, topic: string): Promise<SchemaType> {
    const now = Date.now()
    let entry = schemaTypes.get(id.key)
    if (entry === undefined || entry.expiresAt <= now) {
      if (schemaTypes.size >= MAX_CACHED_IDS) schemaTypes.clear()
      // One lookup per id even when a batch decodes hundreds of its messages concurrently.
      const created = { promise: lookupSchemaType(id, topic), expiresAt: Number.POSITIVE_INFINITY }
      created.promise.catch((error: unknown) => {
        if (error instanceof PoisonMessageError) {
          created.expiresAt = Date.now() + UNKNOWN_ID_TTL_MS
        } else if (schemaTypes.get(id.key) === created) {
          schemaTypes.delete(id.key) // an outage: ask again next time
        }
      })
      schemaTypes.set(id.key, created)
      entry = created
    }
    return entry.promise
  }

  return async (value, headers, topic, id) => {
    const type = await schemaTypeOf(id, topic)
    const serde = await loadSerde()
    let deserializer = deserializers.get(type)
    if (!deserializer) {
      deserializer = serde.deserializer(type, registry)
      deserializers.set(type, deserializer)
    }
    let decoded: unknown
    try {
      decoded = await deserializer.deserialize(topic, value, headers)
    } catch (error) {
      if (isRegistryError(error)) throw registryError(error, id)
      throw poison(
        'undecodable',
        `${type} body does not decode with schema ${id.label}: ${safeMessage(error)}`,
      )
    }
    if (type === 'PROTOBUF' && decoded !== null && typeof decoded === 'object') {
      decoded = protoMessageToInput(decoded as Record<string, unknown>)
    }
    return validate(decoded)
  }
}

function isRegistryError(error: unknown): boolean {
  return (
    error instanceof RestError || (typeof error === 'object' && error !== null && 'isAxiosError' in error)
  )
}

/** 404 = the id is not there (poison); anything else = the registry is not answering (retry). */
function registryError(error: unknown, id: SchemaRef): PoisonMessageError | RegistryUnavailableError {
  if (error instanceof RestError && error.status === 404) {
    return poison(
      'unknown_schema_id',
      `schema registry has no schema ${id.label}`,
      'check that the producer and driftwatch use the same schema registry',
    )
  }
  const status = error instanceof RestError ? `HTTP ${error.status}` : safeMessage(error)
  return new RegistryUnavailableError(
    `schema registry unavailable while resolving schema ${id.label}: ${status}`,
    {
      cause: error,
      fix: 'check schema_registry.url, credentials and that the registry is up; ingestion resumes by itself',
    },
  )
}

function syntaxErrorPosition(error: unknown): string {
  const match = /position (\d+)/.exec(error instanceof Error ? error.message : '')
  return match ? ` (syntax error at character ${match[1]})` : ''
}

/** An error's message without quoted excerpts of the payload (V8's JSON errors quote it). */
function safeMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.replace(/"[^"]*"/g, '"…"').slice(0, 200)
}

function formatGuid(bytes: Buffer, offset: number): string {
  const h = bytes.subarray(offset, offset + 16).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const hex = (byte: number) => byte.toString(16).padStart(2, '0')
