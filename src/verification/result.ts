/**
 * The verification result document: the public contract of both the domain
 * function and the HTTP route. The overall status is derived from the checks
 * and never set by hand, so a new check cannot silently weaken the verdict.
 */

export type CheckId = 'format' | 'schema' | 'proof' | 'key_binding' | 'validity_period' | 'status'
export type CheckOutcome = 'passed' | 'failed' | 'unknown'

export interface Check {
  id: CheckId
  result: CheckOutcome
  message: string
  /** Which failure a `failed` check stands for; only validity_period and status use it. */
  reason?: 'expired' | 'not_yet_valid' | 'revoked' | 'suspended'
}

export type VerificationStatus = 'valid' | 'expired' | 'not_yet_valid' | 'revoked' | 'invalid' | 'indeterminate'

export interface CredentialSummary {
  id?: string
  issuer?: { id?: string, name?: string }
  achievement?: { id?: string, name?: string, achievementType?: string }
  recipient?: { name?: string }
  validFrom?: string
  validUntil?: string
}

export interface CheckError { id: CheckId, message: string }

export interface VerificationResult {
  verified: boolean
  status: VerificationStatus
  expired: boolean
  revoked: boolean
  notice?: string
  checks: Check[]
  credential: CredentialSummary
  checkedAt: string
  errors: CheckError[]
  warnings: string[]
}

export const passed = (id: CheckId, message: string): Check => ({ id, result: 'passed', message })
export const failed = (id: CheckId, message: string, reason?: Check['reason']): Check =>
  reason === undefined ? { id, result: 'failed', message } : { id, result: 'failed', message, reason }
export const unknown = (id: CheckId, message: string): Check => ({ id, result: 'unknown', message })

/** A check that did not run because an earlier one made it meaningless. */
export const skipped = (id: CheckId, because: CheckId): Check =>
  unknown(id, `Not checked because the "${because}" check did not pass.`)

/**
 * The most serious outcome wins: invalid, revoked, expired, not_yet_valid,
 * indeterminate. Any `unknown` with no failure is indeterminate, never valid:
 * a verifier that cannot finish must fail closed.
 */
export function deriveStatus (checks: readonly Check[]): VerificationStatus {
  const failures = checks.filter((c) => c.result === 'failed')
  const reasons = new Set(failures.map((c) => c.reason))
  if (failures.some((c) => c.reason === undefined)) return 'invalid'
  if (reasons.has('revoked')) return 'revoked'
  // A suspension is temporary, so it is not "revoked"; the enum has no better
  // word than invalid for "do not trust this now", and the notice says why.
  if (reasons.has('suspended')) return 'invalid'
  if (reasons.has('expired')) return 'expired'
  if (reasons.has('not_yet_valid')) return 'not_yet_valid'
  if (checks.some((c) => c.result === 'unknown')) return 'indeterminate'
  return 'valid'
}
