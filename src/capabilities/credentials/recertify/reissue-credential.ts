import type { Sql } from 'postgres'
import { findAchievement, type AchievementRow } from '../../achievements/store.js'
import { achievementArchivedError } from '../../achievements/archive-achievement.js'
import { recordAuditEvent } from '../../audit/store.js'
import type { Db } from '../../../infrastructure/db/types.js'
import { AppError, notFound } from '../../../kernel/errors.js'
import { findIssuer, type IssuerRow } from '../../issuers/store.js'
import { countStatusEntry } from '../../status-lists/store.js'
import { isoSeconds, toWholeSeconds } from '../../../kernel/time.js'
import { normaliseEmail } from '../build-credential.js'
import { carriedSubjectId, createVersion, type SignedVersion, type VersionDeps } from '../create-version.js'
import type { IssuedCredential } from '../issue/issue-credential.js'
import { decideRecertification, type RecertificationPolicy, type RecertificationRequest } from '../../achievements/recertification-rules.js'
import { setStatusBits } from '../revoke/revoke-credential.js'
import { findSignedVersion, listLiveVersions, lockCredential, markSuperseded, setCurrentVersion, type CredentialRow, type SignedVersionRow } from '../store.js'

export interface ReissueDeps extends VersionDeps {
  sql: Sql
  requestId?: string
  /**
   * What else must follow a corrected address, in the same transaction: the
   * portal ends the sessions signed in as the old one. Passed in by whoever
   * wires the use case, so credentials know nothing of the portal.
   */
  onRecipientEmailChanged?: (tx: Db, previousEmail: string) => Promise<unknown>
}

export interface CorrectionRequest {
  notify?: boolean
  reason: 'correction'
  recipient: { name?: string, email?: string }
  note?: string
}

interface Locked { credential: CredentialRow, current: SignedVersionRow, achievement: AchievementRow, issuer: IssuerRow }

/** Locks the credential and loads what a new version needs; refuses revoked credentials. */
export async function lockForNewVersion (tx: Db, id: string): Promise<Locked> {
  const credential = await lockCredential(tx, id)
  if (credential === undefined) throw notFound(`Credential "${id}"`)
  if (credential.revokedAt !== null) {
    throw new AppError('credential_revoked', `Credential "${id}" was revoked on ${isoSeconds(credential.revokedAt)}; a revoked credential gets no new versions. Issue a new credential instead.`)
  }
  const current = await findSignedVersion(tx, id)
  const achievement = await findAchievement(tx, credential.achievementId)
  const issuer = achievement === undefined ? undefined : await findIssuer(tx, achievement.issuerId)
  if (current === undefined || achievement === undefined || issuer === undefined) throw new Error(`Credential "${id}" has inconsistent records.`)
  return { credential, current, achievement, issuer }
}

/**
 * A recertification's validFrom: now, in whole seconds (VC-JWT nbf), so it is
 * verifiable the moment it is answered. Never before the current version's
 * start: a version whose period has not begun yet (issued with a future
 * validFrom) must not be made valid early.
 */
function nextValidFrom (current: { validFrom: Date }, now: Date): Date {
  return new Date(Math.max(toWholeSeconds(now).getTime(), current.validFrom.getTime()))
}

/**
 * What a correction and a re-signing share. A correction changes a fact
 * about the holder (name, email), never the certification period: the new
 * version carries exactly the validFrom and validUntil of the version it
 * corrects, so an expired credential stays expired with its own dates, and a
 * valid one is valid for the same period. (Version numbers, not dates, order
 * the versions; the credential URL, its refresh service, serves the current
 * one.) Every live version is superseded (its bit set) and the new one is
 * signed and made current.
 */
async function replaceLiveVersions (tx: Db, deps: ReissueDeps, locked: Locked, content: { recipient: { name: string, email: string }, kind: 'correction' | 'resign', reason: string, notifyHolder: boolean }): Promise<{ version: number, signed: SignedVersion, validFrom: Date, until: Date | null, superseded: number[] }> {
  const { credential, current, achievement, issuer } = locked
  const id = credential.id
  const until = current.validUntil
  const validFrom = current.validFrom
  const live = await listLiveVersions(tx, id)
  await setStatusBits({ ...deps, sql: tx }, live)
  await markSuperseded(tx, id, live.map((v) => v.version), deps.now)
  const version = credential.currentVersion + 1
  const signed = await createVersion(tx, deps, {
    credentialId: id,
    issuer,
    achievement,
    recipient: content.recipient,
    subjectId: await carriedSubjectId(tx, current, content.recipient.email),
    validFrom,
    ...(until !== null ? { validUntil: until } : {}),
    awardedDate: credential.awardedDate ?? current.validFrom,
    version,
    kind: content.kind,
    reason: content.reason,
    notifyHolder: content.notifyHolder
  })
  await setCurrentVersion(tx, id, { version, recipientName: content.recipient.name, recipientEmail: content.recipient.email, validUntil: until }, deps.changes)
  return { version, signed, validFrom, until, superseded: live.map((v) => v.version) }
}

const summary = (v: { recipientName: string, recipientEmail: string, validFrom: Date, validUntil: Date | null }): Record<string, unknown> => ({
  recipientName: v.recipientName,
  recipientEmail: v.recipientEmail,
  validFrom: v.validFrom.toISOString(),
  validUntil: v.validUntil?.toISOString() ?? null
})

/**
 * A correction (name or email): a new version under the same id with the
 * corrected recipient and the same period as the version it corrects. Every
 * version still live carries the wrong data, so their status bits are set
 * and they are marked superseded: verifying one answers `superseded`.
 */
export async function correctCredential (deps: ReissueDeps, id: string, request: CorrectionRequest): Promise<IssuedCredential> {
  return await deps.sql.begin(async (tx) => await correctCredentialIn(tx, deps, id, request)) as IssuedCredential
}

/** The same, in the caller's transaction (an approved correction request). */
export async function correctCredentialIn (tx: Db, deps: ReissueDeps, id: string, request: CorrectionRequest): Promise<IssuedCredential> {
  const { credential, current, achievement, issuer } = await lockForNewVersion(tx, id)
  const recipient = {
    name: request.recipient.name ?? credential.recipientName,
    email: request.recipient.email !== undefined ? normaliseEmail(request.recipient.email) : credential.recipientEmail
  }
  if (recipient.name === credential.recipientName && recipient.email === credential.recipientEmail) {
    throw new AppError('validation_failed', '"recipient" changes nothing: give the corrected "name" and/or "email".')
  }
  const { version, signed, validFrom, until, superseded } = await replaceLiveVersions(tx, deps, { credential, current, achievement, issuer }, {
    recipient, kind: 'correction', reason: request.note ?? 'correction', notifyHolder: request.notify !== false
  })
  await recordAuditEvent(tx, {
    actor: deps.actor,
    action: 'credential.corrected',
    subjectType: 'credential',
    subjectId: id,
    version,
    reason: request.note ?? 'correction',
    ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
    before: { version: current.version, ...summary(current) },
    after: { version, ...summary({ ...recipient, recipientName: recipient.name, recipientEmail: recipient.email, validFrom, validUntil: until }) },
    details: { supersededVersions: superseded }
  })
  if (recipient.email !== credential.recipientEmail) await deps.onRecipientEmailChanged?.(tx, credential.recipientEmail)
  await countStatusEntry(tx, signed.statusListId)
  return { id, url: deps.urls.credential(id), version, credential: signed.credential, jwt: signed.jwt }
}

/**
 * A recertification under the achievement's rules (recertification-rules.ts):
 * a new version under the same id with the new period. The prior version is
 * not marked superseded and its bit stays clear: it is left to expire, a true
 * statement of its period (a later revocation still sets its bit); this
 * service's own verifier answers `superseded` from the renewal on, pointing
 * at the current version (status-check.ts). A refusal is 422 naming the rule.
 */
export async function recertifyCredential (deps: ReissueDeps, id: string, request: RecertificationRequest & { note?: string, notify?: boolean }): Promise<IssuedCredential> {
  return await deps.sql.begin(async (tx) => await recertifyCredentialIn(tx, deps, id, request)) as IssuedCredential
}

/** The same, in the caller's transaction (an approved application: the version and the decision commit together). */
export async function recertifyCredentialIn (tx: Db, deps: ReissueDeps, id: string, request: RecertificationRequest & { note?: string, notify?: boolean, details?: Record<string, unknown> }): Promise<IssuedCredential> {
  const { credential, current, achievement, issuer } = await lockForNewVersion(tx, id)
  // Archiving retires the achievement: its badges may be corrected, not renewed.
  if (achievement.archivedAt !== null) throw achievementArchivedError(achievement, 'recertifications')
  const now = nextValidFrom(current, deps.now)
  const decision = decideRecertification({ policy: achievement.recertification as RecertificationPolicy | null, validityMonths: achievement.validityMonths, currentValidUntil: current.validUntil, request, now })
  if (!decision.allowed) throw new AppError('recertification_refused', decision.message, { rule: decision.rule })
  const version = credential.currentVersion + 1
  const recipient = { name: credential.recipientName, email: credential.recipientEmail }
  const signed = await createVersion(tx, deps, {
    credentialId: id,
    issuer,
    achievement,
    recipient,
    subjectId: await carriedSubjectId(tx, current, recipient.email),
    validFrom: decision.validFrom,
    validUntil: decision.validUntil,
    awardedDate: credential.awardedDate ?? current.validFrom,
    version,
    kind: 'recertification',
    reason: request.method,
    notifyHolder: request.notify !== false
  })
  await setCurrentVersion(tx, id, { version, recipientName: recipient.name, recipientEmail: recipient.email, validUntil: decision.validUntil }, deps.changes)
  await recordAuditEvent(tx, {
    actor: deps.actor,
    action: 'credential.recertified',
    subjectType: 'credential',
    subjectId: id,
    version,
    reason: request.note ?? request.method,
    ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
    before: { version: current.version, ...summary(current) },
    after: { version, ...summary({ recipientName: recipient.name, recipientEmail: recipient.email, validFrom: decision.validFrom, validUntil: decision.validUntil }) },
    details: { ...(request.method === 'exam' ? { method: 'exam' } : { method: request.method, points: request.points }), ...request.details }
  })
  await countStatusEntry(tx, signed.statusListId)
  return { id, url: deps.urls.credential(id), version, credential: signed.credential, jwt: signed.jwt }
}

/**
 * Re-signing after a key compromise: a new version with the same data, signed
 * by the issuer's current keys; the versions still live are superseded (their
 * bits set), so the copies signed by the withdrawn key stop being current.
 */
export async function resignCredential (deps: ReissueDeps, id: string): Promise<IssuedCredential> {
  return await deps.sql.begin(async (tx) => {
    const locked = await lockForNewVersion(tx, id)
    const recipient = { name: locked.credential.recipientName, email: locked.credential.recipientEmail }
    const { version, signed, superseded } = await replaceLiveVersions(tx, deps, locked, { recipient, kind: 'resign', reason: 're-signed after a key compromise', notifyHolder: false })
    await recordAuditEvent(tx, { actor: deps.actor, action: 'credential.resigned', subjectType: 'credential', subjectId: id, version, reason: 're-signed after a key compromise', before: { version: locked.current.version }, after: { version }, details: { supersededVersions: superseded } })
    await countStatusEntry(tx, signed.statusListId)
    return { id, url: deps.urls.credential(id), version, credential: signed.credential, jwt: signed.jwt }
  }) as IssuedCredential
}
