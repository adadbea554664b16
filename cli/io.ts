// What a CLI command gets from the outside world. Commands write results to `stdout`
// and human messages to `stderr`, and return an exit code; they never call process.exit.

export interface CliIO {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: NodeJS.ProcessEnv
  cwd: string
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly when it fires. */
  signal: AbortSignal
}

export type Command = (argv: string[], io: CliIO) => Promise<number>

export function processIO(signal: AbortSignal): CliIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    signal,
  }
}

/** Resolves when `signal` aborts (at once if it already has): a long-running command's wait. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}
