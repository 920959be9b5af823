import { createHash } from 'node:crypto'
import { isObject, type JsonObject } from '../../kernel/json.js'
import { normaliseEmail } from '../credentials/build-credential.js'
import { asArray, types } from '../verification/credential-fields.js'

/**
 * Is a credential from another issuer addressed to this holder? Read only from
 * the signed credential (after the verifier passed its proof), never from
 * anything a platform says beside it.
 *
 * The holder is known to this service by one thing: the email address their
 * portal session, and so their OAuth grant, was proven with (an emailed link).
 * So a badge is theirs when its signed subject names that address:
 * - an IdentityObject (OB 3.0 `credentialSubject.identifier`) of identityType
 *   `emailAddress`, in clear, or hashed as `sha256$` + hex(sha256(email + salt))
 *   (the issuers we know hash the trimmed, lower-cased address; an address in
 *   clear compares case-insensitively);
 * - or `credentialSubject.id` = `mailto:<address>`.
 * A subject named only by a DID, a phone number or a student id cannot be
 * tied to the address, so it is refused rather than guessed at: storing it
 * would let anyone fill a holder's portfolio with someone else's badges.
 */
export function addressedTo (credential: JsonObject, holderEmail: string): boolean {
  const email = normaliseEmail(holderEmail)
  return asArray(credential.credentialSubject).some((subject) => isObject(subject) && subjectNames(subject, email))
}

function subjectNames (subject: JsonObject, email: string): boolean {
  if (typeof subject.id === 'string' && subject.id.toLowerCase().startsWith('mailto:') && normaliseEmail(subject.id.slice('mailto:'.length)) === email) return true
  return asArray(subject.identifier).some((identity) => isObject(identity) && identityNames(identity, email))
}

function identityNames (identity: JsonObject, email: string): boolean {
  if (identity.identityType !== 'emailAddress') return false
  if (types(identity).length > 0 && !types(identity).includes('IdentityObject')) return false
  const value = identity.identityHash
  if (typeof value !== 'string') return false
  if (identity.hashed !== true) return normaliseEmail(value) === email
  const match = /^sha256\$([0-9a-fA-F]{64})$/.exec(value)
  if (match === null) return false
  const salt = typeof identity.salt === 'string' ? identity.salt : ''
  return createHash('sha256').update(email + salt, 'utf8').digest('hex') === match[1]!.toLowerCase()
}
