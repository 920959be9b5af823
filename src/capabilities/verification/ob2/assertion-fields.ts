import { isObject } from '../../../kernel/json.js'
import { DEFAULT_CLOCK_LEEWAY_SECONDS } from '../../../kernel/config.js'
import type { Check } from '../result.js'
import { failed, passed, unknown } from '../result.js'
import type { Fetched } from './documents.js'

/**
 * What an Open Badges 2.0 assertion, BadgeClass and Issuer profile must hold
 * to be read at all (OB 2.0 "Assertion", "BadgeClass", "Profile" required
 * properties), and the assertion's validity period (`issuedOn`, `expires`).
 */

type Json = Record<string, unknown>

const hasType = (value: Json, ...types: string[]): boolean =>
  types.some((type) => value.type === type || (Array.isArray(value.type) && value.type.includes(type)))

export type VerificationKind = 'hosted' | 'signed'

/** The verification type the assertion declares, in 2.0 or 1.1 spelling. */
export function verificationKind (assertion: Json): VerificationKind | undefined {
  const type = isObject(assertion.verification) ? assertion.verification.type : undefined
  if (type === 'hosted' || type === 'HostedBadge') return 'hosted'
  if (type === 'signed' || type === 'SignedBadge') return 'signed'
  return undefined
}

/** The format check: an assertion this verifier can examine, given in the form its verification type needs. */
export function checkAssertionFormat (assertion: Json, givenAsJws: boolean): Check {
  const missing = ['id', 'recipient', 'badge', 'verification', 'issuedOn'].filter((key) => assertion[key] === undefined)
  if (missing.length > 0) return failed('format', `The Open Badges 2.0 assertion lacks ${missing.map((k) => `"${k}"`).join(', ')}.`)
  if (typeof assertion.id !== 'string') return failed('format', 'The assertion\'s "id" must be a string.')
  if (!isObject(assertion.recipient) || typeof assertion.recipient.identity !== 'string') return failed('format', 'The assertion\'s "recipient" must be an object with an "identity".')
  const kind = verificationKind(assertion)
  if (kind === undefined) return failed('format', 'The assertion\'s "verification.type" must be "hosted" (HostedBadge) or "signed" (SignedBadge).')
  if (kind === 'signed' && !givenAsJws) return failed('format', 'A signed Open Badges 2.0 assertion must be given as its JWS (the signed text), not as the decoded JSON.')
  if (kind === 'hosted' && !/^https?:\/\//i.test(assertion.id)) return failed('format', `A hosted assertion's "id" must be the https URL it is hosted at, not "${assertion.id}".`)
  return passed('format', `An Open Badges 2.0 assertion (${kind} verification).`)
}

/** The BadgeClass and Issuer profile: readable, each at its own id, each of its type. */
export function checkBadgeDocuments (badge: Fetched, issuer: Fetched | undefined): Check {
  if (!badge.ok) return unknown('schema', badge.message)
  const b = badge.document
  if (badge.url !== '' && b.id !== badge.url) return failed('schema', `The BadgeClass at ${badge.url} says its "id" is "${String(b.id)}".`)
  if (!hasType(b, 'BadgeClass') || typeof b.name !== 'string' || b.issuer === undefined) return failed('schema', 'The badge is not an Open Badges 2.0 BadgeClass with a "name" and an "issuer".')
  if (issuer === undefined) return unknown('schema', 'The issuer profile was not read.')
  if (!issuer.ok) return unknown('schema', issuer.message)
  const i = issuer.document
  if (typeof i.id !== 'string' || (issuer.url !== '' && i.id !== issuer.url)) return failed('schema', `The issuer profile at ${issuer.url} says its "id" is "${String(i.id)}".`)
  if (!hasType(i, 'Issuer', 'Profile')) return failed('schema', 'The badge\'s issuer is not an Open Badges 2.0 Issuer profile.')
  return passed('schema', 'The BadgeClass and its Issuer profile are Open Badges 2.0 documents, each at its own id.')
}

/** `issuedOn` and `expires` as of `at`; issuedOn may be up to the clock leeway ahead. */
export function checkAssertionPeriod (assertion: Json, at: Date, leewaySeconds = DEFAULT_CLOCK_LEEWAY_SECONDS): Check {
  const issuedOn = Date.parse(String(assertion.issuedOn))
  if (Number.isNaN(issuedOn)) return failed('validity_period', `"issuedOn" (${String(assertion.issuedOn)}) is not a date-time.`)
  const expires = assertion.expires === undefined ? undefined : Date.parse(String(assertion.expires))
  if (expires !== undefined && Number.isNaN(expires)) return failed('validity_period', `"expires" (${String(assertion.expires)}) is not a date-time.`)
  const when = at.toISOString()
  if (expires !== undefined && expires < at.getTime()) return failed('validity_period', `The assertion expired at ${String(assertion.expires)} (checked as of ${when}).`, 'expired')
  if (issuedOn > at.getTime() + leewaySeconds * 1000) return failed('validity_period', `The assertion is issued on ${String(assertion.issuedOn)}, after ${when}.`, 'not_yet_valid')
  return passed('validity_period', expires === undefined ? `Issued on ${String(assertion.issuedOn)}, with no expiry.` : `Issued on ${String(assertion.issuedOn)}, not expired as of ${when}.`)
}
