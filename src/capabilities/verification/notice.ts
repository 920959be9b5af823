import type { CredentialSummary, CurrentVersion, VerificationStatus } from './result.js'
import type { RecertificationPolicy } from '../achievements/recertification-rules.js'
import { renewalAdvice } from '../achievements/renewal-advice.js'

/**
 * One sentence a person can read about why the credential is not valid, e.g.
 * "This CMA (AAMA) certification expired on 31 March 2026."
 */

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })

function formatDate (iso: string | undefined): string | undefined {
  if (iso === undefined) return undefined
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : DATE.format(ms)
}

function subject (credential: CredentialSummary): string {
  const noun = credential.achievement?.achievementType === 'Certification' ? 'certification' : 'badge'
  const name = credential.achievement?.name
  return name === undefined ? `This ${noun}` : `This ${name} ${noun}`
}

const sentence = (reason: string): string => /[.!?]$/.test(reason) ? reason : `${reason}.`

/**
 * The notice for a status; undefined when the credential is valid. With
 * `renewal` (a credential of ours: its achievement's rules and the clock), an
 * expired one is followed by the advice every other rendering gives.
 */
export function noticeFor (status: VerificationStatus, credential: CredentialSummary, reason: string, suspended = false, current?: CurrentVersion, renewal?: { policy: RecertificationPolicy | null, now: Date }): string | undefined {
  const what = subject(credential)
  switch (status) {
    case 'valid':
      return undefined
    case 'expired': {
      const date = formatDate(credential.validUntil)
      const expired = date === undefined ? `${what} has expired.` : `${what} expired on ${date}.`
      const advice = renewal === undefined ? undefined : renewalAdvice({ policy: renewal.policy, validUntil: credential.validUntil, now: renewal.now }).sentence
      return advice === undefined ? expired : `${expired} ${advice}`
    }
    case 'not_yet_valid': {
      const date = formatDate(credential.validFrom)
      return date === undefined ? `${what} is not valid yet.` : `${what} is not valid until ${date}.`
    }
    case 'superseded': {
      const where = current === undefined ? '' : `: the current version is at ${current.url}`
      const renewed = formatDate(current?.renewedAt)
      if (renewed !== undefined) return `${what} was renewed on ${renewed}${where}.`
      const date = formatDate(current?.supersededAt)
      return `${what} was replaced${date === undefined ? '' : ` on ${date}`} by a corrected version${where}.`
    }
    case 'revoked': {
      const issuer = credential.issuer?.name ?? credential.issuer?.id
      return issuer === undefined ? `${what} was revoked by its issuer.` : `${what} was revoked by ${issuer}.`
    }
    case 'invalid':
      if (suspended) {
        const issuer = credential.issuer?.name ?? credential.issuer?.id ?? 'its issuer'
        return `${what} is currently suspended by ${issuer}.`
      }
      return `This badge could not be verified: ${sentence(lowerFirst(reason))}`
    case 'unverified_issuer': {
      const issuer = credential.issuer?.name ?? credential.issuer?.id ?? 'the issuer it names'
      return `This badge's signature is genuine, but nothing ties the signing key to ${issuer}, so who issued it cannot be confirmed.`
    }
    case 'indeterminate':
      return `This badge could not be verified: ${sentence(lowerFirst(reason))}`
  }
}

function lowerFirst (text: string): string {
  // "The signature…" reads better mid-sentence as "the signature…"; leave acronyms and quotes alone.
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text
}
