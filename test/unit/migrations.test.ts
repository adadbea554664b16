import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadMigrations, MIGRATIONS_DIR, splitStatements } from '../../store/migrate.ts'
import { tokenize } from '../../store/sql-tokens.ts'

describe('migrations', () => {
  // Numbers are handed out per branch (007 may land before 006), so: increasing, not gapless.
  it('are numbered in increasing order from 1 and parse into statements', () => {
    const migrations = loadMigrations()
    expect(migrations.length).toBeGreaterThanOrEqual(2)
    expect(migrations[0]!.version).toBe(1)
    migrations.forEach((m, i) => {
      if (i > 0) expect(m.version).toBeGreaterThan(migrations[i - 1]!.version)
      expect(m.statements.length).toBeGreaterThan(0)
      for (const s of m.statements) expect(s).toMatch(/IF NOT EXISTS|ALTER TABLE .* IF NOT EXISTS/i)
    })
  })

  it('splits on semicolons at line ends and drops comments', () => {
    expect(
      splitStatements("-- a comment; here\nCREATE TABLE a (x String DEFAULT ';');\nSELECT 1;\n"),
    ).toEqual(["CREATE TABLE a (x String DEFAULT ';')", 'SELECT 1'])
  })

  // The line-based splitter cut a statement at a `;` ending a line inside a string literal.
  it('does not split at a semicolon inside a string, a quoted name or a comment', () => {
    const sql =
      "CREATE TABLE a (x String DEFAULT 'one;\ntwo', `y;` UInt8 /* z;\n */) ENGINE = Log; -- tail;\nSELECT 2"
    expect(splitStatements(sql)).toEqual([
      "CREATE TABLE a (x String DEFAULT 'one;\ntwo', `y;` UInt8) ENGINE = Log",
      'SELECT 2',
    ])
  })

  it('drops a comment line with its line, and a trailing comment with the spaces before it', () => {
    expect(
      splitStatements('CREATE TABLE a (\n  x UInt8, -- why x\n  -- a whole line\n  y UInt8\n);'),
    ).toEqual(['CREATE TABLE a (\n  x UInt8,\n  y UInt8\n)'])
  })

  it('tokenizes every migration losslessly', () => {
    for (const file of readdirSync(MIGRATIONS_DIR)) {
      const text = readFileSync(join(MIGRATIONS_DIR, file), 'utf8')
      expect(
        tokenize(text)
          .map((t) => t.text)
          .join(''),
      ).toBe(text)
    }
    expect(() => tokenize("SELECT 'open")).toThrow(/unterminated string at offset 7/)
  })
})
