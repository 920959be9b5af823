import { isObject } from '../../../kernel/json.js'
import { asArray } from '../credential-fields.js'

/**
 * The deprecated 1EdTech Revocation List status method (OB 3.0, appendix
 * "1EdTech Revocation List Status Method", vcrl v1p0): the credential's
 * `credentialStatus.id` is the URL of a JSON document
 * `{ id, issuer, revokedCredentials: [{ id, revocationReason? }] }`.
 *
 * The list carries no proof of its own, so what binds it to the issuer is
 * that the issuer's signed credential named its URL, that the list says it
 * is that URL, and that it names the same issuer. A list that does not
 * answer, or does not hold together, is not "not revoked".
 */

export type RevocationListReading =
  | { ok: true, revoked: boolean, reason?: string }
  | { ok: false, message: string }

const MAX_ENTRIES = 100_000

/** Is the credential `credentialId` of `issuer` on the revocation list read from `url`? */
export function readRevocationList (document: Record<string, unknown>, url: string, credentialId: string | undefined, issuer: string | undefined): RevocationListReading {
  if (document.id !== url) return { ok: false, message: `the revocation list at ${url} says its id is "${String(document.id)}"` }
  const listIssuer = isObject(document.issuer) ? document.issuer.id : document.issuer
  if (listIssuer !== issuer) return { ok: false, message: `the revocation list at ${url} is issued by "${String(listIssuer ?? 'nobody')}", not by the credential's issuer` }
  if (!Array.isArray(document.revokedCredentials)) return { ok: false, message: `the revocation list at ${url} has no "revokedCredentials"` }
  if (document.revokedCredentials.length > MAX_ENTRIES) return { ok: false, message: `the revocation list at ${url} has more than ${MAX_ENTRIES} entries` }
  if (credentialId === undefined) return { ok: false, message: 'the credential has no "id" to look up on its revocation list' }
  const entry = asArray(document.revokedCredentials).find((e) => isObject(e) && e.id === credentialId)
  if (entry === undefined) return { ok: true, revoked: false }
  const reason = isObject(entry) && typeof entry.revocationReason === 'string' ? entry.revocationReason : undefined
  return { ok: true, revoked: true, ...(reason !== undefined ? { reason } : {}) }
}
