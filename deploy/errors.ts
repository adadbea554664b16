// Typed errors of the deployments history. The code travels over the running instance's
// HTTP endpoint and is turned back into the same error class on the other side.

import { DriftwatchError, type DriftwatchErrorOptions } from '../lib/errors.ts'

export type DeploymentErrorCode = 'UNKNOWN_VERSION' | 'BAD_VERSION'

export const DEPLOYMENT_ERROR_CODES: readonly DeploymentErrorCode[] = ['UNKNOWN_VERSION', 'BAD_VERSION']

/** A mark that names a version driftwatch does not know, or no valid version at all. */
export class DeploymentError extends DriftwatchError {
  declare readonly code: DeploymentErrorCode
  constructor(code: DeploymentErrorCode, message: string, options: DriftwatchErrorOptions = {}) {
    super(code, message, { ...options, retriable: false })
  }
}

export function isDeploymentErrorCode(code: unknown): code is DeploymentErrorCode {
  return DEPLOYMENT_ERROR_CODES.includes(code as DeploymentErrorCode)
}
