import type { lookup } from 'node:dns/promises'
import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import type { RecertificationPolicy } from './recertification-rules.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import { findIssuer, type IssuerRow } from '../issuers/store.js'
import { storableImage } from './fetch-image.js'
import type { CreateAchievementBody } from './schemas.js'
import { insertAchievement, setRecertificationPolicy, type AchievementRow } from './store.js'

/** What defining or editing an achievement needs: the pool, who and when, and how images may be fetched. */
export interface AchievementDeps {
  sql: Sql
  actor: string
  now: Date
  requestId?: string
  /** The development switch (OUTBOUND_ALLOW_LOOPBACK) that lets an image come from http://localhost. */
  allowLoopback: boolean
  resolveName?: typeof lookup
}

/**
 * Defines an achievement for an issuer and records who did it, in one
 * transaction. An https image is fetched first (fetch-image.ts), outside the
 * transaction; a refused one saves nothing.
 */
export async function createAchievement (
  deps: AchievementDeps & { defaultIssuerId: string },
  body: CreateAchievementBody
): Promise<{ achievement: AchievementRow, issuer: IssuerRow }> {
  const issuerId = body.issuerId ?? deps.defaultIssuerId
  const issuer = await findIssuer(deps.sql, issuerId)
  if (issuer === undefined) throw new AppError('validation_failed', `"issuerId" names no issuer: "${issuerId}".`)
  const image = body.image === undefined ? { image: null, imageFetchedFrom: null, imageFetchedAt: null } : await storableImage(body.image, deps)
  const achievement = await deps.sql.begin(async (tx) => {
    const row = await insertAchievement(tx, {
      id: newId(),
      issuerId,
      name: body.name.trim(),
      description: body.description,
      criteria: body.criteria,
      ...image,
      achievementType: body.achievementType ?? null,
      validityMonths: body.validityMonths ?? null,
      recertification: body.recertification ?? null,
      createdBy: deps.actor
    })
    await recordAuditEvent(tx, {
      actor: deps.actor,
      action: 'achievement.created',
      subjectType: 'achievement',
      subjectId: row.id,
      ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
      after: { name: row.name, validityMonths: row.validityMonths, recertification: row.recertification },
      details: { name: row.name, ...(row.imageFetchedFrom !== null ? { imageFetchedFrom: row.imageFetchedFrom } : {}) }
    })
    return row
  }) as AchievementRow
  return { achievement, issuer }
}

/** Sets (or, with null, removes) an achievement's recertification rules, audited. */
export async function updateRecertificationPolicy (
  deps: { sql: Sql, actor: string, requestId?: string },
  id: string,
  policy: RecertificationPolicy | null
): Promise<AchievementRow> {
  return await deps.sql.begin(async (tx) => {
    const before = await setRecertificationPolicy(tx, id, policy)
    if (before === undefined) throw notFound(`Achievement "${id}"`)
    await recordAuditEvent(tx, {
      actor: deps.actor,
      action: 'achievement.recertification_set',
      subjectType: 'achievement',
      subjectId: id,
      ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
      before: { recertification: before.recertification },
      after: { recertification: policy }
    })
    return { ...before, recertification: policy }
  }) as AchievementRow
}
