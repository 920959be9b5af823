import { compactVerify, decodeProtectedHeader, importSPKI } from 'jose'
import type { Check } from '../result.js'
import { failed, passed, unknown } from '../result.js'
import { idsOf, type ReadDocument } from './documents.js'

/**
 * Open Badges 2.0 signed verification: a compact JWS (RS256, the only
 * algorithm OB 2.0 names) whose payload is the assertion, signed with the
 * key at `verification.creator`: a CryptographicKey document holding
 * `publicKeyPem`. The key is the issuer's when the key document names the
 * issuer as its `owner` and the issuer's profile lists it under `publicKey`:
 * either alone could be written by anyone.
 */

type Json = Record<string, unknown>

export interface SignedChecks {
  proof: Check
  /** Passed here only means "the issuer's key"; whether the issuer is recognised is decided after. */
  keyBinding: Check
}

/** Where the signing key is: `verification.creator`, else the issuer's only listed key. */
export function creatorOf (assertion: Json, issuer: Json | undefined): string | undefined {
  const verification = assertion.verification as Json
  if (typeof verification.creator === 'string') return verification.creator
  const keys = issuer === undefined ? [] : idsOf(issuer.publicKey)
  return keys.length === 1 ? keys[0] : undefined
}

/** Verifies the JWS against the key at `creator` and binds the key to `issuer`. */
export async function checkSignedAssertion (jws: string, creator: string | undefined, issuer: Json | undefined, read: ReadDocument): Promise<SignedChecks> {
  if (creator === undefined) {
    const message = 'The signed assertion names no key ("verification.creator") and its issuer does not list exactly one "publicKey".'
    return { proof: issuer === undefined ? unknown('proof', 'The issuer profile could not be read, so the signing key is not known.') : failed('proof', message), keyBinding: issuer === undefined ? unknown('key_binding', 'The issuer profile could not be read.') : failed('key_binding', message) }
  }
  const fetched = await read(creator, 'signing key')
  if (!fetched.ok) return { proof: unknown('proof', fetched.message), keyBinding: unknown('key_binding', fetched.message) }
  const key = fetched.document
  if (typeof key.publicKeyPem !== 'string') {
    const message = `The key document at ${creator} holds no "publicKeyPem".`
    return { proof: failed('proof', message), keyBinding: failed('key_binding', message) }
  }
  return { proof: await verifyJws(jws, key.publicKeyPem, creator), keyBinding: bindKey(key, creator, issuer) }
}

async function verifyJws (jws: string, publicKeyPem: string, creator: string): Promise<Check> {
  let alg: unknown
  try {
    alg = decodeProtectedHeader(jws).alg
  } catch {
    return failed('proof', 'The JWS header cannot be read.')
  }
  if (alg !== 'RS256') return failed('proof', `The JWS is signed with "${String(alg)}"; Open Badges 2.0 signed assertions use RS256.`)
  let publicKey: CryptoKey
  try {
    publicKey = await importSPKI(publicKeyPem, 'RS256')
  } catch {
    return failed('proof', `The key at ${creator} is not a well-formed RSA public key (PEM).`)
  }
  try {
    await compactVerify(jws, publicKey, { algorithms: ['RS256'] })
    return passed('proof', `The JWS signature verifies with the key at ${creator}.`)
  } catch {
    return failed('proof', `The JWS signature does not verify with the key at ${creator}: the assertion was altered or signed with another key.`)
  }
}

function bindKey (key: Json, creator: string, issuer: Json | undefined): Check {
  if (key.id !== undefined && key.id !== creator) return failed('key_binding', `The key document at ${creator} says its "id" is "${String(key.id)}".`)
  if (issuer === undefined) return unknown('key_binding', 'The issuer profile could not be read, so whose key this is is not established.')
  const issuerId = String(issuer.id)
  if (key.owner !== issuerId) return failed('key_binding', `The key at ${creator} is owned by "${String(key.owner ?? 'nobody')}", not by the issuer "${issuerId}".`)
  if (!idsOf(issuer.publicKey).includes(creator)) return failed('key_binding', `The issuer "${issuerId}" does not list the key ${creator} under "publicKey".`)
  return passed('key_binding', `The key at ${creator} is owned by the issuer "${issuerId}", which lists it.`)
}
