// Polling waits for tests: until a condition holds, or until a probe yields a value. Both fail
// with what was awaited once the time is up (tests assert states, never durations).

/** Resolves once `check` is true; throws after `ms`. Errors from `check` fail at once. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 120_000,
): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/**
 * The first value `probe` yields (not undefined) within `timeoutMs`. A probe that throws counts
 * as "not yet" (e.g. a table a child process has not created).
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  throw new Error(`timed out waiting for ${what}`)
}
