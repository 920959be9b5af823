import { createHash } from 'node:crypto'
import { isObject } from '../../../kernel/json.js'

/**
 * The recipient of an Open Badges 2.0 assertion: an identity (usually an
 * email) given in clear or as `sha256$…`/`md5$…` of identity + salt. The
 * verifier cannot say whose badge it is unless it is told an identity to
 * check, so without one it reports how the recipient is named.
 */

type Json = Record<string, unknown>

/** Does `identity` (an email, say) match the assertion's recipient? undefined when the recipient cannot be read. */
export function recipientMatches (recipient: unknown, identity: string): boolean | undefined {
  if (!isObject(recipient) || typeof recipient.identity !== 'string') return undefined
  const salt = typeof recipient.salt === 'string' ? recipient.salt : ''
  // Emails compare case-insensitively; issuers hash them lower-cased.
  const candidate = recipient.type === 'email' ? identity.trim().toLowerCase() : identity.trim()
  if (recipient.hashed !== true) return recipient.identity.trim().toLowerCase() === candidate.toLowerCase()
  const match = /^(sha256|md5)\$([0-9a-fA-F]+)$/.exec(recipient.identity)
  if (match === null) return undefined
  return createHash(match[1]!).update(candidate + salt).digest('hex') === match[2]!.toLowerCase()
}

/** A sentence for the result's warnings: how the recipient is named, and that it was not checked against anyone. */
export function recipientNote (assertion: Json): string {
  const recipient = assertion.recipient
  if (!isObject(recipient)) return 'The assertion names no recipient.'
  const kind = typeof recipient.type === 'string' ? recipient.type : 'identity'
  if (recipient.hashed === true) {
    const algorithm = typeof recipient.identity === 'string' ? recipient.identity.split('$')[0] : 'unknown'
    return `The recipient is named by a hashed ${kind} (${algorithm ?? 'unknown'}${typeof recipient.salt === 'string' ? ', salted' : ''}); this verifier was not given one to compare, so whose badge it is was not checked.`
  }
  return `The recipient is named by ${kind} in clear; it was not checked against anyone.`
}
