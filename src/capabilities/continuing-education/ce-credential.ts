import { decodeJwt } from 'jose'
import { AppError } from '../../kernel/errors.js'
import { isObject, type JsonObject } from '../../kernel/json.js'
import type { Db } from '../../infrastructure/db/types.js'
import { BakingError } from '../bake/png.js'
import { issuerId as issuerIdOf, issuerName, types, validFrom } from '../verification/credential-fields.js'
import { FetchRefusedError } from '../verification/fetch-credential-url.js'
import { credentialFromPayload } from '../verification/jwt-claims.js'
import { isOpenBadge2 } from '../verification/ob2/detect.js'
import { parseInput } from '../verification/parse-input.js'
import { readSubmittedImage, readSubmittedText } from '../verification/read-submitted.js'
import type { Check, VerificationResult, VerificationStatus } from '../verification/result.js'
import type { VerificationSources } from '../verification/sources.js'
import { verifyCredential, type Verifier } from '../verification/verify-credential.js'

/**
 * A verifiable continuing-education credential given as evidence of a CE
 * activity: an Open Badges 3.0 credential from a CE provider, pasted (link,
 * JSON, compact JWT) or uploaded as a baked PNG/SVG. It is verified by the
 * service's own verifier, with the achievement's approved providers counted
 * as recognised issuers; what it says (title, date, points) is read only from
 * a credential that verified. Nothing is stored here.
 *
 * Points are `credentialSubject.creditsEarned`: Open Badges 3.0 defines it on
 * the AchievementSubject as the credits the learner earned. `result` values
 * are free-form grades and scores (a "92%" is not 92 points), so they are not read.
 */

/** An approved CE provider: the issuer id or DID as it appears in its CE credentials. */
export interface ApprovedProvider { providerId: string, name: string }

export interface CeCredentialEvidence {
  /** The credential as read: a JSON object, or the compact JWS string. */
  credential: unknown
  issuerId: string
  /** The approved provider's name when approved, else the issuer's name in the credential, else its id. */
  providerName: string
  /** credentialSubject.achievement.name */
  title: string
  /** YYYY-MM-DD (UTC): awardedDate, else validFrom (or VCDM 1.1 issuanceDate). */
  completedOn: string
  /** credentialSubject.creditsEarned */
  points: number
  /** 'approved' only when the issuer is one of `approvedProviders`. */
  category: 'approved' | 'other'
  /** The verifier's verdict now ('valid', or 'expired' when it was valid at completion), when, and who recognised the issuer. */
  verification: { status: string, checkedAt: string, recognisedBy?: string }
}

export interface CeCredentialDeps {
  verifier: Verifier
  now: Date
  sql: Db
  /** PUBLIC_BASE_URL: a pasted link to one of our own credentials is read from the database. */
  publicBaseUrl: string
  /** OUTBOUND_ALLOW_LOOPBACK: http links to loopback are fetched. */
  allowLoopback: boolean
  /** This achievement's approved CE providers. */
  approvedProviders: readonly ApprovedProvider[]
  /** Accepted for the caller's convenience; not compared (a CE credential need not name its recipient, and names vary in spelling). */
  holderName?: string
}

/** Most CE points a single credential may carry: more is a mistake (or minutes, or hours) rather than one activity's credits. */
export const MAX_POINTS = 100

/** The entry id a recognition carries when an approved provider, not the registry, recognised the issuer. */
export const APPROVED_PROVIDER_ENTRY = 'approved-provider'

const refused = (message: string, extra: Record<string, unknown> = {}): AppError => new AppError('ce_credential_refused', message, extra)

/** Issuer ids compare exactly, except that an http(s) URL's trailing slashes do not count. */
const sameIssuer = (a: string, b: string): boolean => normaliseIssuer(a) === normaliseIssuer(b)
const normaliseIssuer = (id: string): string => /^https?:\/\//i.test(id) ? id.replace(/\/+$/, '') : id

/**
 * Reads, verifies and judges a CE credential. Throws AppError
 * `ce_credential_refused` (422) when it cannot be read, is not an Open Badges
 * 3.0 credential with usable creditsEarned and completion date, or the
 * verifier does not find it valid (an expired one counts when it was valid at
 * completion); a refusal by the verifier carries `verification: { status, checks }`
 * and quotes its words.
 */
export async function readCeCredential (submitted: { text?: string, image?: Buffer }, deps: CeCredentialDeps): Promise<CeCredentialEvidence> {
  const { input, fetchedFrom } = await readInput(submitted, deps)
  const document = decoded(input)
  const content = readContent(document, deps.now, deps.verifier.sources.clockLeewaySeconds ?? 0)
  const approved = deps.approvedProviders.find((p) => sameIssuer(p.providerId, content.issuerId))

  const verifier = withApprovedProviders(deps.verifier, deps.approvedProviders)
  const options = fetchedFrom === undefined ? {} : { fetchedFrom }
  const result = await verifyCredential(input, { ...verifier, now: deps.now }, options)
  let judged = result
  if (result.status === 'expired') {
    // Expired now: it counts when it held at completion (validFrom may postdate the award: then its first moment).
    const fromMs = Date.parse(validFrom(document) ?? '')
    const at = new Date(Number.isNaN(fromMs) ? content.completedAt : Math.max(content.completedAt, fromMs))
    judged = await verifyCredential(input, { ...verifier, now: deps.now }, { ...options, at })
    if (judged.status === 'expired') throw refusal(judged, 'The activity was completed after this continuing-education credential had expired, so it cannot count.')
  }
  if (judged.status !== 'valid') throw refusal(judged)

  const recognisedBy = judged.recognisedIssuer?.name ?? result.recognisedIssuer?.name
  return {
    credential: input,
    issuerId: content.issuerId,
    providerName: approved?.name ?? content.issuerName ?? content.issuerId,
    title: content.title,
    completedOn: content.completedOn,
    points: content.points,
    category: approved === undefined ? 'other' : 'approved',
    verification: { status: result.status, checkedAt: result.checkedAt, ...(recognisedBy === undefined ? {} : { recognisedBy }) }
  }
}

async function readInput (submitted: { text?: string, image?: Buffer }, deps: CeCredentialDeps): Promise<{ input: unknown, fetchedFrom?: string }> {
  try {
    if (submitted.image !== undefined && submitted.image.length > 0) return { input: readSubmittedImage(submitted.image) }
    if (submitted.text !== undefined && submitted.text.trim() !== '') {
      const read = await readSubmittedText(submitted.text, { sql: deps.sql, publicBaseUrl: deps.publicBaseUrl, allowLoopback: deps.allowLoopback })
      return { input: read.credential, ...(read.fetchedFrom === undefined ? {} : { fetchedFrom: read.fetchedFrom }) }
    }
  } catch (error) {
    if (error instanceof FetchRefusedError || error instanceof BakingError) throw refused(`The continuing-education credential could not be read: ${error.message}`)
    throw error
  }
  throw refused('Paste the continuing-education credential (a link, JSON or JWT) or upload the badge image it is baked in.')
}

/** The credential document inside what was read (a VC-JWT's payload decoded, not yet trusted). */
function decoded (input: unknown): JsonObject {
  const notOb3 = 'A continuing-education credential must be an Open Badges 3.0 credential (OpenBadgeCredential) that states "creditsEarned"'
  if (isOpenBadge2(input)) throw refused(`${notOb3}; this is an Open Badges 2.0 assertion.`)
  const parsed = parseInput(input)
  if (parsed.kind === 'unparseable') throw refused(`${notOb3}; the input is not a credential: ${parsed.reason}.`)
  let document = parsed.kind === 'json-ld' ? parsed.credential : undefined
  if (parsed.kind === 'jwt') {
    try {
      document = credentialFromPayload(decodeJwt(parsed.jwt))
    } catch {
      throw refused(`${notOb3}; the JWT's payload cannot be decoded.`)
    }
  }
  if (document === undefined || !types(document).some((t) => t === 'OpenBadgeCredential' || t === 'AchievementCredential')) {
    throw refused(`${notOb3}; this one's "type" does not include OpenBadgeCredential.`)
  }
  return document
}

interface Content { issuerId: string, issuerName?: string, title: string, completedAt: number, completedOn: string, points: number }

/** Title, completion date and points, each where Open Badges 3.0 puts it. */
function readContent (document: JsonObject, now: Date, leewaySeconds: number): Content {
  const issuerId = issuerIdOf(document)
  if (issuerId === undefined) throw refused('The credential names no "issuer" id.')
  const subjects = Array.isArray(document.credentialSubject) ? document.credentialSubject : [document.credentialSubject]
  const subject = subjects.length === 1 && isObject(subjects[0]) ? subjects[0] : undefined
  if (subject === undefined) throw refused('The credential must have exactly one "credentialSubject".')
  const achievement = isObject(subject.achievement) ? subject.achievement : undefined
  const title = typeof achievement?.name === 'string' ? achievement.name.trim() : ''
  if (title === '') throw refused('The credential\'s "credentialSubject.achievement" has no "name" to record as the activity\'s title.')

  const credits = subject.creditsEarned
  if (credits === undefined) throw refused('The credential does not state "creditsEarned" (credentialSubject.creditsEarned), so it gives no continuing-education points; a CE credential must be an Open Badges 3.0 credential with creditsEarned.')
  if (typeof credits !== 'number' || !Number.isFinite(credits)) throw refused(`"creditsEarned" must be a number; it is ${JSON.stringify(credits)}.`)
  if (credits <= 0 || credits > MAX_POINTS) throw refused(`"creditsEarned" must be more than 0 and at most ${MAX_POINTS}; it is ${credits}.`)

  const named = [document.awardedDate, subject.awardedDate, validFrom(document)].find((d): d is string => typeof d === 'string')
  if (named === undefined) throw refused('The credential states no completion date ("awardedDate" or "validFrom").')
  const completedAt = Date.parse(named)
  if (Number.isNaN(completedAt)) throw refused(`The credential's completion date (${named}) is not a date-time.`)
  if (completedAt > now.getTime() + leewaySeconds * 1000) throw refused(`The credential's completion date (${named}) is in the future.`)
  const name = issuerName(document)
  return { issuerId, ...(name === undefined ? {} : { issuerName: name }), title, completedAt, completedOn: new Date(completedAt).toISOString().slice(0, 10), points: credits }
}

/**
 * The app's verifier with this achievement's approved providers recognised:
 * for the key binding an approved provider counts as a registry entry would.
 * The per-verification sources (forVerification) are wrapped too, since the
 * pipeline asks those.
 */
function withApprovedProviders (verifier: Verifier, providers: readonly ApprovedProvider[]): Verifier {
  const wrap = (sources: VerificationSources): VerificationSources => ({
    ...sources,
    recognisedIssuer: async (issuerId) => {
      const provider = providers.find((p) => sameIssuer(p.providerId, issuerId))
      return provider === undefined ? await sources.recognisedIssuer(issuerId) : { entryId: APPROVED_PROVIDER_ENTRY, name: provider.name }
    }
  })
  const { forVerification } = verifier.sources
  const sources = wrap(verifier.sources)
  return { ...verifier, sources: forVerification === undefined ? sources : { ...sources, forVerification: () => wrap(forVerification()) } }
}

const LEAD: Partial<Record<VerificationStatus, string>> = {
  revoked: 'This continuing-education credential has been revoked by its issuer, so it cannot count.',
  superseded: 'This continuing-education credential was replaced by a corrected version; submit the current one.',
  invalid: 'This continuing-education credential did not pass verification (it may have been altered), so it cannot count.',
  indeterminate: 'This continuing-education credential could not be verified just now; try again later.',
  unverified_issuer: 'Who issued this continuing-education credential cannot be confirmed: its issuer is neither an approved provider nor recognised by this service.',
  not_yet_valid: 'This continuing-education credential is not valid yet.',
  expired: 'This continuing-education credential has expired.'
}

/** The refusal for a verdict: a sentence for the holder, then the verifier's own words (its notice and the checks that did not pass). */
function refusal (result: VerificationResult, lead = LEAD[result.status] ?? 'This continuing-education credential was not found valid.'): AppError {
  const words: string[] = result.notice === undefined ? [] : [result.notice]
  const said = (message: string): boolean => words.some((w) => w.toLowerCase().includes(message.toLowerCase().replace(/\.$/, '')))
  for (const check of result.checks) {
    if (check.result === 'passed' || isSkipped(check) || said(check.message)) continue
    words.push(check.message)
  }
  return refused([lead, ...words].join(' '), { verification: { status: result.status, checks: result.checks } })
}

const isSkipped = (check: Check): boolean => check.result === 'unknown' && check.message.startsWith('Not checked because')
