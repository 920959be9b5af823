/**
 * The verification result document: the public contract of both the domain
 * function and the HTTP route. The overall status is derived from the checks
 * and never set by hand, so a new check cannot silently weaken the verdict.
 */

import type { Recognition } from '../registry/lookup.js'

export type CheckId = 'format' | 'schema' | 'proof' | 'signed_data' | 'key_binding' | 'validity_period' | 'status'
export type CheckOutcome = 'passed' | 'failed' | 'unknown'

export interface Check {
  id: CheckId
  result: CheckOutcome
  message: string
  /**
   * Which failure a `failed` check stands for (validity_period and status), or,
   * on an `unknown` key_binding, that the key was only self-asserted.
   */
  reason?: 'expired' | 'not_yet_valid' | 'revoked' | 'superseded' | 'suspended' | 'self_asserted'
}

export type VerificationStatus = 'valid' | 'expired' | 'not_yet_valid' | 'revoked' | 'superseded' | 'invalid' | 'unverified_issuer' | 'indeterminate'

export interface CredentialSummary {
  id?: string
  issuer?: { id?: string, name?: string }
  achievement?: { id?: string, name?: string, achievementType?: string }
  recipient?: { name?: string }
  validFrom?: string
  validUntil?: string
}

export interface CheckError { id: CheckId, message: string }

/**
 * Set when the credential checked is not the current version of one of this
 * service's credentials: where the current one is, and, for a corrected
 * version, when it was superseded; for a version a recertification replaced,
 * when it was renewed (its status bit stays clear: it is left to expire).
 */
export interface CurrentVersion {
  url: string
  version: number
  supersededAt?: string
  renewedAt?: string
}

export interface VerificationResult {
  verified: boolean
  status: VerificationStatus
  expired: boolean
  revoked: boolean
  notice?: string
  currentVersion?: CurrentVersion
  /**
   * The registry entry that recognised a foreign issuer, set only when the
   * key_binding check passed because of it (never for this service's own issuers).
   */
  recognisedIssuer?: Recognition
  checks: Check[]
  credential: CredentialSummary
  checkedAt: string
  errors: CheckError[]
  warnings: string[]
}

export const passed = (id: CheckId, message: string): Check => ({ id, result: 'passed', message })
export const failed = (id: CheckId, message: string, reason?: Check['reason']): Check =>
  reason === undefined ? { id, result: 'failed', message } : { id, result: 'failed', message, reason }
export const unknown = (id: CheckId, message: string, reason?: Check['reason']): Check =>
  reason === undefined ? { id, result: 'unknown', message } : { id, result: 'unknown', message, reason }

/** A check that did not run because an earlier one made it meaningless. */
export const skipped = (id: CheckId, because: CheckId): Check =>
  unknown(id, `Not checked because the "${because}" check did not pass.`)

/**
 * The most serious outcome wins: invalid, revoked, superseded (a corrected
 * version carried wrong data, or a renewed one was replaced), expired, not_yet_valid,
 * indeterminate, unverified_issuer. Any `unknown` with no failure is
 * indeterminate, never valid: a verifier that cannot finish must fail closed.
 * When the only thing not established is who controls a self-asserted key
 * (did:key, `#z6Mk…`), the answer is unverified_issuer: genuine bytes, but
 * nothing says the issuer it names really made them.
 */
export function deriveStatus (checks: readonly Check[]): VerificationStatus {
  const failures = checks.filter((c) => c.result === 'failed')
  const reasons = new Set(failures.map((c) => c.reason))
  if (failures.some((c) => c.reason === undefined)) return 'invalid'
  if (reasons.has('revoked')) return 'revoked'
  if (reasons.has('superseded')) return 'superseded'
  // A suspension is temporary, so it is not "revoked"; the enum has no better
  // word than invalid for "do not trust this now", and the notice says why.
  if (reasons.has('suspended')) return 'invalid'
  if (reasons.has('expired')) return 'expired'
  if (reasons.has('not_yet_valid')) return 'not_yet_valid'
  const unknowns = checks.filter((c) => c.result === 'unknown')
  if (unknowns.some((c) => c.reason !== 'self_asserted')) return 'indeterminate'
  if (unknowns.length > 0) return 'unverified_issuer'
  return 'valid'
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What this request verified, set by the routes that verify a submitted
     * credential: the credential's id, and whether it came as a baked badge
     * image (the usage counts read it; nothing is parsed twice for them).
     */
    verified?: { credentialId?: string, fromImage: boolean }
  }
}
