import type { RecertificationPolicy } from './recertification-rules.js'
import type { Db } from '../../infrastructure/db/types.js'

export interface AchievementImage { id: string, caption?: string }

export interface AchievementRow {
  id: string
  issuerId: string
  name: string
  description: string
  criteria: { id?: string, narrative?: string }
  image: AchievementImage | null
  achievementType: string | null
  validityMonths: number | null
  /** Recertification rules (credentials/recertification-rules.ts); null: by exam only. */
  recertification: RecertificationPolicy | null
  createdAt: Date
  createdBy: string
  /** The last edit (null: never edited). */
  updatedAt: Date | null
  updatedBy: string | null
  /** Archived: no new credentials or recertifications (null: in use). */
  archivedAt: Date | null
  archivedBy: string | null
  /** The https URL the stored image was fetched from, and when (null: given inline, or none). */
  imageFetchedFrom: string | null
  imageFetchedAt: Date | null
}

/** What a definition (create or edit) sets; the rest is bookkeeping. */
export type AchievementDefinition = Pick<AchievementRow, 'name' | 'description' | 'criteria' | 'image' | 'achievementType' | 'validityMonths' | 'recertification' | 'imageFetchedFrom' | 'imageFetchedAt'>

const columns = (sql: Db) => sql`
  id, issuer_id as "issuerId", name, description, criteria, image,
  achievement_type as "achievementType", validity_months as "validityMonths", recertification,
  created_at as "createdAt", created_by as "createdBy", updated_at as "updatedAt", updated_by as "updatedBy",
  archived_at as "archivedAt", archived_by as "archivedBy",
  image_fetched_from as "imageFetchedFrom", image_fetched_at as "imageFetchedAt"`

const jsonOrNull = (tx: Db, value: unknown) => value === null ? null : tx.json(value as never)

export async function insertAchievement (tx: Db, a: AchievementDefinition & Pick<AchievementRow, 'id' | 'issuerId' | 'createdBy'>): Promise<AchievementRow> {
  const [row] = await tx<AchievementRow[]>`
    insert into achievements (id, issuer_id, name, description, criteria, image, achievement_type, validity_months, recertification, created_by, image_fetched_from, image_fetched_at)
    values (${a.id}, ${a.issuerId}, ${a.name}, ${a.description}, ${tx.json(a.criteria as never)},
            ${jsonOrNull(tx, a.image)}, ${a.achievementType}, ${a.validityMonths},
            ${jsonOrNull(tx, a.recertification)}, ${a.createdBy}, ${a.imageFetchedFrom}, ${a.imageFetchedAt})
    returning ${columns(tx)}`
  return row!
}

export async function findAchievement (sql: Db, id: string): Promise<AchievementRow | undefined> {
  const [row] = await sql<AchievementRow[]>`select ${columns(sql)} from achievements where id = ${id}`
  return row
}

/** The row, locked until the transaction ends (an edit or archive reads, then writes). */
export async function lockAchievement (tx: Db, id: string): Promise<AchievementRow | undefined> {
  const [row] = await tx<AchievementRow[]>`select ${columns(tx)} from achievements where id = ${id} for update`
  return row
}

/**
 * Pages through achievements in creation order (keyset pagination on
 * (created_at, id)); `archived` true or false keeps only those, absent keeps all.
 */
export async function listAchievements (sql: Db, page: { limit: number, after?: string, archived?: boolean }): Promise<AchievementRow[]> {
  const after = page.after === undefined ? sql`true` : sql`(created_at, id) > (select created_at, id from achievements where id = ${page.after})`
  const archived = page.archived === undefined ? sql`true` : page.archived ? sql`archived_at is not null` : sql`archived_at is null`
  return await sql<AchievementRow[]>`
    select ${columns(sql)} from achievements
    where ${after} and ${archived}
    order by created_at, id
    limit ${page.limit}`
}

/** Replaces an achievement's recertification rules; returns the row before the change (undefined: no such achievement). */
export async function setRecertificationPolicy (tx: Db, id: string, policy: RecertificationPolicy | null): Promise<AchievementRow | undefined> {
  const before = await lockAchievement(tx, id)
  if (before === undefined) return undefined
  await tx`update achievements set recertification = ${jsonOrNull(tx, policy)} where id = ${id}`
  return before
}

/** Writes a new definition over a locked row; returns the row after. */
export async function updateAchievement (tx: Db, id: string, d: AchievementDefinition, by: { at: Date, actor: string }): Promise<AchievementRow> {
  const [row] = await tx<AchievementRow[]>`
    update achievements set
      name = ${d.name}, description = ${d.description}, criteria = ${tx.json(d.criteria as never)},
      image = ${jsonOrNull(tx, d.image)}, achievement_type = ${d.achievementType}, validity_months = ${d.validityMonths},
      recertification = ${jsonOrNull(tx, d.recertification)},
      image_fetched_from = ${d.imageFetchedFrom}, image_fetched_at = ${d.imageFetchedAt},
      updated_at = ${by.at}, updated_by = ${by.actor}
    where id = ${id}
    returning ${columns(tx)}`
  return row!
}

/** Archives (a date) or unarchives (null) a locked row; returns the row after. */
export async function setArchived (tx: Db, id: string, archived: { at: Date, actor: string } | null): Promise<AchievementRow> {
  const [row] = await tx<AchievementRow[]>`
    update achievements set archived_at = ${archived?.at ?? null}, archived_by = ${archived?.actor ?? null}
    where id = ${id}
    returning ${columns(tx)}`
  return row!
}
