import { decodeJwt } from 'jose'
import type { Db } from '../../infrastructure/db/types.js'
import { newId } from '../../kernel/ids.js'
import { parsePublicUrl } from '../../kernel/public-urls.js'
import { findCredential } from '../credentials/store.js'
import { issuerId as issuerIdOf, issuerName, summarise, types, validFrom as validFromOf, validUntil as validUntilOf } from '../verification/credential-fields.js'
import { credentialFromPayload } from '../verification/jwt-claims.js'
import { isOpenBadge2 } from '../verification/ob2/detect.js'
import { ownershipClassifier } from '../verification/ownership.js'
import { parseInput } from '../verification/parse-input.js'
import type { Check, VerificationResult, VerificationStatus } from '../verification/result.js'
import { verifyCredential, type Verifier } from '../verification/verify-credential.js'
import { ImsxError } from './imsx.js'
import { addressedTo } from './recipient.js'
import { findStoredCredentialById, updateStoredVerdict, upsertStoredCredential, type StoredCredential } from './store.js'

/**
 * POST /ims/ob/v3p0/credentials: a holder (through a platform they
 * connected) keeps a badge from another issuer here. It is stored only after
 * this service's verifier judged it, and only when its signed subject names
 * the holder (recipient.ts). Equality is (issuer id, credential id); the
 * newer validFrom wins.
 */

export interface PortfolioDeps {
  sql: Db
  verifier: Verifier
  now: Date
  /** PUBLIC_BASE_URL: tells this service's own credentials from others'. */
  publicBaseUrl: string
}

/** A credential as posted: JSON (its text, byte for byte) or a compact JWS (text/plain). */
export type PostedCredential = { kind: 'json', text: string, value: unknown } | { kind: 'jws', text: string }

export type UpsertOutcome = 'created' | 'replaced' | 'unchanged'

/**
 * Verdicts a stored badge may have. `unverified_issuer` is a good signature by
 * an issuer this service does not recognise (a course provider's did:key, say):
 * kept, and shown as "issuer not confirmed"; the portfolio is the holder's, not
 * the registry's. Every other verdict is refused (indeterminate only for now).
 */
const STORABLE: ReadonlySet<VerificationStatus> = new Set(['valid', 'unverified_issuer'])

const refused = (message: string): ImsxError => new ImsxError(400, message)

export async function upsertPostedCredential (deps: PortfolioDeps, holderEmail: string, posted: PostedCredential): Promise<UpsertOutcome> {
  const input = posted.kind === 'json' ? posted.value : posted.text
  if (isOpenBadge2(input)) throw refused('This is an Open Badges 2.0 assertion; the portfolio keeps Open Badges 3.0 credentials (OpenBadgeCredential).')
  const parsed = parseInput(input)
  if (parsed.kind === 'unparseable') throw refused(`The body is not a credential: ${parsed.reason}.`)

  const result = await verifyCredential(input, { ...deps.verifier, now: deps.now })
  if (result.status === 'indeterminate') {
    throw new ImsxError(503, `The credential could not be verified just now; nothing was stored. Try again shortly. ${words(result).join(' ')}`.trim(), { headers: { 'Retry-After': '30' } })
  }
  if (result.status === 'invalid') throw refused(['The credential did not pass verification (it is malformed, or was altered or forged); nothing was stored.', ...words(result)].join(' '))

  // The signed credential: the JSON-LD document whose proof passed, or the VC-JWT's payload.
  const credential = parsed.kind === 'json-ld' ? parsed.credential : credentialFromPayload(decodeJwt(parsed.jwt))
  if (!types(credential).some((t) => t === 'OpenBadgeCredential' || t === 'AchievementCredential')) {
    throw refused('The portfolio keeps Open Badges 3.0 credentials; this one\'s "type" does not include OpenBadgeCredential.')
  }
  const issuer = issuerIdOf(credential)
  const id = typeof credential.id === 'string' && credential.id !== '' ? credential.id : undefined
  if (issuer === undefined || id === undefined) throw refused('The credential must have an "id" and an "issuer" id: a stored badge is known by both.')

  // This service's own credentials are listed from where they are, never stored twice.
  if (ownershipClassifier(deps.publicBaseUrl)(issuer) !== 'foreign') return await ownCredential(deps, holderEmail, id)

  if (!STORABLE.has(result.status)) throw refused([`The credential was not stored: the verifier found it ${result.status.replaceAll('_', ' ')}.`, ...words(result)].join(' '))
  if (!addressedTo(credential, holderEmail)) {
    throw refused('The credential is not addressed to the signed-in holder: its "credentialSubject" must name their email address (an emailAddress IdentityObject in "identifier", hashed or not, or an "id" of mailto:<address>).')
  }
  const from = Date.parse(validFromOf(credential) ?? '')
  if (Number.isNaN(from)) throw refused('The credential must have a "validFrom" date-time: the newer of two copies is the one with the later "validFrom".')
  const until = Date.parse(validUntilOf(credential) ?? '')

  // An EnvelopedVerifiableCredential is kept as the VC-JWT it wraps: the portfolio answers with credentials, not envelopes.
  const asJws = parsed.kind === 'jwt'
  return await upsertStoredCredential(deps.sql, {
    id: newId(),
    holderEmail,
    issuerId: issuer,
    credentialId: id,
    validFrom: new Date(from),
    validUntil: Number.isNaN(until) ? null : new Date(until),
    document: asJws ? null : posted.text,
    compactJws: asJws ? parsed.jwt : null,
    issuerName: clip(issuerName(credential)),
    achievementName: clip(summarise(credential).achievement?.name),
    verificationStatus: result.status,
    verification: verdict(result)
  }, deps.now)
}

const verdict = (result: VerificationResult): StoredCredential['verification'] =>
  ({ status: result.status, checkedAt: result.checkedAt, checks: result.checks.map((c) => ({ id: c.id, result: c.result, message: c.message })) })

/**
 * Verifies a stored badge again (its issuer may have revoked it since) and
 * keeps the new verdict, whatever it is: the badge stays until the holder
 * removes it. Undefined when the holder has no stored badge with this id.
 */
export async function recheckStoredCredential (deps: PortfolioDeps, holderEmail: string, id: string): Promise<StoredCredential['verification'] | undefined> {
  const stored = await findStoredCredentialById(deps.sql, holderEmail, id)
  if (stored === undefined) return undefined
  const input: unknown = stored.document !== null ? JSON.parse(stored.document) : stored.compactJws
  const checked = verdict(await verifyCredential(input, { ...deps.verifier, now: deps.now }))
  // An indeterminate answer (a status list out of reach) says nothing new: the last verdict stands.
  if (checked.status !== 'indeterminate') await updateStoredVerdict(deps.sql, stored.id, checked)
  return checked
}

/** One of this service's credentials, posted back: nothing to store when it is the holder's; refused when it is not. */
async function ownCredential (deps: PortfolioDeps, holderEmail: string, id: string): Promise<UpsertOutcome> {
  const own = parsePublicUrl(deps.publicBaseUrl, id)
  const credential = own?.kind === 'credential' ? await findCredential(deps.sql, own.id) : undefined
  if (credential === undefined || credential.recipientEmail !== holderEmail) {
    throw refused('This credential was issued by this service to someone else; it cannot be kept in this holder\'s portfolio.')
  }
  return 'unchanged'
}

const clip = (text: string | undefined): string | null => text === undefined ? null : text.slice(0, 500)

/** The verifier's own words: its notice, then each check that did not pass. */
function words (result: VerificationResult): string[] {
  const said: string[] = result.notice === undefined ? [] : [result.notice]
  for (const check of result.checks) {
    if (check.result === 'passed' || isSkipped(check) || said.includes(check.message)) continue
    said.push(check.message)
  }
  return said
}

const isSkipped = (check: Check): boolean => check.result === 'unknown' && check.message.startsWith('Not checked because')
