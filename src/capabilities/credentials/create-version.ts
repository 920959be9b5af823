import { randomBytes } from 'node:crypto'
import { achievementDocument } from '../achievements/achievement-document.js'
import type { AchievementRow } from '../achievements/store.js'
import type { Db } from '../../infrastructure/db/types.js'
import { AppError } from '../../kernel/errors.js'
import { embeddedIssuerProfile } from '../issuers/profile.js'
import type { IssuerRow } from '../issuers/store.js'
import type { IssuerSigningKeys, KeyRing } from '../keys/key-ring.js'
import { credentialEventData, type EventType, type NewEvent, type Outbox } from '../../infrastructure/jobs/outbox.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import type { StatusListPolicy } from '../status-lists/policy.js'
import { claimStatusEntry, type StatusEntry, type StatusListDeps } from '../status-lists/service.js'
import { buildOpenBadgeCredential, normaliseEmail } from './build-credential.js'
import { validateOpenBadgeSchema } from './ob-schema.js'
import { signDataIntegrity, signJwt } from '../../infrastructure/signing/sign.js'
import { insertVersions, subjectIdsFor, type NewVersion, type VersionKind } from './store.js'

export interface VersionDeps extends Pick<StatusListDeps, 'dataIntegrity' | 'changes'> {
  keyRing: KeyRing
  urls: PublicUrls
  now: Date
  actor: string
  statusLists: StatusListPolicy
  /** Where the version's event goes (webhooks, the holder's email), in the same transaction. */
  outbox: Outbox
}

export interface VersionContent {
  credentialId: string
  issuer: IssuerRow
  achievement: AchievementRow
  recipient: { name: string, email: string }
  /** The credentialSubject's id: the holder's urn:uuid (subjectIdFor) or a wallet's DID. */
  subjectId: string
  validFrom: Date
  validUntil?: Date
  awardedDate: Date
  version: number
  kind: VersionKind
  reason: string | null
  /** False: no email to the holder for this version (staff's notify: false); webhooks are told regardless. */
  notifyHolder?: boolean
}

const EVENT_FOR_KIND: Record<VersionKind, EventType> = {
  issue: 'credential.issued',
  correction: 'credential.reissued',
  recertification: 'credential.recertified',
  resign: 'credential.reissued',
  // A new version bound to the holder's wallet: webhooks hear of it; the holder did it and gets no email.
  wallet: 'credential.reissued'
}

export interface SignedVersion {
  version: number
  credential: Record<string, unknown>
  jwt: string
  statusListId: string
}

/** The issuer's signing keys, or a 503 that says none are configured (checked before anything is claimed). */
export function signingKeysOf (keyRing: KeyRing, issuerId: string): IssuerSigningKeys {
  const keys = keyRing.signingKeys(issuerId)
  if (keys === undefined) throw new AppError('service_unavailable', `No signing keys are configured for issuer "${issuerId}".`)
  return keys
}

/**
 * A new version's subject id: the current version's (a correction keeps the
 * person; a wallet's DID, once bound, stays the subject of later versions),
 * or, for a credential signed before subjects had ids, the holder's urn:uuid.
 */
export async function carriedSubjectId (tx: Db, current: { subjectId: string | null }, email: string): Promise<string> {
  if (current.subjectId !== null) return current.subjectId
  const normalised = normaliseEmail(email)
  return (await subjectIdsFor(tx, [normalised])).get(normalised) as string
}

/** A version signed and checked, with the rows that store it: what createVersion and issueMany share. */
export interface PreparedVersion {
  credential: Record<string, unknown>
  jwt: string
  row: NewVersion
  event: NewEvent
}

/**
 * Builds (pure) -> signs (Data Integrity, then VC-JWT of the same document) ->
 * checks against the 1EdTech schema, for a status entry already claimed; and
 * makes the version's row and event. Stores nothing.
 */
export async function prepareVersion (deps: Omit<VersionDeps, 'statusLists' | 'outbox'>, content: VersionContent, status: StatusEntry): Promise<PreparedVersion> {
  const keys = signingKeysOf(deps.keyRing, content.issuer.id)
  const url = deps.urls.credential(content.credentialId)
  const unsigned = buildOpenBadgeCredential({
    credentialUrl: url,
    issuerProfile: embeddedIssuerProfile(content.issuer, deps.urls) as Record<string, unknown> & { id: string },
    achievement: achievementDocument(content.achievement, content.issuer, deps.urls) as Record<string, unknown> & { name: string },
    recipient: content.recipient,
    subjectId: content.subjectId,
    identitySalt: randomBytes(16).toString('hex'),
    validFrom: content.validFrom,
    ...(content.validUntil !== undefined ? { validUntil: content.validUntil } : {}),
    awardedDate: content.awardedDate,
    status: { listUrl: deps.urls.statusList(status.listId), index: status.index, purpose: 'revocation' }
  })
  // The Data Integrity proof is made on a worker thread while this thread signs the JWT.
  const [credential, jwt] = await Promise.all([signDataIntegrity(unsigned, keys.dataIntegrity, deps.now, deps.dataIntegrity), signJwt(unsigned, keys.jwt, deps.now)])
  const schema = validateOpenBadgeSchema(credential)
  if (!schema.valid) throw new Error(`Issued credential fails the 1EdTech schema: ${schema.errors.join('; ')}`)
  const row: NewVersion = {
    credentialId: content.credentialId,
    version: content.version,
    kind: content.kind,
    reason: content.reason,
    recipientName: content.recipient.name,
    recipientEmail: normaliseEmail(content.recipient.email),
    subjectId: content.subjectId,
    validFrom: content.validFrom,
    validUntil: content.validUntil ?? null,
    statusListId: status.listId,
    statusIndex: status.index,
    document: JSON.stringify(credential),
    jwt,
    signingKeyId: keys.dataIntegrity.keyId,
    jwtKeyId: keys.jwt.keyId,
    issuedAt: deps.now,
    issuedBy: deps.actor
  }
  const event: NewEvent = {
    type: EVENT_FOR_KIND[content.kind],
    occurredAt: deps.now,
    data: credentialEventData(deps.urls, {
      credentialId: content.credentialId,
      version: content.version,
      achievementId: content.achievement.id,
      state: content.validUntil !== undefined && content.validUntil.getTime() <= deps.now.getTime() ? 'expired' : 'valid',
      validUntil: content.validUntil,
      reason: content.reason
    }),
    // Re-signing after a key compromise changes nothing the holder sees.
    notifyHolder: content.kind !== 'resign' && content.kind !== 'wallet' && content.notifyHolder !== false
  }
  return { credential, jwt, row, event }
}

/**
 * Makes one signed version of a credential inside the caller's transaction:
 * claim a status index -> prepareVersion (build, sign, check) -> store the
 * version and its event. Every version, first issue or reissue, takes this
 * path (a batch takes issueMany, which shares prepareVersion), so every
 * version passes the same checks and records its event in the outbox. The
 * caller counts the status entry last (countStatusEntry) and commits.
 */
export async function createVersion (tx: Db, deps: VersionDeps, content: VersionContent): Promise<SignedVersion> {
  signingKeysOf(deps.keyRing, content.issuer.id) // before claiming a status entry
  const status = await claimStatusEntry({ sql: tx, keyRing: deps.keyRing, urls: deps.urls, now: deps.now, dataIntegrity: deps.dataIntegrity }, deps.statusLists, content.issuer.id)
  const prepared = await prepareVersion(deps, content, status)
  // Sent together (pipelined), run in order: the version, then its event.
  await Promise.all([insertVersions(tx, [prepared.row]), deps.outbox.record(tx, prepared.event)])
  return { version: content.version, credential: prepared.credential, jwt: prepared.jwt, statusListId: status.listId }
}
