import type { FromSchema } from 'json-schema-to-ts'
import { CONTEXTS } from '../../../infrastructure/jsonld/document-loader.js'
import { dateTime } from '../../../infrastructure/http/common-schemas.js'
import { AppError } from '../../../kernel/errors.js'
import { ID_PATTERN } from '../../../kernel/ids.js'
import { parsePublicUrl } from '../../../kernel/public-urls.js'
import { CERTIFICATE_NUMBER, issueCredentialBody, type IssueCredentialBody } from '../schemas.js'

/**
 * The W3C VC API issuer routes' requests (POST /credentials/issue and
 * POST /credentials/status), read into what the service's own use cases take.
 * Pure: no SQL, no clock. What the service would not sign as it was sent is
 * refused here with the field named, never silently dropped or changed.
 *
 * `credential` is one of two shapes, told apart by `achievementId`:
 * - the service's own issue request (the body of POST /api/v1/credentials),
 *   when it has `achievementId`;
 * - otherwise an unsigned Open Badges 3.0 OpenBadgeCredential, which must name
 *   one of this service's achievements and may carry only what the service
 *   signs: the recipient's name, their email address as an unhashed
 *   IdentityObject, validFrom, validUntil and awardedDate. Anything it gives of
 *   the issuer or the achievement must be what the service signs.
 */

const identityObject = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'identityType', 'hashed', 'identityHash'],
  description: 'The recipient\'s email address, unhashed (OB 3.0 IdentityObject); the service signs it hashed and salted',
  properties: {
    type: { const: 'IdentityObject' },
    identityType: { const: 'emailAddress' },
    hashed: { const: false },
    identityHash: { type: 'string', format: 'email', maxLength: 320, description: 'The plain email address (hashed: false)' }
  }
} as const

const typeValue = { anyOf: [{ type: 'string', maxLength: 200 }, { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', maxLength: 200 } }] } as const

/** An unsigned OpenBadgeCredential as a staff system sends it to be signed. */
export const openBadgeCredentialInput = {
  type: 'object',
  additionalProperties: false,
  required: ['@context', 'type', 'credentialSubject'],
  description: 'An unsigned OpenBadgeCredential naming one of this service\'s achievements. A property the service would not sign as sent is refused (400, naming it): no id, credentialStatus, proof, evidence or other properties; the issuer, if given, is the achievement\'s issuer',
  properties: {
    '@context': { type: 'array', minItems: 2, maxItems: 3, items: { type: 'string', enum: [CONTEXTS.credentialsV2, CONTEXTS.openBadgesV3, CONTEXTS.openBadgesExtensions] }, description: `["${CONTEXTS.credentialsV2}", "${CONTEXTS.openBadgesV3}"], optionally "${CONTEXTS.openBadgesExtensions}"` },
    id: { type: 'string', maxLength: 2000, description: 'Refused: the service gives each credential its own URL (retry safely with an Idempotency-Key instead)' },
    type: { ...typeValue, description: '["VerifiableCredential", "OpenBadgeCredential"] (or "AchievementCredential")' },
    name: { type: 'string', maxLength: 1000, description: 'If given, the achievement\'s name (the service names the credential after it)' },
    issuer: {
      description: 'If given, the achievement\'s issuer: its URL, or its Profile with nothing that differs from the one the service embeds',
      anyOf: [
        { type: 'string', maxLength: 2000 },
        { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 2000 } } }
      ]
    },
    validFrom: { ...dateTime, description: 'Default: now. Whole seconds' },
    validUntil: { ...dateTime, description: 'Default: validFrom plus the achievement\'s validity, if it has one. Whole seconds' },
    awardedDate: { ...dateTime, description: 'Default: validFrom. Whole seconds' },
    credentialSubject: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'identifier', 'achievement'],
      properties: {
        id: { type: 'string', maxLength: 2000, description: 'Refused: the service gives the subject the holder\'s own stable urn:uuid (a wallet\'s DID once the holder adds the badge to a wallet)' },
        type: { ...typeValue, description: '"AchievementSubject"' },
        name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S', description: 'The recipient\'s name' },
        identifier: { type: 'array', minItems: 1, maxItems: 1, items: identityObject },
        achievement: {
          type: 'object',
          required: ['id'],
          description: 'One of this service\'s achievements: its URL as id; any other property given must be what the service publishes for it',
          properties: { id: { type: 'string', maxLength: 2000 } }
        }
      }
    }
  }
} as const

const issueOptions = {
  type: 'object',
  additionalProperties: false,
  description: 'IssueCredentialOptions, with two of the service\'s own',
  properties: {
    notify: { type: 'boolean', description: 'Tessera: false sends the holder no email (default true); the service\'s own issue request may carry it itself' },
    certificateNumber: { ...CERTIFICATE_NUMBER, description: `Tessera: ${CERTIFICATE_NUMBER.description}` },
    credentialId: { type: 'string', maxLength: 2000, description: 'Not supported (refused): the service gives each credential its own URL; retry safely with an Idempotency-Key' },
    mandatoryPointers: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 500 }, description: 'Not supported (refused): the service signs with eddsa-rdfc-2022, which has no selective disclosure' }
  }
} as const

/** IssueCredentialRequest: `{ credential, options }`. */
export const vcApiIssueBody = {
  examples: [
    {
      credential: {
        '@context': [CONTEXTS.credentialsV2, CONTEXTS.openBadgesV3],
        type: ['VerifiableCredential', 'OpenBadgeCredential'],
        validFrom: '2026-12-04T00:00:00Z',
        credentialSubject: {
          type: ['AchievementSubject'],
          name: 'Jane Q. Assistant',
          identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: false, identityHash: 'jane@example.org' }],
          achievement: { id: 'https://badges.example.org/achievements/Jq3xw9Lk2PzR7tYb' }
        }
      },
      options: { notify: false }
    },
    { credential: { achievementId: 'Jq3xw9Lk2PzR7tYb', recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2026-12-04' } }
  ],
  type: 'object',
  additionalProperties: false,
  required: ['credential'],
  properties: {
    credential: {
      description: 'An unsigned OpenBadgeCredential, or the service\'s own issue request (the body of POST /api/v1/credentials, told apart by its "achievementId")',
      if: { type: 'object', required: ['achievementId'] },
      then: issueCredentialBody,
      else: openBadgeCredentialInput
    },
    options: issueOptions
  }
} as const

type OpenBadgeInput = FromSchema<typeof openBadgeCredentialInput>
/**
 * The request as vcApiIssueBody validated it. FromSchema reads the if/then/else
 * of `credential` as unknown: the request (validated) is read as either shape.
 */
export interface VcApiIssueBody { credential: unknown, options?: FromSchema<typeof issueOptions> }
/** The credential of a validated request: one shape or the other. */
export type VcApiCredential = IssueCredentialBody | OpenBadgeInput

/** A field of the request the service will not sign as sent: 400, the field named in the detail and in `errors`. */
export function refusedField (path: string, message: string): AppError {
  const dotted = path.split('/').slice(1).join('.')
  return new AppError('validation_failed', `"${dotted}" ${message}`, { errors: [{ in: 'body', path, message: `"${dotted}" ${message}` }] })
}

/** Whether the credential is the service's own issue request rather than an Open Badges credential. */
export function isServiceIssueRequest (credential: VcApiCredential): credential is IssueCredentialBody {
  return 'achievementId' in credential
}

/** The options the service refuses, and the ones it takes (notify, certificateNumber). */
function readOptions (options: VcApiIssueBody['options']): { notify?: boolean, certificateNumber?: string } {
  if (options?.credentialId !== undefined) throw refusedField('/options/credentialId', 'is not supported: the service gives each credential its own URL (its id, returned in the credential and the Location header); to retry safely, send an Idempotency-Key header.')
  if (options?.mandatoryPointers !== undefined) throw refusedField('/options/mandatoryPointers', 'is not supported: the service signs with eddsa-rdfc-2022 Data Integrity proofs, which have no selective disclosure.')
  return {
    ...(options?.notify !== undefined ? { notify: options.notify } : {}),
    ...(options?.certificateNumber !== undefined ? { certificateNumber: options.certificateNumber } : {})
  }
}

/** The service's own issue request, with the options it did not set itself. */
export function serviceIssueRequest (credential: IssueCredentialBody, options: VcApiIssueBody['options']): IssueCredentialBody {
  return { ...readOptions(options), ...credential }
}

/**
 * Which of this service's achievements an Open Badges credential names (its
 * short id), from `credentialSubject.achievement.id`; 422 when it names none
 * of ours.
 */
export function requestedAchievementId (credential: OpenBadgeInput, base: string): string {
  const url = credential.credentialSubject.achievement.id
  const ours = parsePublicUrl(base, url)
  if (ours?.kind !== 'achievement' || ours.fragment !== undefined) {
    throw new AppError('unknown_achievement', `"credential.credentialSubject.achievement.id" must be the URL of one of this service's achievements (${base}/achievements/<id>): "${url}" is not.`, { errors: [{ in: 'body', path: '/credential/credentialSubject/achievement/id', message: 'not an achievement of this service' }] })
  }
  return ours.id
}

/** What the service signs for the achievement and its issuer: the documents an Open Badges credential is held to. */
export interface SignedDocuments {
  achievementId: string
  achievement: Record<string, unknown>
  issuer: Record<string, unknown> & { id: string }
}

const asSet = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).map(String).sort()

/** JSON equality, where a `type` may be a string or an array of the same types. */
function sameJson (given: unknown, ours: unknown, key?: string): boolean {
  if (key === 'type' && (typeof given === 'string' || Array.isArray(given))) return JSON.stringify(asSet(given)) === JSON.stringify(asSet(ours))
  if (Array.isArray(given)) return Array.isArray(ours) && given.length === ours.length && given.every((item, i) => sameJson(item, ours[i]))
  if (typeof given === 'object' && given !== null) {
    if (typeof ours !== 'object' || ours === null || Array.isArray(ours)) return false
    const a = given as Record<string, unknown>
    const b = ours as Record<string, unknown>
    return Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => k in b && sameJson(a[k], b[k], k))
  }
  return given === ours
}

/** Every property given must be what the service signs; names the first one that is not. */
function heldTo (given: Record<string, unknown>, ours: Record<string, unknown>, path: string, what: string): void {
  for (const [key, value] of Object.entries(given)) {
    if (!(key in ours)) throw refusedField(`${path}/${key}`, `is not part of ${what} the service signs: leave it out.`)
    if (!sameJson(value, ours[key], key)) throw refusedField(`${path}/${key}`, `differs from ${what} the service signs (${JSON.stringify(ours[key]).slice(0, 300)}): leave it out or send it as published.`)
  }
}

function typesAre (value: string | readonly string[] | undefined, path: string, required: readonly string[], allowed: readonly string[], words: string): void {
  if (value === undefined) return
  const types = typeof value === 'string' ? [value] : value
  const missing = required.filter((t) => !types.includes(t))
  const foreign = types.filter((t) => !allowed.includes(t))
  if (missing.length > 0 || foreign.length > 0 || (required.length < allowed.length && !types.some((t) => allowed.includes(t) && !required.includes(t)))) {
    throw refusedField(path, `must be ${words}${foreign.length > 0 ? ` (the service does not sign ${foreign.map((t) => `"${t}"`).join(', ')})` : ''}.`)
  }
}

/** A date the service signs as sent: whole seconds (it signs no fractions). */
function wholeSeconds (value: string | undefined, path: string): void {
  if (value !== undefined && Date.parse(value) % 1000 !== 0) throw refusedField(path, 'must be a whole second: the service signs dates without fractions of a second.')
}

/**
 * An Open Badges credential as the service's issue request, checked against
 * what the service would sign for it: every refusal names the field (400).
 */
export function openBadgeIssueRequest (credential: OpenBadgeInput, options: VcApiIssueBody['options'], signed: SignedDocuments): IssueCredentialBody {
  const extras = readOptions(options)
  const contexts = credential['@context']
  if (contexts[0] !== CONTEXTS.credentialsV2 || !contexts.includes(CONTEXTS.openBadgesV3) || new Set(contexts).size !== contexts.length) {
    throw refusedField('/credential/@context', `must be ["${CONTEXTS.credentialsV2}", "${CONTEXTS.openBadgesV3}"], optionally followed by "${CONTEXTS.openBadgesExtensions}".`)
  }
  typesAre(credential.type, '/credential/type', ['VerifiableCredential'], ['VerifiableCredential', 'OpenBadgeCredential', 'AchievementCredential'], '["VerifiableCredential", "OpenBadgeCredential"]')
  if (credential.id !== undefined) throw refusedField('/credential/id', 'is not accepted: the service gives each credential its own URL (returned as its id and in the Location header); to retry safely, send an Idempotency-Key header.')
  const subject = credential.credentialSubject
  if (subject.id !== undefined) throw refusedField('/credential/credentialSubject/id', 'is not accepted: the service gives the subject the holder\'s own stable urn:uuid (and a wallet\'s DID once the holder adds the badge to a wallet).')
  typesAre(subject.type, '/credential/credentialSubject/type', ['AchievementSubject'], ['AchievementSubject'], '"AchievementSubject"')
  const achievementName = signed.achievement.name
  if (credential.name !== undefined && credential.name !== achievementName) throw refusedField('/credential/name', `must be the achievement's name, "${String(achievementName)}" (the service names the credential after its achievement), or be left out.`)
  const issuer = credential.issuer
  if (issuer !== undefined) {
    const issuerId = typeof issuer === 'string' ? issuer : issuer.id
    if (issuerId !== signed.issuer.id) throw refusedField(typeof issuer === 'string' ? '/credential/issuer' : '/credential/issuer/id', `must be the achievement's issuer, "${signed.issuer.id}": the service signs only as the issuer of its achievements.`)
    if (typeof issuer === 'object') heldTo(issuer, signed.issuer, '/credential/issuer', 'the issuer Profile')
  }
  heldTo(subject.achievement, signed.achievement, '/credential/credentialSubject/achievement', 'the Achievement')
  wholeSeconds(credential.validFrom, '/credential/validFrom')
  wholeSeconds(credential.validUntil, '/credential/validUntil')
  wholeSeconds(credential.awardedDate, '/credential/awardedDate')
  const [identifier] = subject.identifier
  return {
    ...extras,
    achievementId: signed.achievementId,
    recipient: { name: subject.name, email: (identifier as { identityHash: string }).identityHash },
    ...(credential.validFrom !== undefined ? { validFrom: credential.validFrom } : {}),
    ...(credential.validUntil !== undefined ? { validUntil: credential.validUntil } : {}),
    ...(credential.awardedDate !== undefined ? { awardedDate: credential.awardedDate } : {})
  }
}

// ---------------------------------------------------------------------------
// POST /credentials/status

const statusValue = {
  description: 'The new status: true (or "1", "true") sets the revocation bit; false ("0", "false") asks to clear it, which the service refuses once a credential is revoked',
  anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['1', '0', 'true', 'false'] }]
} as const

const statusEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['BitstringStatusListEntry', 'BitstringStatusList'], description: 'BitstringStatusListEntry (BitstringStatusList, as the VC API\'s example has it, is taken as the same)' },
    statusPurpose: { type: 'string', enum: ['revocation'], description: 'Only revocation: the service\'s credentials carry no other status' },
    status: statusValue,
    id: { type: 'string', maxLength: 2000, description: 'If given, the credential\'s status entry (…/status-lists/<id>#<index>)' },
    statusListIndex: { type: 'string', maxLength: 20, description: 'If given, the credential\'s index' },
    statusListCredential: { type: 'string', maxLength: 2000, description: 'If given, the credential\'s status list URL' }
  }
} as const

/**
 * UpdateCredentialStatus, in both shapes the VC API has had: the CCG draft's
 * `credentialStatus: [{ type, status }]`, and VCALM's `credentialStatus: { type,
 * statusPurpose }` with `status: true|false` beside it.
 */
export const vcApiStatusBody = {
  examples: [
    { credentialId: 'https://badges.example.org/credentials/Xb2mQ8rT5vNc1LpA', credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] },
    { credentialId: 'Xb2mQ8rT5vNc1LpA', credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation' }, status: true, reason: 'Exam result annulled' }
  ],
  type: 'object',
  additionalProperties: false,
  required: ['credentialId', 'credentialStatus'],
  properties: {
    credentialId: { type: 'string', minLength: 1, maxLength: 2000, description: 'The credential\'s URL (its id) or its short id' },
    credentialStatus: {
      anyOf: [
        { type: 'array', minItems: 1, maxItems: 1, items: statusEntry },
        statusEntry
      ]
    },
    status: { ...statusValue, description: `VCALM's shape: the new status, beside a credentialStatus object. ${statusValue.description}` },
    reason: { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S', description: 'Tessera: the revocation\'s reason for the audit trail (staff\'s note, never sent to anyone); default: "Revoked through the W3C VC API"' }
  }
} as const

export type VcApiStatusBody = FromSchema<typeof vcApiStatusBody>

export const DEFAULT_VC_API_REVOCATION_REASON = 'Revoked through the W3C VC API (POST /credentials/status)'

/** A status request as the service acts on it. */
export interface StatusRequest {
  /** The credential's short id. */
  id: string
  /** The status asked for: true revokes. */
  status: boolean
  /** The entry fields the caller named, each to be the credential's own. */
  entry: { id?: string, statusListIndex?: string, statusListCredential?: string }
  reason: string
}

const asBoolean = (value: boolean | string): boolean => value === true || value === '1' || value === 'true'

/** Reads a status request: which credential (its URL or short id), and the one status asked for. */
export function readStatusRequest (body: VcApiStatusBody, base: string): StatusRequest {
  const ours = parsePublicUrl(base, body.credentialId)
  const id = ours?.kind === 'credential' && ours.fragment === undefined ? ours.id : new RegExp(ID_PATTERN).test(body.credentialId) ? body.credentialId : undefined
  if (id === undefined) throw new AppError('not_found', `"credentialId" names no credential of this service: "${body.credentialId}" is neither a credential URL (${base}/credentials/<id>) nor a credential id.`)
  const listed = Array.isArray(body.credentialStatus)
  const entry = (listed ? (body.credentialStatus as readonly unknown[])[0] : body.credentialStatus) as FromSchema<typeof statusEntry>
  const entryPath = listed ? '/credentialStatus/0' : '/credentialStatus'
  const given = [entry.status, body.status].flatMap((s) => s === undefined ? [] : [s])
  if (given.length === 0) throw refusedField(listed ? `${entryPath}/status` : '/status', 'is required: true revokes the credential.')
  const [first, second] = given.map(asBoolean)
  if (second !== undefined && second !== first) throw refusedField('/status', `contradicts "${entryPath.slice(1).replaceAll('/', '.')}.status".`)
  return {
    id,
    status: first as boolean,
    entry: {
      ...(entry.id !== undefined ? { id: entry.id } : {}),
      ...(entry.statusListIndex !== undefined ? { statusListIndex: entry.statusListIndex } : {}),
      ...(entry.statusListCredential !== undefined ? { statusListCredential: entry.statusListCredential } : {})
    },
    reason: body.reason ?? DEFAULT_VC_API_REVOCATION_REASON
  }
}

/** The credential's status entry, as its current version was signed with it. */
export interface SignedStatusEntry { id: string, type: string, statusPurpose: string, statusListIndex: string, statusListCredential: string }

/** Each entry field the caller named must be the credential's own (400 naming the field). */
export function checkNamedEntry (asked: StatusRequest['entry'], signed: SignedStatusEntry, listed: boolean): void {
  const path = listed ? '/credentialStatus/0' : '/credentialStatus'
  for (const key of ['id', 'statusListIndex', 'statusListCredential'] as const) {
    const value = asked[key]
    if (value !== undefined && value !== signed[key]) throw refusedField(`${path}/${key}`, `is not this credential's status entry ("${signed[key]}").`)
  }
}
