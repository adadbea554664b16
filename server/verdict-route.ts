// GET /verdict?version=V: pass | fail | inconclusive with the numbers behind it, read from
// the persisted rule states. Shaped for an Argo Rollouts web metric (see docs/rollouts.md).

import { loadRuleStates } from '../jobs/evaluate/state-store.ts'
import { ConfigError } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import { computeVerdict } from '../rules/verdict.ts'
import type { Store } from '../store/store.ts'
import type { Route } from './http.ts'

export function verdictRoute(store: Store, ruleNames: () => readonly string[], log?: Logger): Route {
  return async (request) => {
    const version = request.query.get('version')
    if (!version)
      throw new ConfigError('GET /verdict needs ?version=<model_version>', {
        fix: 'e.g. /verdict?version=v2',
      })
    const states = [...(await loadRuleStates(store, undefined, log)).values()]
    return { status: 200, body: computeVerdict(version, ruleNames(), states) }
  }
}
