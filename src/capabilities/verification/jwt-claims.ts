import { epochSeconds, isoSeconds } from '../../kernel/time.js'
import { isObject } from '../../kernel/json.js'
import { issuerId, validFrom, validUntil } from './credential-fields.js'

/**
 * The credential inside a VC-JWT, and whether the registered claims agree
 * with it. A VCDM 2.0 payload is the credential itself plus claims; VCDM 1.1
 * carries it in the `vc` claim.
 */

type Json = Record<string, unknown>

const REGISTERED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'cnf']

/** A NumericDate claim as an RFC 3339 date, when it is a sane number of seconds. */
function claimDate (value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined
  const ms = Math.floor(value) * 1000
  return Math.abs(ms) <= 8.64e15 ? isoSeconds(new Date(ms)) : undefined
}

/**
 * The credential a VC-JWT payload carries. Where the credential has no dates
 * of its own, `nbf` and `exp` stand for them (VC-JWT 1.1 says they replace
 * issuanceDate and expirationDate), so a token's expiry is never ignored.
 */
export function credentialFromPayload (payload: Json): Json {
  const v1 = isObject(payload.vc)
  const credential = v1
    ? structuredClone(payload.vc as Json)
    : Object.fromEntries(Object.entries(payload).filter(([name]) => !REGISTERED_CLAIMS.includes(name)))
  const [fromName, untilName] = v1 ? ['issuanceDate', 'expirationDate'] : ['validFrom', 'validUntil']
  if (v1) {
    // VC-JWT 1.1 lets the claims stand in for the properties they replace.
    if (credential.issuer === undefined && typeof payload.iss === 'string') credential.issuer = payload.iss
    if (credential.id === undefined && typeof payload.jti === 'string') credential.id = payload.jti
    const subject = credential.credentialSubject
    if (isObject(subject) && (subject as Json).id === undefined && typeof payload.sub === 'string') (subject as Json).id = payload.sub
  }
  const nbf = claimDate(payload.nbf)
  const exp = claimDate(payload.exp)
  if (validFrom(credential) === undefined && nbf !== undefined) credential[fromName] = nbf
  if (validUntil(credential) === undefined && exp !== undefined) credential[untilName] = exp
  return credential
}

const seconds = (iso: string | undefined): number | undefined => iso === undefined ? undefined : epochSeconds(iso)

/** Every way the JWT claims contradict the credential; empty when they agree. */
export function claimDisagreements (payload: Json, credential: Json): string[] {
  const problems: string[] = []
  const issuer = issuerId(credential)
  if (payload.iss !== undefined && payload.iss !== issuer) problems.push(`"iss" (${String(payload.iss)}) is not the issuer id (${issuer ?? 'none'}).`)
  if (payload.jti !== undefined && credential.id !== undefined && payload.jti !== credential.id) problems.push(`"jti" (${String(payload.jti)}) is not the credential id (${String(credential.id)}).`)
  // OB 3.0 §8.2.4.1: "sub" represents the credentialSubject's id. A token without "sub" is not refused
  // (1EdTech's own valid samples have none); one that names another subject is.
  const subject = credential.credentialSubject
  const subjectId = isObject(subject) ? (subject as Json).id : undefined
  if (payload.sub !== undefined && subjectId !== undefined && payload.sub !== subjectId) problems.push(`"sub" (${String(payload.sub)}) is not the credentialSubject's id (${String(subjectId)}).`)
  const pairs: Array<[string, string | undefined, string]> = [['nbf', validFrom(credential), 'validFrom'], ['exp', validUntil(credential), 'validUntil']]
  for (const [claim, date, property] of pairs) {
    const value = payload[claim]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.push(`"${claim}" (${JSON.stringify(value)}) must be a number of seconds (a JWT NumericDate).`)
      continue
    }
    if (date === undefined) continue
    const expected = seconds(date)
    if (expected === undefined || Math.floor(value) !== expected) {
      problems.push(`"${claim}" (${String(value)}) does not match "${property}" (${date}).`)
    }
  }
  return problems
}
