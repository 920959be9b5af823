import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { AppError } from '../errors.js'
import { newId } from '../ids.js'
import { findIssuer, type IssuerRow } from '../issuers/store.js'
import type { CreateAchievementBody } from './schemas.js'
import { insertAchievement, type AchievementRow } from './store.js'

/** Defines an achievement for an issuer and records who did it, in one transaction. */
export async function createAchievement (
  deps: { sql: Sql, defaultIssuerId: string, actor: string },
  body: CreateAchievementBody
): Promise<{ achievement: AchievementRow, issuer: IssuerRow }> {
  const issuerId = body.issuerId ?? deps.defaultIssuerId
  const issuer = await findIssuer(deps.sql, issuerId)
  if (issuer === undefined) throw new AppError('validation_failed', `"issuerId" names no issuer: "${issuerId}".`)
  const achievement = await deps.sql.begin(async (tx) => {
    const row = await insertAchievement(tx, {
      id: newId(),
      issuerId,
      name: body.name.trim(),
      description: body.description,
      criteria: body.criteria,
      image: body.image ?? null,
      achievementType: body.achievementType ?? null,
      validityMonths: body.validityMonths ?? null,
      createdBy: deps.actor
    })
    await recordAuditEvent(tx, { actor: deps.actor, action: 'achievement.created', subjectType: 'achievement', subjectId: row.id, details: { name: row.name } })
    return row
  }) as AchievementRow
  return { achievement, issuer }
}
