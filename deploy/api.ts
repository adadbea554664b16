// One interface over the deployments history, whichever side holds the store: this process
// (storeDeployments) or the running instance that owns the embedded store, over its local
// HTTP endpoint (httpDeployments in http-client.ts). The CLI picks one; the code using it
// does not care.

import type { Store } from '../store/store.ts'
import {
  deploymentHistory,
  detectNewVersions,
  lastStable,
  listDeployments,
  type MarkOptions,
  markDeployment,
} from './deployments.ts'
import type { Deployment, DeploymentChange, MarkResult, MarkStatus } from './status.ts'

export type MarkRequest = Pick<MarkOptions, 'note' | 'by' | 'force'>

export interface DeploymentsApi {
  detect(): Promise<Deployment[]>
  list(): Promise<Deployment[]>
  history(version?: string): Promise<DeploymentChange[]>
  mark(version: string, status: MarkStatus, request?: MarkRequest): Promise<MarkResult>
  lastStable(excluding?: string): Promise<Deployment | undefined>
}

export function storeDeployments(store: Store): DeploymentsApi {
  return {
    detect: () => detectNewVersions(store),
    list: () => listDeployments(store),
    history: (version) => deploymentHistory(store, version),
    mark: (version, status, request = {}) => markDeployment(store, version, status, request),
    lastStable: (excluding) => lastStable(store, { excluding }),
  }
}
