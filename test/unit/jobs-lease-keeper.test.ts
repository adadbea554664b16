// keepLease tells its process when a held lease is lost (another holder took it, or the store
// stopped answering), once per loss, and says at start which process holds it.
import { describe, expect, it } from 'vitest'
import { type JobLease, keepLease, type LeaseState } from '../../jobs/lease.ts'
import { createLogger } from '../../lib/log.ts'

function scriptedLease(answers: Array<boolean | Error>): JobLease {
  let i = 0
  return {
    holder: 'me',
    takenFrom: undefined,
    held: () => false,
    async acquire() {
      const a = answers[Math.min(i++, answers.length - 1)]!
      if (a instanceof Error) throw a
      return a
    },
    state: async (): Promise<LeaseState> => ({ term: 1, holder: 'other', expiresMs: 0, free: false }),
    release: async () => {},
  }
}

async function keep(
  answers: Array<boolean | Error>,
  rounds: number,
): Promise<{ lost: number; lines: string[] }> {
  const lines: string[] = []
  const log = createLogger({ level: 'info', write: (line: string) => void lines.push(line) })
  const controller = new AbortController()
  let lost = 0
  let calls = 0
  const lease = scriptedLease(answers)
  const counting: JobLease = {
    ...lease,
    acquire: async (s) => {
      if (++calls >= rounds) controller.abort()
      return lease.acquire(s)
    },
  }
  await keepLease({ lease: counting, log, signal: controller.signal, intervalMs: 1, onLost: () => lost++ })
  return { lost, lines }
}

describe('keepLease', () => {
  it('calls onLost once per loss: to another holder, and to an unreachable store', async () => {
    expect(
      (await keep([true, true, false, false, true, new Error('down'), new Error('down'), false], 8)).lost,
    ).toBe(2)
  })

  it('never calls onLost for a lease it never held, and says at once who holds it', async () => {
    const { lost, lines } = await keep([false, new Error('down'), false], 3)
    expect(lost).toBe(0)
    expect(lines[0]).toMatch(/job lease held by another process/)
  })
})
