import { CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import { isObject, type JsonObject } from '../../kernel/json.js'
import type { CredentialSummary } from './result.js'

/** Readers for the few credential fields the checks need, tolerant of VCDM 1.1 and 2.0 and of any shape. */

export const VCDM1_CONTEXT = CONTEXTS.credentialsV1
export const VCDM2_CONTEXT = CONTEXTS.credentialsV2

type Json = JsonObject

const str = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined

export const asArray = (value: unknown): unknown[] => value === undefined ? [] : Array.isArray(value) ? value : [value]

export function contexts (credential: Json): unknown[] {
  return asArray(credential['@context'])
}

export function isVcdm1 (credential: Json): boolean {
  return contexts(credential)[0] === VCDM1_CONTEXT
}

export function types (value: unknown): string[] {
  return isObject(value) ? asArray(value.type).filter((t): t is string => typeof t === 'string') : []
}

const OB_CONTEXT_PREFIX = 'https://purl.imsglobal.org/spec/ob/'
const OB_TYPES = new Set(['OpenBadgeCredential', 'AchievementCredential', 'EndorsementCredential'])

/**
 * Does the credential say it is an Open Badge (an Open Badges type, or an
 * Open Badges context)? Only then do the Open Badges rules (schema, format,
 * a required validFrom) apply; any other VC is checked as VCDM alone.
 */
export function isOpenBadge (credential: Json): boolean {
  return types(credential).some((t) => OB_TYPES.has(t)) ||
    contexts(credential).some((c) => typeof c === 'string' && c.startsWith(OB_CONTEXT_PREFIX))
}

export function issuerId (credential: Json): string | undefined {
  const issuer = credential.issuer
  return typeof issuer === 'string' ? str(issuer) : isObject(issuer) ? str(issuer.id) : undefined
}

export function issuerName (credential: Json): string | undefined {
  const issuer = credential.issuer
  return isObject(issuer) ? str(issuer.name) : undefined
}

/** validFrom, or VCDM 1.1 issuanceDate. */
export function validFrom (credential: Json): string | undefined {
  return str(credential.validFrom) ?? str(credential.issuanceDate)
}

/** validUntil, or VCDM 1.1 expirationDate. */
export function validUntil (credential: Json): string | undefined {
  return str(credential.validUntil) ?? str(credential.expirationDate)
}

function firstSubject (credential: Json): Json | undefined {
  const subject = asArray(credential.credentialSubject)[0]
  return isObject(subject) ? subject : undefined
}

/** A short description of the credential for people; only fields that are present. */
export function summarise (credential: Json): CredentialSummary {
  const summary: CredentialSummary = {}
  const id = str(credential.id)
  if (id !== undefined) summary.id = id
  const issuer = { id: issuerId(credential), name: issuerName(credential) }
  if (issuer.id !== undefined || issuer.name !== undefined) summary.issuer = dropUndefined(issuer)
  const subject = firstSubject(credential)
  const achievement = isObject(subject?.achievement) ? subject.achievement : undefined
  if (achievement !== undefined) {
    summary.achievement = dropUndefined({ id: str(achievement.id), name: str(achievement.name), achievementType: str(achievement.achievementType) })
  }
  const recipientName = str(subject?.name)
  if (recipientName !== undefined) summary.recipient = { name: recipientName }
  const from = validFrom(credential)
  const until = validUntil(credential)
  if (from !== undefined) summary.validFrom = from
  if (until !== undefined) summary.validUntil = until
  return summary
}

function dropUndefined<T extends Record<string, unknown>> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
