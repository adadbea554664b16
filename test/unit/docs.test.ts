// The docs name only what exists: every dead-letter reason, CLI command and repository path
// named in README.md and docs/*.md is checked against the code's reason list, the CLI's
// command registry and the files on disk; and every dead-letter reason is documented.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { COMMAND_NAMES } from '../../cli/main.ts'
import { DEAD_LETTER_REASONS } from '../../contract/decode.ts'

const repo = resolve(import.meta.dirname, '../..')
const docFiles = ['README.md', ...readdirSync(join(repo, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
)
const docs = docFiles.map((file) => ({ file, text: readFileSync(join(repo, file), 'utf8') }))
const topLevelDirs = new Set(
  readdirSync(repo).filter(
    (name) => !name.startsWith('.') && name !== 'node_modules' && statSync(join(repo, name)).isDirectory(),
  ),
)

/** Inline code spans and fenced code lines: where commands and paths are written. */
function codeSpans(text: string): string[] {
  const spans: string[] = []
  const fences = text.split(/^```.*$/m)
  fences.forEach((part, i) => {
    if (i % 2 === 1) spans.push(...part.split('\n'))
    else for (const m of part.matchAll(/`([^`\n]+)`/g)) spans.push(m[1]!)
  })
  return spans
}

/** Names that a file path or a glob (`*` within one segment) matches on disk. */
function pathExists(path: string): boolean {
  const clean = path.replace(/\/$/, '')
  if (!clean.includes('*')) return existsSync(join(repo, clean))
  const dir = dirname(clean)
  if (dir.includes('*') || !existsSync(join(repo, dir))) return false
  const pattern = new RegExp(
    `^${clean
      .slice(dir.length + 1)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')}$`,
  )
  return readdirSync(join(repo, dir)).some((name) => pattern.test(name))
}

function namedIn<T>(find: (doc: { file: string; text: string }) => T[]): Array<{ file: string; name: T }> {
  return docs.flatMap((doc) => find(doc).map((name) => ({ file: doc.file, name })))
}

describe('docs match the code', () => {
  it('every dead-letter reason named is one the code uses, and every one the code uses is named', () => {
    const named = namedIn(({ text }) => {
      const found = [...text.matchAll(/dead-lettered as `([a-z_]+)`/g)].map((m) => m[1]!)
      for (const list of text.matchAll(/Dead-letter reasons \(`dlq\.reason`\):([^.]*)\./g))
        found.push(...[...list[1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!))
      return found
    })
    expect(named.length).toBeGreaterThanOrEqual(DEAD_LETTER_REASONS.length)
    const known = new Set<string>(DEAD_LETTER_REASONS)
    expect(named.filter((n) => !known.has(n.name))).toEqual([])
    const documented = new Set(named.map((n) => n.name))
    expect(DEAD_LETTER_REASONS.filter((r) => !documented.has(r))).toEqual([])
  })

  it('every `driftwatch <command>` named is a registered command, and every command is in the README', () => {
    const named = namedIn(({ text }) =>
      codeSpans(text).flatMap((span) =>
        [...span.matchAll(/(?:^|[\s$(])driftwatch ([a-z][a-z-]*)/g)].map((m) => m[1]!),
      ),
    )
    expect(named.length).toBeGreaterThan(10)
    const known = new Set(COMMAND_NAMES)
    expect(named.filter((n) => !known.has(n.name))).toEqual([])
    const readme = new Set(named.filter((n) => n.file === 'README.md').map((n) => n.name))
    expect(COMMAND_NAMES.filter((c) => !readme.has(c))).toEqual([])
  })

  it('every repository path named (code spans and links) exists', () => {
    const named = namedIn(({ file, text }) => {
      const paths = codeSpans(text)
        .flatMap((span) => span.split(/[\s,;()'"=]+/))
        .filter((token) => /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.*-]+)+\/?$/.test(token))
        .filter((token) => topLevelDirs.has(token.split('/')[0]!))
      for (const link of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = link[1]!
        if (/^[a-z]+:/.test(target)) continue
        paths.push(relative(repo, resolve(repo, dirname(file), target)))
      }
      return paths
    })
    expect(named.length).toBeGreaterThan(20)
    expect(named.filter((n) => !pathExists(n.name))).toEqual([])
  })
})
