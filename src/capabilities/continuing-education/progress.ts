import type { Db } from '../../infrastructure/db/types.js'
import { findAchievement, type AchievementRow } from '../achievements/store.js'
import { continuingEducationProgress, type ContinuingEducationProgress, type RecertificationPolicy } from '../achievements/recertification-rules.js'
import { findCredential, findSignedVersion, type CredentialRow, type SignedVersionRow } from '../credentials/store.js'
import { notFound } from '../../kernel/errors.js'
import { listActivities, listApplicationsOfCredential, type ActivityRow, type ApplicationRow } from './store.js'

/** A credential's continuing-education record and where it stands, as the portal, the staff API and the emails show it. */
export interface CeRecord {
  credential: CredentialRow
  version: SignedVersionRow
  achievement: AchievementRow
  activities: ActivityRow[]
  applications: ApplicationRow[]
  /** The application waiting for staff, if any. */
  pending?: ApplicationRow
  progress: ContinuingEducationProgress
}

export async function loadCeRecord (sql: Db, credentialId: string, now: Date): Promise<CeRecord> {
  const credential = await findCredential(sql, credentialId)
  const version = credential === undefined ? undefined : await findSignedVersion(sql, credentialId)
  const achievement = credential === undefined ? undefined : await findAchievement(sql, credential.achievementId)
  if (credential === undefined || version === undefined || achievement === undefined) throw notFound(`Credential "${credentialId}"`)
  const [activities, applications] = await Promise.all([listActivities(sql, credentialId), listApplicationsOfCredential(sql, credentialId)])
  const pending = applications.find((a) => a.state === 'pending')
  return {
    credential,
    version,
    achievement,
    activities,
    applications,
    ...(pending === undefined ? {} : { pending }),
    progress: progressOf(achievement, version, activities.filter((a) => a.applicationId === null || a.applicationId === pending?.id), now)
  }
}

/**
 * The rules applied to the activities not already spent: an approved
 * application's activities renewed the previous period, so they never count
 * again (they are outside the new period's window anyway).
 */
export function progressOf (achievement: AchievementRow, version: { validFrom: Date, validUntil: Date | null }, activities: readonly ActivityRow[], now: Date): ContinuingEducationProgress {
  return continuingEducationProgress({
    policy: achievement.recertification as RecertificationPolicy | null,
    validityMonths: achievement.validityMonths,
    period: { validFrom: version.validFrom, validUntil: version.validUntil },
    activities: activities.map((a) => ({ id: a.id, completedOn: a.completedOn, points: a.points, category: a.category })),
    now
  })
}

/** "42 of 60 points, 25 of 30 approved": the one-line summary the portal, reminders and the staff API share. */
export function progressInWords (progress: ContinuingEducationProgress): string {
  const { earned, required } = progress
  const approved = required.approvedPoints > 0 ? `, ${formatPoints(earned.approvedPoints)} of ${formatPoints(required.approvedPoints)} approved` : ''
  return `${formatPoints(earned.points)} of ${formatPoints(required.points)} points${approved}`
}

export const formatPoints = (points: number): string => Number.isInteger(points) ? String(points) : points.toFixed(2).replace(/0$/, '')
