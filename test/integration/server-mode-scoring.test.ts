// Server mode: a ClickHouse server takes URLs up to 1 MiB (http_max_uri_size), and
// @clickhouse/client sends query parameters in the URL. A scoring batch's request ids are such
// a parameter; long (up to 128 characters, any script) ids in a default-sized batch must not
// push a query past the limit. Runs `driftwatch jobs run refusal` against the HTTP test harness.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { type RunningHarness, serverModeCli, startHttpHarness } from '../helpers/harness.ts'

const ROWS = 1_500

let harness: RunningHarness
beforeAll(async () => {
  harness = await startHttpHarness()
})
afterAll(async () => {
  await harness?.stop()
})

describe('server mode: scoring batches of long request ids', () => {
  it('scores every row when the batch ids would take a URL past 1 MiB in one query', async () => {
    const { env, client } = serverModeCli(harness, 'srvscore', 'jobs:\n  settle_seconds: 0\n')
    expect((await runCli(['migrate'], env)).code).toBe(0)
    try {
      // 124-character ids of a two-byte letter: ~750 bytes each once URL-encoded.
      await client.command({
        query: `INSERT INTO interactions (request_id, timestamp, user_id, variant_id, model_name, model_version,
                  system_prompt_version, segment, modality, user_input, model_output, latency_ms,
                  prompt_tokens, completion_tokens, status)
                SELECT concat(repeat('é', 120), leftPad(toString(number), 4, '0')), now64(3) - 60, 'u', 'control',
                       'm', 'v1', 'p1', 'support', 'text', 'hello',
                       if(number % 10 = 0, 'I cannot help with that.', 'Sure, here it is.'), 100, 1, 1, 'ok'
                  FROM numbers(${ROWS})`,
      })
      const run = await runCli(['jobs', 'run', 'refusal'], env)
      expect(run.stdout, run.stderr.slice(-1500)).toMatch(/^refusal\s+ok\s+1,?500\/1,?500 rows/m)
      expect(run.code).toBe(0)
      const result = await client.query({
        query:
          "SELECT count() AS n, countIf(label = 'refusal') AS refusals FROM scores WHERE metric = 'refusal'",
        format: 'JSONEachRow',
      })
      expect(await result.json()).toEqual([{ n: String(ROWS), refusals: String(ROWS / 10) }])
    } finally {
      await client.close()
    }
  })
})
