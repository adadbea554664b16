import { describe, expect, it } from 'vitest'
import { loadMigrations, splitStatements } from '../../store/migrate.ts'

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
})
