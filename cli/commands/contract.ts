// driftwatch contract print --format json-schema|avro|proto: the interaction contract as
// producers in other languages need it. All three are generated from the same field table as
// the zod schema (contract/interaction.ts), so they cannot drift from what ingest accepts.

import { interactionAvroSchema } from '../../contract/avro.ts'
import { interactionJsonSchema } from '../../contract/json-schema.ts'
import { INTERACTION_PROTO } from '../../contract/protobuf.ts'
import { ConfigError } from '../../lib/errors.ts'
import { choiceFlag, parseCommandArgs } from '../args.ts'
import type { Command } from '../io.ts'

export const CONTRACT_FORMATS = ['json-schema', 'avro', 'proto'] as const
export type ContractFormat = (typeof CONTRACT_FORMATS)[number]

const USAGE = 'driftwatch contract print [--format json-schema|avro|proto]'

const HELP = `${USAGE}

Prints the interaction contract (one LLM interaction, the Kafka message driftwatch ingests):
  json-schema  JSON Schema (draft 2020-12) of the plain-JSON message (default)
  avro         the Avro record schema, for Confluent-framed Avro
  proto        the .proto file (package driftwatch.v1), for Confluent-framed Protobuf
`

export function contractText(format: ContractFormat): string {
  if (format === 'proto') return INTERACTION_PROTO
  const schema = format === 'avro' ? interactionAvroSchema : interactionJsonSchema
  return `${JSON.stringify(schema, null, 2)}\n`
}

export const contractCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    'contract',
    argv,
    { format: { type: 'string', short: 'f' } },
    USAGE,
  )
  if (values.help) {
    io.stdout(HELP)
    return 0
  }
  if (positionals.length !== 1 || positionals[0] !== 'print') {
    throw new ConfigError(
      `driftwatch contract: expected the sub-command print, got ${JSON.stringify(positionals.join(' '))}`,
      { fix: `usage: ${USAGE}` },
    )
  }
  io.stdout(contractText(choiceFlag('format', values.format, CONTRACT_FORMATS, 'json-schema')))
  return 0
}
