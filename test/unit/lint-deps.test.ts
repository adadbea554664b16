// The import-direction check (.dependency-cruiser.cjs via .ci/lint-deps.mjs) on a small fixture
// tree laid out like the repo: every wrong arrow fails with a line naming the rule and both
// files; the same tree without the wrong arrows passes.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'

const repo = resolve(import.meta.dirname, '../..')
const script = join(repo, '.ci/lint-deps.mjs')
const config = join(repo, '.dependency-cruiser.cjs')
const dirs: string[] = []

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'driftwatch-deps-'))
  dirs.push(dir)
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

async function check(dir: string): Promise<{ code: number; stderr: string }> {
  const folders = ['stats', 'rules', 'lib', 'bench', 'consumers', 'infra', 'config', 'store', 'alerts']
  try {
    const { stderr } = await promisify(execFile)('node', [script, '--config', config, ...folders], {
      cwd: dir,
    })
    return { code: 0, stderr }
  } catch (error) {
    const e = error as { code: number; stderr: string }
    return { code: e.code, stderr: e.stderr }
  }
}

const clean = {
  'store/store.ts': 'export const store = 1\n',
  'config/schema.ts': 'export type Config = { a: number }\n',
  'cli/io.ts': 'export const io = 1\n',
  'alerts/alert.ts': 'export const alert = 1\n',
  'test/helpers/x.ts': 'export const helper = 1\n',
  'fakes/server.ts': 'export const fake = 1\n',
  'stats/mean.ts': "import { helper } from './helper.ts'\nexport const mean = helper\n",
  'stats/helper.ts': 'export const helper = 2\n',
  'lib/log.ts': 'export const log = 1\n',
  'bench/run.ts':
    "import { fake } from '../fakes/server.ts'\nimport { store } from '../store/store.ts'\nexport const run = fake + store\n",
  'consumers/ingest.ts': "import { store } from '../store/store.ts'\nexport const ingest = store\n",
  'infra/local.ts': "import { log } from '../lib/log.ts'\nexport const local = log\n",
  'rules/evaluate.ts': "import { mean } from '../stats/mean.ts'\nexport const evaluate = mean\n",
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('import directions check', () => {
  it('passes a tree whose arrows all point the allowed way', async () => {
    const result = await check(tree(clean))
    expect(result.stderr).toMatch(/0 violation\(s\)/)
    expect(result.code).toBe(0)
  })

  it('fails every wrong arrow, naming the rule, the importing file and the imported file', async () => {
    const result = await check(
      tree({
        ...clean,
        'stats/mean.ts': "import { store } from '../store/store.ts'\nexport const mean = store\n",
        'stats/read.ts': "import { readFileSync } from 'node:fs'\nexport const read = readFileSync\n",
        'rules/evaluate.ts': "import type { Kafka } from 'kafkajs'\nexport type K = Kafka\n",
        'lib/kafka.ts': "import type { Config } from '../config/schema.ts'\nexport type C = Config\n",
        'bench/run.ts': "import { helper } from '../test/helpers/x.ts'\nexport const run = helper\n",
        'consumers/ingest.ts': "import { alert } from '../alerts/alert.ts'\nexport const ingest = alert\n",
        'infra/local.ts': "import { io } from '../cli/io.ts'\nexport const local = io\n",
        'store/fake.ts': "import { fake } from '../fakes/server.ts'\nexport const f = fake\n",
        'alerts/a.ts': "import { b } from './b.ts'\nexport const a = b\n",
        'alerts/b.ts': "import { a } from './a.ts'\nexport const b = () => a\n",
      }),
    )
    expect(result.code).toBe(1)
    const lines = result.stderr.split('\n')
    for (const expected of [
      'pure-no-io: stats/mean.ts -> store/store.ts',
      /^pure-no-io: stats\/read\.ts -> (node:)?fs$/,
      /^pure-no-io: rules\/evaluate\.ts -> .*node_modules\/kafkajs\//,
      'lib-no-config: lib/kafka.ts -> config/schema.ts',
      'bench-not-test: bench/run.ts -> test/helpers/x.ts',
      'consumers-not-jobs-or-alerts: consumers/ingest.ts -> alerts/alert.ts',
      'nothing-imports-cli: infra/local.ts -> cli/io.ts',
      'no-test-code-in-production: store/fake.ts -> fakes/server.ts',
      'no-circular: alerts/a.ts -> alerts/b.ts',
    ]) {
      expect(
        lines.some((line) =>
          typeof expected === 'string' ? line.startsWith(expected) : expected.test(line),
        ),
        `${expected}\n${result.stderr}`,
      ).toBe(true)
    }
  })
})
