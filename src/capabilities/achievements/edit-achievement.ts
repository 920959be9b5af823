import { createHash } from 'node:crypto'
import { recordAuditEvent } from '../audit/store.js'
import { notFound } from '../../kernel/errors.js'
import { storableImage } from './fetch-image.js'
import type { EditAchievementBody } from './schemas.js'
import type { AchievementDeps } from './service.js'
import { lockAchievement, updateAchievement, type AchievementDefinition, type AchievementRow } from './store.js'

/** An image as the audit trail keeps it: a data: URI is summarised (it may be 170 KiB), never copied. */
function auditedImage (image: AchievementRow['image']): unknown {
  if (image === null || !image.id.startsWith('data:')) return image
  const kind = image.id.slice(0, image.id.indexOf(',') + 1)
  const sha256 = createHash('sha256').update(image.id).digest('hex')
  return { id: `${kind}… (${image.id.length} characters, SHA-256 ${sha256})`, ...(image.caption !== undefined ? { caption: image.caption } : {}) }
}

const auditedValue = (field: keyof AchievementDefinition, value: unknown): unknown => field === 'image' ? auditedImage(value as AchievementRow['image']) : value

/** The same JSON value, whatever the key order (jsonb returns keys in its own order). */
const sorted = (value: unknown): unknown =>
  Array.isArray(value) ? value.map(sorted) : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) => [k, sorted(v)])) : value
const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b))

const FIELDS = ['name', 'description', 'criteria', 'image', 'achievementType', 'validityMonths', 'recertification'] as const

/**
 * Edits an achievement's definition: the fields given replace the current
 * ones (null removes an optional one), and the audit event holds each changed
 * field before and after. Only versions signed from now on (issues,
 * corrections, recertifications) carry the new definition; signed versions
 * keep the copy they were signed with. A new validityMonths sets the period of
 * later issues and recertifications, never of existing versions. An https
 * image is fetched first, outside the transaction; a refused one saves nothing.
 * An edit that changes nothing records nothing.
 */
export async function editAchievement (deps: AchievementDeps, id: string, body: EditAchievementBody): Promise<AchievementRow> {
  const image = body.image === undefined || body.image === null ? undefined : await storableImage(body.image, deps)
  return await deps.sql.begin(async (tx) => {
    const before = await lockAchievement(tx, id)
    if (before === undefined) throw notFound(`Achievement "${id}"`)
    const next: AchievementDefinition = {
      name: body.name?.trim() ?? before.name,
      description: body.description ?? before.description,
      criteria: body.criteria ?? before.criteria,
      image: body.image === null ? null : image?.image ?? before.image,
      imageFetchedFrom: body.image === null ? null : image !== undefined ? image.imageFetchedFrom : before.imageFetchedFrom,
      imageFetchedAt: body.image === null ? null : image !== undefined ? image.imageFetchedAt : before.imageFetchedAt,
      achievementType: body.achievementType === undefined ? before.achievementType : body.achievementType,
      validityMonths: body.validityMonths === undefined ? before.validityMonths : body.validityMonths,
      recertification: body.recertification === undefined ? before.recertification : body.recertification
    }
    const changed = FIELDS.filter((field) => !sameJson(before[field], next[field]))
    if (changed.length === 0) return before
    const after = await updateAchievement(tx, id, next, { at: deps.now, actor: deps.actor })
    await recordAuditEvent(tx, {
      actor: deps.actor,
      action: 'achievement.edited',
      subjectType: 'achievement',
      subjectId: id,
      ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
      before: Object.fromEntries(changed.map((field) => [field, auditedValue(field, before[field])])),
      after: Object.fromEntries(changed.map((field) => [field, auditedValue(field, after[field])])),
      details: { changed, ...(image?.imageFetchedFrom != null ? { imageFetchedFrom: image.imageFetchedFrom } : {}) }
    })
    return after
  }) as AchievementRow
}
