import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { isoSeconds } from '../../kernel/time.js'
import { lockAchievement, setArchived, type AchievementRow } from './store.js'

/**
 * Archiving retires an achievement: it takes no new credentials (issue,
 * batch, order approval) and no recertifications; its badges are untouched,
 * still verify, and may still be corrected or re-signed. Unarchiving undoes it.
 * Archiving an archived achievement (or unarchiving one in use) changes nothing
 * and records nothing.
 */
export async function setAchievementArchived (
  deps: { sql: Sql, actor: string, now: Date, requestId?: string },
  id: string,
  archive: boolean
): Promise<AchievementRow> {
  return await deps.sql.begin(async (tx) => {
    const before = await lockAchievement(tx, id)
    if (before === undefined) throw notFound(`Achievement "${id}"`)
    if ((before.archivedAt !== null) === archive) return before
    const after = await setArchived(tx, id, archive ? { at: deps.now, actor: deps.actor } : null)
    await recordAuditEvent(tx, {
      actor: deps.actor,
      action: archive ? 'achievement.archived' : 'achievement.unarchived',
      subjectType: 'achievement',
      subjectId: id,
      ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
      before: { archivedAt: before.archivedAt?.toISOString() ?? null },
      after: { archivedAt: after.archivedAt?.toISOString() ?? null },
      details: { name: before.name }
    })
    return after
  }) as AchievementRow
}

/** The refusal of a new credential or recertification for an archived achievement (409 achievement_archived). */
export function achievementArchivedError (achievement: Pick<AchievementRow, 'id' | 'name' | 'archivedAt'>, what: 'new credentials' | 'recertifications'): AppError {
  const since = achievement.archivedAt === null ? '' : ` on ${isoSeconds(achievement.archivedAt)}`
  return new AppError('achievement_archived', `Achievement "${achievement.id}" ("${achievement.name}") was archived${since}; it takes no ${what}. Unarchive it first (POST /api/v1/achievements/${achievement.id}/unarchive).`, { achievementId: achievement.id })
}
