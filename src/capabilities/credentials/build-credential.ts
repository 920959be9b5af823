import { createHash } from 'node:crypto'
import { CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import { isoSeconds } from '../../kernel/time.js'
import type { UnsignedCredential } from '../../infrastructure/signing/sign.js'

export interface CredentialInput {
  credentialUrl: string
  issuerProfile: Record<string, unknown> & { id: string }
  achievement: Record<string, unknown> & { name: string }
  recipient: { name: string, email: string }
  /**
   * The subject's id (OB 3.0 VC-JWT `sub`): the holder's stable urn:uuid, or
   * the DID a wallet proved it controls.
   */
  subjectId: string
  /** Random per credential, so equal emails do not give equal hashes across credentials. */
  identitySalt: string
  validFrom: Date
  validUntil?: Date
  awardedDate?: Date
  status: { listUrl: string, index: number, purpose: string }
}

/**
 * Emails are compared case-insensitively in practice, so the hashed identity is
 * the trimmed, lower-cased address: a verifier hashes what the holder tells it
 * the same way (documented in the README).
 */
export function normaliseEmail (email: string): string {
  return email.trim().toLowerCase()
}

/** OB 3.0 IdentityHash: "sha256$" + hex(sha256(identifier + salt)). */
export function identityHash (identifier: string, salt: string): string {
  return 'sha256$' + createHash('sha256').update(identifier + salt, 'utf8').digest('hex')
}

/**
 * Builds the unsigned VCDM 2.0 OpenBadgeCredential (pure: every input, the clock
 * included, comes in as an argument). Every set is an array, as the 1EdTech
 * JSON schema requires.
 */
export function buildOpenBadgeCredential (input: CredentialInput): UnsignedCredential {
  return {
    '@context': [CONTEXTS.credentialsV2, CONTEXTS.openBadgesV3, CONTEXTS.openBadgesExtensions],
    id: input.credentialUrl,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: input.achievement.name,
    issuer: input.issuerProfile,
    validFrom: isoSeconds(input.validFrom),
    ...(input.validUntil !== undefined ? { validUntil: isoSeconds(input.validUntil) } : {}),
    ...(input.awardedDate !== undefined ? { awardedDate: isoSeconds(input.awardedDate) } : {}),
    credentialSubject: {
      id: input.subjectId,
      type: ['AchievementSubject'],
      name: input.recipient.name,
      identifier: [{
        type: 'IdentityObject',
        identityHash: identityHash(normaliseEmail(input.recipient.email), input.identitySalt),
        identityType: 'emailAddress',
        hashed: true,
        salt: input.identitySalt
      }],
      achievement: input.achievement
    },
    credentialStatus: {
      id: `${input.status.listUrl}#${input.status.index}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: input.status.purpose,
      statusListIndex: String(input.status.index),
      statusListCredential: input.status.listUrl
    },
    // The credential URL always serves the current version: a verifier or
    // wallet holding an older copy finds the newer one here (OB 3.0, refresh).
    refreshService: { id: input.credentialUrl, type: '1EdTechCredentialRefresh' }
  }
}
