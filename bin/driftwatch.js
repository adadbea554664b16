#!/usr/bin/env node
// Entry point of the `driftwatch` command: runs the TypeScript CLI through tsx,
// so there is no build step between a checkout and a working command.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
// The command has returned: everything it owns is stopped and closed. A library timer left
// behind (kafkajs restarts a crashed consumer ~300 ms later, e.g. after a disconnect that
// timed out on a restarted broker) must not keep the process alive; an unref'd timer only
// fires if something else still holds the event loop.
setTimeout(() => process.exit(), 5_000).unref()
