import { describe, expect, it } from 'vitest'
import { loadMigrations, splitStatements } from '../../store/migrate.ts'

describe('migrations', () => {
  it('are numbered in increasing order and parse into statements', () => {
    const migrations = loadMigrations()
    expect(migrations.length).toBeGreaterThanOrEqual(2)
    // Numbers are reserved per feature branch (e.g. 006 and 009 for experiments / shadow and
    // replay while 007 and 008 land elsewhere), so a branch may briefly have a gap; order and
    // uniqueness are what the runner relies on.
    migrations.forEach((m, i) => {
      expect(m.version).toBeGreaterThan(i === 0 ? 0 : migrations[i - 1]!.version)
      expect(m.statements.length).toBeGreaterThan(0)
      for (const s of m.statements) expect(s).toMatch(/IF NOT EXISTS|ALTER TABLE .* IF NOT EXISTS/i)
    })
  })

  it('splits on semicolons at line ends and drops comments', () => {
    expect(
      splitStatements("-- a comment; here\nCREATE TABLE a (x String DEFAULT ';');\nSELECT 1;\n"),
    ).toEqual(["CREATE TABLE a (x String DEFAULT ';')", 'SELECT 1'])
  })
})
