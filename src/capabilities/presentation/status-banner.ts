import type { RecertificationPolicy } from '../achievements/recertification-rules.js'
import type { Check, VerificationResult } from '../verification/result.js'
import { renewalAdvice } from '../achievements/renewal-advice.js'
import { longDate } from '../../infrastructure/web/dates.js'

import type { BannerTone } from '../../infrastructure/web/images.js'
export type { BannerTone }

/** The status banner at the top of a credential page: computed from the same verification the API answers. */
export interface Banner {
  tone: BannerTone
  /** One or two words, also used on images and PDFs: "Valid", "Expired"... */
  label: string
  /** The sentence a person reads. */
  text: string
  /** What the holder can do about it, when anything. */
  advice?: string
  link?: { href: string, text: string }
}

export interface BannerInput {
  result: VerificationResult
  /** "certification" or "badge", for the sentences. */
  noun: string
  issuerName: string
  validUntil?: string
  validFrom?: string
  /** When the credential was revoked (from the records; the private reason is never shown). */
  revokedAt?: Date
  /** The achievement's rules, for the renewal advice on an expired certification. */
  recertification?: RecertificationPolicy | null
  now: Date
}

export function statusBanner (input: BannerInput): Banner {
  const { result, noun } = input
  switch (result.status) {
    case 'valid':
      return { tone: 'valid', label: 'Valid', text: input.validUntil === undefined ? `This ${noun} is valid and does not expire.` : `Valid until ${longDate(input.validUntil) ?? input.validUntil}.` }
    case 'expired': {
      const advice = renewalAdvice({ policy: input.recertification, validUntil: input.validUntil, now: input.now }).sentence
      return { tone: 'expired', label: 'Expired', text: `This ${noun} expired on ${longDate(input.validUntil) ?? 'its end date'}.`, ...(advice !== undefined ? { advice } : {}) }
    }
    case 'revoked': {
      const on = longDate(input.revokedAt)
      return { tone: 'revoked', label: 'Revoked', text: `This ${noun} was revoked by ${input.issuerName}${on === undefined ? '' : ` on ${on}`}. It is no longer valid.` }
    }
    case 'superseded': {
      const current = result.currentVersion
      const link = current !== undefined ? { link: { href: current.url, text: 'See the current version' } } : {}
      const renewed = longDate(current?.renewedAt)
      if (renewed !== undefined) return { tone: 'superseded', label: 'Renewed', text: `This version was replaced on ${renewed} by a renewed version.`, ...link }
      const on = longDate(current?.supersededAt)
      return {
        tone: 'superseded',
        label: 'Replaced',
        text: `This version was replaced${on === undefined ? '' : ` on ${on}`} by a corrected version.`,
        ...link
      }
    }
    case 'not_yet_valid':
      return { tone: 'pending', label: 'Not yet valid', text: `This ${noun} is valid from ${longDate(input.validFrom) ?? 'a later date'}.` }
    default:
      return { tone: 'invalid', label: 'Not verified', text: result.notice ?? `This ${noun} could not be verified.` }
  }
}

const CHECK_NAMES: Record<Check['id'], string> = {
  format: 'Document format',
  schema: 'Open Badges 3.0 data model',
  proof: 'Digital signature',
  signed_data: 'Says what was signed',
  key_binding: 'Signed by the issuer\'s key',
  validity_period: 'Validity period',
  status: 'Revocation status'
}

export interface CheckInWords { name: string, outcome: 'Passed' | 'Failed' | 'Could not be checked', message: string, result: Check['result'] }

/**
 * The checks in plain words. When the signature fails, nothing else the
 * document says means anything, so one sentence replaces the list.
 */
export function checksInWords (result: VerificationResult): { summary?: string, checks: CheckInWords[] } {
  const proof = result.checks.find((c) => c.id === 'proof')
  if (proof?.result === 'failed') {
    return { summary: 'This document is not genuine: its digital signature does not match its contents, so nothing in it can be trusted.', checks: [] }
  }
  return {
    checks: result.checks.map((c) => ({
      name: CHECK_NAMES[c.id],
      outcome: c.result === 'passed' ? 'Passed' : c.result === 'failed' ? 'Failed' : 'Could not be checked',
      message: c.message,
      result: c.result
    }))
  }
}
