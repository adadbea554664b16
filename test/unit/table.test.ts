import { describe, expect, it } from 'vitest'
import { renderTable } from '../../cli/table.ts'

describe('renderTable', () => {
  it('aligns text left and numbers right, and counts rows', () => {
    const text = renderTable('["segment","n"]\n["invoice_extraction",12]\n["code",3456]\n')
    expect(text).toBe(
      [
        'segment                n',
        '------------------  ----',
        'invoice_extraction    12',
        'code                3456',
        '(2 rows)',
        '',
      ].join('\n'),
    )
  })

  it('shows NULL and escapes newlines', () => {
    expect(renderTable('["a"]\n[null]\n["x\\ny"]\n')).toContain('x\\ny')
    expect(renderTable('["a"]\n[null]\n')).toContain('NULL')
  })
})
