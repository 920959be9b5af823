import { isObject, issuerId, validFrom, validUntil } from './credential-fields.js'

/**
 * The credential inside a VC-JWT, and whether the registered claims agree
 * with it. A VCDM 2.0 payload is the credential itself plus claims; VCDM 1.1
 * carries it in the `vc` claim.
 */

type Json = Record<string, unknown>

const REGISTERED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'cnf']

/** The credential a VC-JWT payload carries. */
export function credentialFromPayload (payload: Json): Json {
  if (isObject(payload.vc)) {
    const credential = structuredClone(payload.vc)
    // VC-JWT 1.1 lets the claims stand in for the properties they replace.
    if (credential.issuer === undefined && typeof payload.iss === 'string') credential.issuer = payload.iss
    if (credential.id === undefined && typeof payload.jti === 'string') credential.id = payload.jti
    return credential
  }
  return Object.fromEntries(Object.entries(payload).filter(([name]) => !REGISTERED_CLAIMS.includes(name)))
}

const seconds = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

/** Every way the JWT claims contradict the credential; empty when they agree. */
export function claimDisagreements (payload: Json, credential: Json): string[] {
  const problems: string[] = []
  const issuer = issuerId(credential)
  if (payload.iss !== undefined && payload.iss !== issuer) problems.push(`"iss" (${String(payload.iss)}) is not the issuer id (${issuer ?? 'none'}).`)
  if (payload.jti !== undefined && credential.id !== undefined && payload.jti !== credential.id) problems.push(`"jti" (${String(payload.jti)}) is not the credential id (${String(credential.id)}).`)
  const pairs: Array<[string, string | undefined, string]> = [['nbf', validFrom(credential), 'validFrom'], ['exp', validUntil(credential), 'validUntil']]
  for (const [claim, date, property] of pairs) {
    const value = payload[claim]
    if (value === undefined || date === undefined) continue
    const expected = seconds(date)
    if (typeof value !== 'number' || expected === undefined || Math.floor(value) !== expected) {
      problems.push(`"${claim}" (${String(value)}) does not match "${property}" (${date}).`)
    }
  }
  return problems
}
