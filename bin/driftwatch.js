#!/usr/bin/env node
// Entry point of the `driftwatch` command: runs the TypeScript CLI through tsx,
// so there is no build step between a checkout and a working command.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
