import { describe, expect, it } from 'vitest'
import { loadMigrations, splitStatements } from '../../store/migrate.ts'

describe('migrations', () => {
  it('are numbered without gaps in naming and parse into statements', () => {
    const migrations = loadMigrations()
    expect(migrations.length).toBeGreaterThanOrEqual(2)
    migrations.forEach((m, i) => {
      expect(m.version).toBe(i + 1)
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
