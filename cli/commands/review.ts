// driftwatch review: the human-in-the-loop side of scoring.
//   review export --format csv|jsonl [--out FILE]   queued samples to label (blind by default)
//   review import FILE                              labels back in, every line validated first
//   review stats                                    judge-vs-human agreement (Cohen's kappa)

import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../../lib/errors.ts'
import { exportReview, type ReadRows } from '../../review/export.ts'
import { formatFromName, importLabels } from '../../review/import.ts'
import { reviewStats } from '../../review/stats.ts'
import { migrate } from '../../store/migrate.ts'
import { choiceFlag, intFlag, parseCommandArgs } from '../args.ts'
import { type AppContext, appContext, openStore } from '../context.ts'
import type { CliIO, Command } from '../io.ts'
import { renderTable } from '../table.ts'
import { runReadOnly } from './sql.ts'

const USAGE = `driftwatch review export --format csv|jsonl [--out FILE] [--all] [--with-scores] [--scorer-version V] [--limit N]
driftwatch review import FILE [--format csv|jsonl] [--reviewer NAME]
driftwatch review stats [--scorer-version V] [--format table|json]
  flags: --config FILE`

export const reviewCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    'review',
    argv,
    {
      format: { type: 'string', short: 'f' },
      out: { type: 'string', short: 'o' },
      all: { type: 'boolean' },
      'with-scores': { type: 'boolean' },
      'scorer-version': { type: 'string' },
      limit: { type: 'string' },
      reviewer: { type: 'string' },
    },
    USAGE,
  )
  if (values.help) {
    io.stdout(`${USAGE}\n`)
    return 0
  }
  const [sub, ...rest] = positionals
  const ctx = appContext(io, values.config)
  const read = readRows(ctx)
  switch (sub) {
    case 'export': {
      if (values.format === undefined)
        throw new ConfigError('driftwatch review export needs --format', {
          fix: 'pass --format csv or --format jsonl',
        })
      const format = choiceFlag('format', values.format, ['csv', 'jsonl'] as const, 'csv')
      const { text, rows } = await exportReview(read, {
        format,
        all: values.all,
        withScores: values['with-scores'],
        scorerVersion: values['scorer-version'],
        limit: intFlag('limit', values.limit, { min: 1 }),
      })
      if (values.out) {
        writeFileSync(resolve(io.cwd, values.out), text)
        io.stderr(`review: ${rows} samples written to ${values.out}\n`)
      } else {
        io.stdout(text)
        io.stderr(`review: ${rows} samples\n`)
      }
      return 0
    }
    case 'import':
      return importCommand(ctx, io, rest, values.format, values.reviewer)
    case 'stats': {
      const format = choiceFlag('format', values.format, ['table', 'json'] as const, 'table')
      const rows = await reviewStats(read, values['scorer-version'] ?? '')
      if (format === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`)
      else if (rows.length === 0)
        io.stdout('no human labels yet: driftwatch review export, label, then driftwatch review import\n')
      else {
        const header = Object.keys(rows[0]!)
        io.stdout(
          renderTable(
            [JSON.stringify(header), ...rows.map((r) => JSON.stringify(Object.values(r)))].join('\n'),
          ),
        )
      }
      return 0
    }
    default:
      throw new ConfigError(
        `driftwatch review: ${sub ? `unknown sub-command ${JSON.stringify(sub)}` : 'name a sub-command'}`,
        { fix: `usage:\n${USAGE}` },
      )
  }
}

async function importCommand(
  ctx: AppContext,
  io: CliIO,
  files: string[],
  formatFlag: string | undefined,
  reviewerFlag: string | undefined,
) {
  if (files.length !== 1)
    throw new ConfigError('driftwatch review import: name exactly one file', {
      fix: 'e.g. driftwatch review import labels.csv',
    })
  const file = resolve(io.cwd, files[0]!)
  const format = formatFlag
    ? choiceFlag('format', formatFlag, ['csv', 'jsonl'] as const, 'csv')
    : formatFromName(file)
  if (!format)
    throw new ConfigError(`cannot tell the format of ${files[0]} from its name`, {
      fix: 'name it .csv or .jsonl, or pass --format',
    })
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`, {
      fix: 'pass an existing file',
      cause: error,
    })
  }
  // Writes need the store itself: with the embedded store, not while another process owns it.
  const store = await openStore(ctx)
  try {
    await migrate(store, ctx.log)
    const reviewer = reviewerFlag ?? io.env.USER ?? 'unknown'
    const result = await importLabels(store, file, text, { format, reviewer, now: Date.now() })
    io.stdout(
      `review: imported ${result.labels} labels from ${result.lines} lines (${result.unlabelled} lines had no label)\n`,
    )
    return 0
  } finally {
    await store.close()
  }
}

/** Read-only queries through the running instance when there is one, else the store. */
function readRows(ctx: AppContext): ReadRows {
  return async (sql, params) => {
    const text = await runReadOnly(ctx, sql, params, 'JSONEachRow')
    return text
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}
