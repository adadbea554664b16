// `driftwatch contract print`: the three formats are the contract the decoder accepts, and a
// bad flag exits 2 naming it. One run as a child process (as a user runs it); the other cases
// go through the same main() in-process.
import { describe, expect, it } from 'vitest'
import { main } from '../../cli/main.ts'
import { interactionAvroSchema } from '../../contract/avro.ts'
import { interactionJsonSchema } from '../../contract/json-schema.ts'
import { INTERACTION_PROTO } from '../../contract/protobuf.ts'
import { runCli } from '../helpers/cli.ts'

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io = {
    stdout: (text: string) => {
      stdout += text
    },
    stderr: (text: string) => {
      stderr += text
    },
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
  }
  const code = await main(argv, io)
  return { code, stdout, stderr }
}

describe('driftwatch contract print', () => {
  it('prints the .proto from the real command', async () => {
    const proto = await runCli(['contract', 'print', '--format', 'proto'])
    expect(proto.code).toBe(0)
    expect(proto.stdout).toBe(INTERACTION_PROTO)
    expect(proto.stdout).toMatch(
      /^syntax = "proto3";\n\npackage driftwatch\.v1;[\s\S]*message Interaction \{[\s\S]*string request_id = 1;/,
    )
  })

  it('prints the JSON Schema (the default) and the Avro schema; refuses an unknown format or sub-command', async () => {
    const json = await run(['contract', 'print', '--format', 'json-schema'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual(interactionJsonSchema)
    expect(JSON.parse(json.stdout).required).toContain('request_id')
    expect((await run(['contract', 'print'])).stdout).toBe(json.stdout)
    const avro = await run(['contract', 'print', '--format', 'avro'])
    expect(avro.code).toBe(0)
    expect(JSON.parse(avro.stdout)).toEqual(interactionAvroSchema)
    expect(JSON.parse(avro.stdout)).toMatchObject({ type: 'record' })
    const bad = await run(['contract', 'print', '--format', 'xml'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--format must be one of json-schema, avro, proto, got "xml"/)
    const noSub = await run(['contract'])
    expect(noSub.code).toBe(2)
    expect(noSub.stderr).toMatch(/usage: driftwatch contract print/)
  })
})
