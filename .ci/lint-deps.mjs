#!/usr/bin/env node
// `npm run lint:deps`: checks the import directions in .dependency-cruiser.cjs with
// dependency-cruiser's API. (Its `depcruise` command refuses Node 20, which driftwatch supports;
// the API itself runs fine. On Node >= 22, `npx depcruise -c .dependency-cruiser.cjs <folders>`
// gives the same verdict.)
//
// usage: node .ci/lint-deps.mjs [--config FILE] [FOLDER...]
// Cruises the given folders (default: every top-level code folder) relative to the current
// directory; prints one line per violation naming the rule, the importing file and the imported
// file; exits 1 when there is any, 0 when there is none.

import { existsSync, readdirSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { cruise } from 'dependency-cruiser'
import extractDepcruiseConfig from 'dependency-cruiser/config-utl/extract-depcruise-config'
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config'

const SKIP = new Set(['node_modules', 'docs', 'prompts', 'queries'])
const args = process.argv.slice(2)
let configFile = resolve(import.meta.dirname, '../.dependency-cruiser.cjs')
const folders = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--config') configFile = resolve(args[++i] ?? '')
  else folders.push(args[i])
}
if (folders.length === 0) {
  for (const name of readdirSync('.')) {
    if (!name.startsWith('.') && !SKIP.has(name) && statSync(name).isDirectory()) folders.push(name)
  }
}

const ruleSet = await extractDepcruiseConfig(configFile)
const tsConfigFile = ruleSet.options?.tsConfig?.fileName
const tsConfig = tsConfigFile && existsSync(tsConfigFile) ? extractTSConfig(tsConfigFile) : undefined
const { options = {}, ...rules } = ruleSet
const result = await cruise(
  folders,
  {
    ...options,
    ...(tsConfig ? {} : { tsConfig: undefined }),
    validate: true,
    ruleSet: rules,
    outputType: 'json',
  },
  {},
  { tsConfig },
)
const { summary } = JSON.parse(result.output)
const errors = summary.violations.filter((v) => v.rule.severity === 'error')
for (const v of errors) {
  const via = v.cycle ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name ?? c)].join(' -> ')})` : ''
  console.error(`${v.rule.name}: ${v.from} -> ${v.to}${via}`)
  const comment = rules.forbidden?.find((r) => r.name === v.rule.name)?.comment
  if (comment) console.error(`  ${comment}`)
}
console.error(
  `dependency check: ${summary.totalCruised} modules, ${summary.totalDependenciesCruised} imports, ${errors.length} violation(s)`,
)
process.exitCode = errors.length > 0 ? 1 : 0
