// A lexer for ClickHouse SQL, just enough to edit DDL safely: it tells words from string
// literals, quoted identifiers and comments, and keeps every character, so joining the
// tokens' text gives the input back byte for byte. Callers find clauses (ENGINE, SETTINGS)
// on the significant tokens and splice text at token offsets, never by regex over the SQL.

import { StoreError } from '../lib/errors.ts'

export type TokenKind =
  /** Spaces, tabs, newlines. */
  | 'space'
  /** `-- ...` to the end of the line, or `/* ... *\/`. */
  | 'comment'
  /** A bare identifier or keyword: letters, digits, `_`, `$`, not starting with a digit. */
  | 'word'
  /** `` `name` `` or `"name"`. */
  | 'quoted'
  /** `'text'`, with `\'` and `''` escapes. */
  | 'string'
  | 'number'
  /** Any other single character: ( ) , ; . = + - * / < > ! : [ ] { } ? ... */
  | 'punct'

export interface Token {
  kind: TokenKind
  text: string
  /** Offset of the first character in the input. */
  start: number
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end), start: i })
    i = end
  }
  while (i < sql.length) {
    const c = sql[i]!
    if (/\s/.test(c)) {
      let end = i + 1
      while (end < sql.length && /\s/.test(sql[end]!)) end++
      push('space', end)
    } else if (c === '-' && sql[i + 1] === '-') {
      const newline = sql.indexOf('\n', i)
      push('comment', newline === -1 ? sql.length : newline)
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2)
      if (close === -1) throw unterminated('comment', sql, i)
      push('comment', close + 2)
    } else if (c === "'" || c === '`' || c === '"') {
      push(c === "'" ? 'string' : 'quoted', quotedEnd(sql, i))
    } else if (/[0-9]/.test(c)) {
      let end = i + 1
      while (end < sql.length) {
        const d = sql[end]!
        const signOfExponent =
          (d === '+' || d === '-') && /[eE]/.test(sql[end - 1]!) && !/^0x/i.test(sql.slice(i, end))
        if (!/[0-9A-Za-z_.]/.test(d) && !signOfExponent) break
        end++
      }
      push('number', end)
    } else if (/[A-Za-z_$]/.test(c)) {
      let end = i + 1
      while (end < sql.length && /[A-Za-z0-9_$]/.test(sql[end]!)) end++
      push('word', end)
    } else {
      push('punct', i + 1)
    }
  }
  return tokens
}

/** End (exclusive) of the quoted token opening at `start`: backslash escapes and doubled quotes. */
function quotedEnd(sql: string, start: number): number {
  const quote = sql[start]!
  let j = start + 1
  while (j < sql.length) {
    const d = sql[j]!
    if (d === '\\') j += 2
    else if (d === quote && sql[j + 1] === quote) j += 2
    else if (d === quote) return j + 1
    else j++
  }
  throw unterminated(quote === "'" ? 'string' : 'quoted identifier', sql, start)
}

function unterminated(what: string, sql: string, at: number): StoreError {
  return new StoreError('SQL_TOKENS', `unterminated ${what} at offset ${at}: ${sql.slice(at, at + 40)}`, {
    fix: `close the ${what} in the SQL`,
  })
}

/** Tokens that carry meaning: no spaces, no comments. */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment')
}

/** A word token equal to `keyword`, case-insensitively (SQL keywords are). */
export function isWord(token: Token | undefined, keyword: string): boolean {
  return token?.kind === 'word' && token.text.toUpperCase() === keyword.toUpperCase()
}

/** An identifier's name: a bare word as written, a quoted one without its quotes and escapes. */
export function identifierName(token: Token): string {
  if (token.kind !== 'quoted') return token.text
  const quote = token.text[0]!
  return token.text.slice(1, -1).replaceAll(`${quote}${quote}`, quote).replace(/\\(.)/g, '$1')
}

/**
 * Splits a script into statements at `;` tokens (never inside strings, quoted names or
 * comments) and drops the comments: a comment line goes with its line, a comment after code
 * with the spaces before it. Statements come back trimmed; empty ones are dropped.
 */
export function splitStatementTexts(sql: string): string[] {
  const statements: string[] = []
  let current = ''
  let dropNewline = false
  for (const token of tokenize(sql)) {
    let text = token.text
    if (dropNewline && token.kind === 'space' && text.startsWith('\n')) text = text.slice(1)
    dropNewline = false
    if (token.kind === 'punct' && text === ';') {
      statements.push(current)
      current = ''
    } else if (token.kind === 'comment') {
      // Indentation before the comment goes; so does the newline ending a comment-only line.
      current = current.replace(/[ \t]*$/, '')
      dropNewline = current === '' || current.endsWith('\n')
    } else current += text
  }
  statements.push(current)
  return statements.map((s) => s.trim()).filter(Boolean)
}
