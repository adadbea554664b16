// Runs SQL steps in one chDB session opened with an extra server config file, in its own
// process: `node --import tsx test/helpers/chdb-session-probe.ts STEPS.json`. Used where a
// test needs server configuration the store's connection cannot take (remote_servers, macros,
// an in-memory Keeper), so the test's own process keeps its one chDB data folder.
//
// STEPS.json: { dataDir, configFile, steps: [{ sql, format? }] }. Prints one JSON line per step,
// { ok: true, text } or { ok: false, error }, then { done: true }, and ends itself with SIGKILL:
// a session holding Replicated tables without a live Keeper session does not shut down.
import { readFileSync } from 'node:fs'
import { Session } from 'chdb'

interface Steps {
  dataDir: string
  configFile: string
  steps: Array<{ sql: string; format?: string }>
}

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Steps
const session = new Session(input.dataDir, { connectionArgs: [`--config-file=${input.configFile}`] })
for (const step of input.steps) {
  let line: object
  try {
    line = { ok: true, text: session.query(step.sql, step.format ?? 'TSVRaw') }
  } catch (error) {
    line = { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
}
process.stdout.write(`${JSON.stringify({ done: true })}\n`, () => process.kill(process.pid, 'SIGKILL'))
