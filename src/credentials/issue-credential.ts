import type { Sql } from 'postgres'
import { findAchievement } from '../achievements/store.js'
import { recordAuditEvent } from '../audit/store.js'
import type { Db } from '../db/types.js'
import { AppError } from '../errors.js'
import { newId } from '../ids.js'
import { findIssuer } from '../issuers/store.js'
import type { KeyRing } from '../keys/key-ring.js'
import type { Outbox } from '../notifications/events.js'
import type { PublicUrls } from '../public-urls.js'
import type { StatusListPolicy } from '../status-lists/policy.js'
import { countStatusEntry } from '../status-lists/store.js'
import { addMonths, toWholeSeconds } from '../time.js'
import { normaliseEmail } from './build-credential.js'
import { createVersion } from './create-version.js'
import type { IssueCredentialBody } from './schemas.js'
import { findHeldCredential, insertBadge, insertCredential, lockRecipientAchievement } from './store.js'

export interface IssueDeps {
  sql: Sql
  keyRing: KeyRing
  urls: PublicUrls
  now: Date
  actor: string
  statusLists: StatusListPolicy
  outbox: Outbox
  requestId?: string
}

export interface IssuedCredential {
  id: string
  url: string
  version: number
  credential: Record<string, unknown>
  jwt: string
}

/** Works out validFrom/validUntil/awardedDate from the request and the achievement's validity. */
export function validityPeriod (body: Pick<IssueCredentialBody, 'validFrom' | 'validUntil' | 'awardedDate'>, validityMonths: number | null, now: Date): { validFrom: Date, validUntil?: Date, awardedDate: Date } {
  const validFrom = toWholeSeconds(body.validFrom !== undefined ? new Date(body.validFrom) : now)
  const validUntil = body.validUntil !== undefined
    ? toWholeSeconds(new Date(body.validUntil))
    : validityMonths !== null ? addMonths(validFrom, validityMonths) : undefined
  if (validUntil !== undefined && validUntil.getTime() <= validFrom.getTime()) {
    throw new AppError('invalid_validity_period', '"validUntil" must be after "validFrom".')
  }
  const awardedDate = body.awardedDate !== undefined ? toWholeSeconds(new Date(body.awardedDate)) : validFrom
  return { validFrom, ...(validUntil !== undefined ? { validUntil } : {}), awardedDate }
}

/**
 * Issues one OpenBadgeCredential (version 1 of a new credential URL) in one
 * transaction: refuse a duplicate -> store the badge and the credential ->
 * create the signed version (create-version.ts) -> audit -> count the status
 * entry. A failure at any step rolls all of it back: there is a complete,
 * verifiable credential or nothing.
 */
export async function issueCredential (deps: IssueDeps, body: IssueCredentialBody): Promise<IssuedCredential> {
  return await deps.sql.begin(async (tx) => await issueCredentialIn(tx, deps, body)) as IssuedCredential
}

/**
 * The same, in the caller's transaction (an approved badge order issues the
 * credential and marks the order approved together).
 */
export async function issueCredentialIn (tx: Db, deps: IssueDeps, body: IssueCredentialBody): Promise<IssuedCredential> {
  const email = normaliseEmail(body.recipient.email)
  // Statements whose results are not needed in between are sent together
  // (postgres.js pipelines them; PostgreSQL runs them in order): one round trip
  // instead of three. The held-credential check runs after the lock is taken,
  // with a snapshot taken after it.
  const [achievement, , held] = await Promise.all([
    findAchievement(tx, body.achievementId),
    lockRecipientAchievement(tx, body.achievementId, email),
    findHeldCredential(tx, body.achievementId, email, deps.now)
  ])
  if (achievement === undefined) throw new AppError('unknown_achievement', `"achievementId" names no achievement: "${body.achievementId}".`)
  const issuer = await findIssuer(tx, achievement.issuerId)
  if (issuer === undefined) throw new Error(`Achievement "${achievement.id}" names a missing issuer "${achievement.issuerId}".`)
  const period = validityPeriod(body, achievement.validityMonths, deps.now)

  const id = newId()
  const url = deps.urls.credential(id)
  if (held !== undefined) {
    const existing = deps.urls.credential(held.id)
    throw new AppError('duplicate_credential', `${body.recipient.email} already holds a current "${achievement.name}" credential: ${existing}. Reissue or recertify it instead of issuing another.`, { existing: { id: held.id, url: existing } })
  }
  const badgeId = newId()
  await Promise.all([
    insertBadge(tx, { id: badgeId, issuerId: issuer.id, achievementId: achievement.id, recipientName: body.recipient.name, recipientEmail: email }),
    insertCredential(tx, { id, badgeId, issuerId: issuer.id, achievementId: achievement.id, recipientName: body.recipient.name, recipientEmail: email, awardedDate: period.awardedDate, validUntil: period.validUntil ?? null, issuedAt: deps.now, issuedBy: deps.actor })
  ])
  const signed = await createVersion(tx, deps, { credentialId: id, issuer, achievement, recipient: body.recipient, ...period, version: 1, kind: 'issue', reason: null, notifyHolder: body.notify !== false })
  await Promise.all([recordAuditEvent(tx, {
    actor: deps.actor,
    action: 'credential.issued',
    subjectType: 'credential',
    subjectId: id,
    version: 1,
    ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
    after: { achievementId: achievement.id, recipientName: body.recipient.name, recipientEmail: email, validFrom: period.validFrom.toISOString(), validUntil: period.validUntil?.toISOString() ?? null },
    details: { badgeId }
  }),
  // Last: it locks the list's row until commit.
  countStatusEntry(tx, signed.statusListId)])
  return { id, url, version: 1, credential: signed.credential, jwt: signed.jwt }
}
