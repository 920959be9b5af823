import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { lockCredential } from '../credentials/store.js'
import { recertifyCredentialIn, type ReissueDeps } from '../credentials/recertify/reissue-credential.js'
import type { IssuedCredential } from '../credentials/issue/issue-credential.js'
import { credentialEventData, type EventType, type Outbox } from '../../infrastructure/jobs/outbox.js'
import type { Db } from '../../infrastructure/db/types.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { loadCeRecord, progressInWords, progressOf } from './progress.js'
import { findAchievement, type AchievementRow } from '../achievements/store.js'
import type { ContinuingEducationProgress } from '../achievements/recertification-rules.js'
import { findSignedVersion, findVersion, type SignedVersionRow } from '../credentials/store.js'
import { freezeActivities, insertApplication, listActivitiesOfApplication, listApplicationsOfCredential, lockApplication, markApplicationDecided, unfreezeActivities, type ActivityRow, type ApplicationRow } from './store.js'

/**
 * The holder's application for recertification by continuing education, and
 * staff's review of it. Applying freezes the activities it counts (they can
 * no longer be removed); approving runs the same recertification as the staff
 * route, with the points those activities add up to, in the transaction that
 * marks the application approved; rejecting gives the activities back.
 */

export interface ApplyDeps { sql: Sql, now: Date, actor: string, requestId?: string, outbox: Outbox, urls: PublicUrls }

async function recordEvent (tx: Db, deps: { outbox: Outbox, urls: PublicUrls, now: Date }, type: EventType, application: { id: string, credentialId: string, version: number, achievementId: string, validUntil: Date | null, points: { total: number, approved: number }, reason?: string }, notifyHolder: boolean): Promise<void> {
  const expired = application.validUntil !== null && application.validUntil.getTime() < deps.now.getTime()
  await deps.outbox.record(tx, {
    type,
    occurredAt: deps.now,
    notifyHolder,
    data: {
      ...credentialEventData(deps.urls, { credentialId: application.credentialId, version: application.version, achievementId: application.achievementId, state: expired ? 'expired' : 'valid', validUntil: application.validUntil, ...(application.reason === undefined ? {} : { reason: application.reason }) }),
      applicationId: application.id,
      points: application.points
    }
  })
}

/**
 * The holder applies. Refused, in the rules' own words, when the counted
 * points fall short or the deadline has passed; a second application while
 * one is pending (even two at once: the partial unique index) is a 409 naming it.
 */
export async function applyForRecertification (deps: ApplyDeps, credentialId: string): Promise<ApplicationRow> {
  return await deps.sql.begin(async (tx) => {
    const locked = await lockCredential(tx, credentialId)
    if (locked === undefined) throw notFound(`Credential "${credentialId}"`)
    if (locked.revokedAt !== null) throw new AppError('credential_revoked', 'This credential is revoked, so it cannot be recertified.')
    const record = await loadCeRecord(tx, credentialId, deps.now)
    if (record.pending !== undefined) throw pendingError(record.pending)
    if (!record.progress.offered) throw new AppError('continuing_education_not_offered', `"${record.achievement.name}" is not renewed by continuing education.`)
    if (record.achievement.archivedAt !== null) throw new AppError('achievement_archived', `"${record.achievement.name}" is retired: its badges are no longer renewed.`)
    if (!record.progress.canApply) throw new AppError('recertification_refused', record.progress.refusal?.message ?? 'The rules are not met yet.', { rule: record.progress.refusal?.rule, progress: progressInWords(record.progress) })
    const id = newId()
    const points = { total: record.progress.earned.points, approved: record.progress.earned.approvedPoints }
    const inserted = await insertApplication(tx, { id, credentialId, credentialVersion: record.version.version, pointsTotal: points.total, pointsApproved: points.approved, submittedAt: deps.now, submittedBy: deps.actor })
    if (!inserted) {
      const pending = (await listApplicationsOfCredential(tx, credentialId)).find((a) => a.state === 'pending')
      throw pending === undefined ? new AppError('application_pending', 'An application for this credential is already pending.') : pendingError(pending)
    }
    await freezeActivities(tx, id, record.progress.counted)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'recertification.applied', subjectType: 'credential', subjectId: credentialId, version: record.version.version, ...(deps.requestId === undefined ? {} : { requestId: deps.requestId }), details: { application: id, points, activities: record.progress.counted } })
    await recordEvent(tx, deps, 'recertification.applied', { id, credentialId, version: record.version.version, achievementId: record.achievement.id, validUntil: record.version.validUntil, points }, true)
    const [application] = (await listApplicationsOfCredential(tx, credentialId)).filter((a) => a.id === id)
    if (application === undefined) throw new Error(`Application ${id} was not stored.`)
    return application
  }) as ApplicationRow
}

const pendingError = (pending: ApplicationRow): AppError =>
  new AppError('application_pending', `An application for this credential is already waiting for review (submitted ${longDate(pending.submittedAt) ?? pending.submittedAt.toISOString()}).`, { application: pending.id })

const decidedError = (application: ApplicationRow): AppError =>
  new AppError('application_decided', `Application ${application.id} was already ${application.state}${application.decidedAt === null ? '' : ` on ${application.decidedAt.toISOString()}`}${application.resultVersion === null ? '' : ` (version ${application.resultVersion})`}.`, { state: application.state, ...(application.resultVersion === null ? {} : { version: application.resultVersion }) })

/** An application as approving would judge it: the points its frozen activities count under the rules the holder saw. */
export interface ApplicationJudgement {
  achievement: AchievementRow
  /** The credential's current version. */
  version: SignedVersionRow
  activities: ActivityRow[]
  progress: ContinuingEducationProgress
  points: { total: number, approved: number }
  /** Renewed another way (by exam) since the holder applied: approving is refused with this. */
  renewedSince?: AppError
}

/**
 * Judges an application without deciding it: what approveApplication does
 * first, and what the staff console shows before staff decide. The points are
 * recounted from the frozen activities, through the same rules the holder saw.
 */
export async function judgeApplication (sql: Db, application: ApplicationRow): Promise<ApplicationJudgement> {
  const [achievement, version, appliedOn, activities] = await Promise.all([
    findAchievement(sql, application.achievementId),
    findSignedVersion(sql, application.credentialId),
    findVersion(sql, application.credentialId, application.credentialVersion),
    listActivitiesOfApplication(sql, application.id)
  ])
  if (achievement === undefined || version === undefined) throw new Error(`Application ${application.id} has inconsistent records.`)
  const progress = progressOf(achievement, version, activities, application.submittedAt)
  // Renewed another way (by exam) since the holder applied: the activities belong to the period that ended,
  // and judged against the new one they count nothing. Said plainly, for staff to reject it.
  const renewed = appliedOn !== undefined && appliedOn.validFrom.getTime() !== version.validFrom.getTime()
  return {
    achievement,
    version,
    activities,
    progress,
    points: { total: progress.earned.points, approved: progress.earned.approvedPoints },
    ...(renewed ? { renewedSince: new AppError('conflict', `Credential "${application.credentialId}" was renewed since this application (version ${version.version}, valid from ${version.validFrom.toISOString()}): the activities it counts belong to the earlier period. Reject the application.`, { version: version.version }) } : {})
  }
}

/**
 * Staff approve: the recertification runs with the points of the frozen
 * activities, judged as of the day the holder applied (an application made
 * in the grace period and reviewed after it still counts). Approving twice,
 * or twice at once, makes one version: the second waits on the lock and
 * finds the application decided.
 */
export async function approveApplication (deps: ReissueDeps, applicationId: string, note?: string): Promise<{ application: ApplicationRow, issued: IssuedCredential }> {
  return await deps.sql.begin(async (tx) => {
    const application = await lockApplication(tx, applicationId)
    if (application === undefined) throw notFound(`Recertification application "${applicationId}"`)
    if (application.state !== 'pending') throw decidedError(application)
    const { renewedSince, points } = await judgeApplication(tx, application)
    if (renewedSince !== undefined) throw renewedSince
    const issued = await recertifyCredentialIn(tx, deps, application.credentialId, {
      method: 'continuing-education',
      points,
      appliedAt: application.submittedAt,
      note: note ?? `recertification application ${applicationId}`,
      details: { application: applicationId }
    })
    await markApplicationDecided(tx, applicationId, { state: 'approved', at: deps.now, by: deps.actor, reason: note ?? null, resultVersion: issued.version })
    await recordAuditEvent(tx, { actor: deps.actor, action: 'recertification.approved', subjectType: 'credential', subjectId: application.credentialId, version: issued.version, ...(deps.requestId === undefined ? {} : { requestId: deps.requestId }), details: { application: applicationId, points } })
    // The holder's email is the new version's ("renewed"); this event is for staff systems.
    await recordEvent(tx, deps, 'recertification.approved', { id: applicationId, credentialId: application.credentialId, version: issued.version, achievementId: application.achievementId, validUntil: issued.credential.validUntil === undefined ? null : new Date(issued.credential.validUntil as string), points }, false)
    const decided = await lockApplication(tx, applicationId)
    return { application: decided ?? application, issued }
  }) as { application: ApplicationRow, issued: IssuedCredential }
}

/** Staff reject, with a reason the holder is emailed; the activities return to the record for a later application. */
export async function rejectApplication (deps: ApplyDeps, applicationId: string, reason: string): Promise<ApplicationRow> {
  return await deps.sql.begin(async (tx) => {
    const application = await lockApplication(tx, applicationId)
    if (application === undefined) throw notFound(`Recertification application "${applicationId}"`)
    if (application.state !== 'pending') throw decidedError(application)
    await markApplicationDecided(tx, applicationId, { state: 'rejected', at: deps.now, by: deps.actor, reason, resultVersion: null })
    await unfreezeActivities(tx, applicationId)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'recertification.rejected', subjectType: 'credential', subjectId: application.credentialId, reason, ...(deps.requestId === undefined ? {} : { requestId: deps.requestId }), details: { application: applicationId } })
    const version = await findSignedVersion(tx, application.credentialId)
    await recordEvent(tx, deps, 'recertification.rejected', { id: applicationId, credentialId: application.credentialId, version: version?.version ?? application.credentialVersion, achievementId: application.achievementId, validUntil: version?.validUntil ?? null, points: { total: application.pointsTotal, approved: application.pointsApproved }, reason }, true)
    return (await lockApplication(tx, applicationId)) ?? application
  }) as ApplicationRow
}
