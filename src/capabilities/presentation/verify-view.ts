import { decodeProtectedHeader } from 'jose'
import type { Sql } from 'postgres'
import { isObject, type JsonObject } from '../../kernel/json.js'
import { parsePublicUrl, type PublicUrls } from '../../kernel/public-urls.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { findAchievement } from '../achievements/store.js'
import { findCredential, type CredentialRow } from '../credentials/store.js'
import { asArray } from '../verification/credential-fields.js'
import { parseInput } from '../verification/parse-input.js'
import type { VerificationResult } from '../verification/result.js'
import { credentialOf, displayFields, type DisplayFields } from './display.js'
import { resultView } from './pages.js'
import { statusBanner } from './status-banner.js'

/**
 * What the public /verify page draws for a pasted or uploaded credential.
 * Only what the checks establish is drawn as fact: a card ("Awarded to …,
 * issued by …") needs a genuine signature by a key bound to the issuer; any
 * less, and the document's statements are shown as its claims, never with the
 * issuer as a heading or a badge image. One of our own credentials that its
 * holder made private shows its status and nothing about the holder.
 */

/** How far the checks vouch for what the document says. */
export type Standing = 'confirmed' | 'issuer_unconfirmed' | 'unverified'

export type VerifyShown = Record<string, unknown> & { kind: 'card' | 'claims' | 'private' }

export interface VerifyViewDeps {
  sql: Sql
  urls: PublicUrls
  now: Date
  /** The address signed in to the portal, asked only when a private credential needs it. */
  viewerEmail: () => Promise<string | undefined>
}

const resultOf = (result: VerificationResult, id: string): string | undefined => result.checks.find((c) => c.id === id)?.result

/**
 * "confirmed": genuine bytes signed by the issuer's key (the status may still
 * be expired, revoked…, which are facts about a real credential).
 * "issuer_unconfirmed": genuine bytes, but nothing ties the key to the issuer
 * named. Anything else: nothing in the document can be relied on.
 */
export function standingOf (result: VerificationResult): Standing {
  const genuine = ['format', 'proof', 'signed_data'].every((id) => resultOf(result, id) === 'passed')
  if (!genuine || result.status === 'invalid') return 'unverified'
  const binding = resultOf(result, 'key_binding')
  if (binding === 'passed' && result.status !== 'indeterminate' && result.status !== 'unverified_issuer') return 'confirmed'
  return binding === 'unknown' ? 'issuer_unconfirmed' : 'unverified'
}

/** The key that made the signature, in words: a verification method, a "kid", or the token's own embedded key. */
export function signingKeyOf (input: unknown): string | undefined {
  const parsed = parseInput(input)
  if (parsed.kind === 'jwt') {
    try {
      const header = decodeProtectedHeader(parsed.jwt)
      if (typeof header.kid === 'string' && header.kid !== '') return `the key ${header.kid}`
      if (header.jwk !== undefined) return 'a public key carried inside the token itself'
    } catch {}
    return undefined
  }
  if (parsed.kind !== 'json-ld') return undefined
  const method = asArray(parsed.credential.proof).find((p): p is JsonObject => isObject(p) && typeof p.verificationMethod === 'string')?.verificationMethod
  return typeof method === 'string' ? `the key ${method}` : undefined
}

/** Our credential a document names by its id, if any (whether or not the document is genuine). */
async function ownCredential (credential: JsonObject | undefined, deps: VerifyViewDeps): Promise<CredentialRow | undefined> {
  const id = typeof credential?.id === 'string' ? credential.id : undefined
  const own = id === undefined ? undefined : parsePublicUrl(deps.urls.base, id)
  return own?.kind === 'credential' ? await findCredential(deps.sql, own.id) : undefined
}

/** The holder hid the page, and the viewer is not that holder signed in (the same rule as the credential page). */
export const isHiddenFrom = (credential: CredentialRow, viewerEmail: string | undefined): boolean =>
  credential.hiddenByHolderAt !== null && viewerEmail !== credential.recipientEmail

function namedIssuer (credential: JsonObject | undefined, fields: DisplayFields | undefined): string {
  const issuer = credential?.issuer
  const id = typeof issuer === 'string' ? issuer : isObject(issuer) && typeof issuer.id === 'string' ? issuer.id : undefined
  const name = fields?.issuerName
  if (name === undefined || name === 'Unknown issuer') return id ?? 'the issuer it names'
  return id === undefined || id === name ? name : `${name} (${id})`
}

/** Each statement of the document, worded as a claim. */
function claimsOf (fields: DisplayFields | undefined, credential: JsonObject | undefined): string[] {
  if (fields === undefined) return []
  const issued = longDate(fields.issued)
  const until = longDate(fields.validUntil)
  return [
    `It claims to be the ${fields.achievement.achievementType === 'Certification' ? 'certification' : 'achievement'} “${fields.achievement.name}”.`,
    ...(fields.holderName !== undefined ? [`It claims to be awarded to ${fields.holderName}.`] : []),
    `It claims to be issued by ${namedIssuer(credential, fields)}.`,
    ...(issued !== undefined ? [`It claims to have been issued on ${issued}.`] : []),
    ...(until !== undefined ? [`It claims to be valid until ${until}.`] : [])
  ]
}

/** The page's result section for a verified (or not) input. */
export async function verifyView (input: unknown, result: VerificationResult, deps: VerifyViewDeps): Promise<VerifyShown> {
  const credential = credentialOf(input)
  const fields = credential === undefined ? undefined : displayFields(credential, deps.urls.base)
  const standing = standingOf(result)
  const own = await ownCredential(credential, deps)
  // Our records add the revocation date and the achievement's renewal rules, so
  // the banner says what the credential page says; only for a document they vouch for.
  const record = standing === 'confirmed' ? own : undefined
  const achievement = record === undefined ? undefined : await findAchievement(deps.sql, record.achievementId)
  const noun = fields?.achievement.achievementType === 'Certification' ? 'certification' : 'badge'
  const banner = statusBanner({
    result,
    noun,
    issuerName: standing === 'confirmed' && fields !== undefined ? fields.issuerName : 'its issuer',
    ...(fields?.validUntil !== undefined ? { validUntil: fields.validUntil } : {}),
    ...(fields?.validFrom !== undefined ? { validFrom: fields.validFrom } : {}),
    ...(record !== undefined && record.revokedAt !== null ? { revokedAt: record.revokedAt } : {}),
    ...(achievement !== undefined ? { recertification: achievement.recertification } : {}),
    now: deps.now
  })
  const base = { ...resultView(banner, result), openChecks: true }
  if (own !== undefined && isHiddenFrom(own, own.hiddenByHolderAt === null ? undefined : await deps.viewerEmail())) {
    return { ...base, kind: 'private' }
  }
  if (standing === 'confirmed' && fields !== undefined) {
    return {
      ...base,
      kind: 'card',
      achievement: fields.achievement,
      holderName: fields.holderName,
      issuerName: fields.issuerName,
      awardDate: longDate(fields.issued),
      validUntil: longDate(fields.validUntil),
      // A foreign issuer is confirmed only through the registry: the page names the entry (the template says by whom).
      ...(result.recognisedIssuer !== undefined ? { recognisedAs: result.recognisedIssuer.name } : {}),
      ...(fields.image !== undefined ? { imageUrl: fields.image.url, imageAlt: fields.image.alt } : {})
    }
  }
  const key = standing === 'issuer_unconfirmed' ? signingKeyOf(input) : undefined
  return {
    ...base,
    kind: 'claims',
    ...(standing === 'issuer_unconfirmed'
      ? { keyStatement: `The signature is genuine and was made with ${key ?? 'a key the document names'}. Nothing confirms that this key belongs to ${namedIssuer(credential, fields)}; the issuer's identity is not verified.` }
      : {}),
    // unverified_issuer: the one thing missing is the registry's word on who the issuer is.
    ...(result.status === 'unverified_issuer' ? { knownOnlyByOwnKey: true } : {}),
    claims: claimsOf(fields, credential)
  }
}
