import type { RecertificationPolicy } from './recertification-rules.js'
import type { Db } from '../../infrastructure/db/types.js'

export interface AchievementRow {
  id: string
  issuerId: string
  name: string
  description: string
  criteria: { id?: string, narrative?: string }
  image: { id: string, caption?: string } | null
  achievementType: string | null
  validityMonths: number | null
  /** Recertification rules (credentials/recertification-rules.ts); null: by exam only. */
  recertification: RecertificationPolicy | null
  createdAt: Date
  createdBy: string
}

const columns = (sql: Db) => sql`
  id, issuer_id as "issuerId", name, description, criteria, image,
  achievement_type as "achievementType", validity_months as "validityMonths", recertification,
  created_at as "createdAt", created_by as "createdBy"`

export async function insertAchievement (tx: Db, a: Omit<AchievementRow, 'createdAt'>): Promise<AchievementRow> {
  const [row] = await tx<AchievementRow[]>`
    insert into achievements (id, issuer_id, name, description, criteria, image, achievement_type, validity_months, recertification, created_by)
    values (${a.id}, ${a.issuerId}, ${a.name}, ${a.description}, ${tx.json(a.criteria as never)},
            ${a.image === null ? null : tx.json(a.image as never)}, ${a.achievementType}, ${a.validityMonths},
            ${a.recertification === null ? null : tx.json(a.recertification as never)}, ${a.createdBy})
    returning ${columns(tx)}`
  return row!
}

export async function findAchievement (sql: Db, id: string): Promise<AchievementRow | undefined> {
  const [row] = await sql<AchievementRow[]>`select ${columns(sql)} from achievements where id = ${id}`
  return row
}

/** Pages through achievements in creation order (keyset pagination on (created_at, id)). */
export async function listAchievements (sql: Db, page: { limit: number, after?: string }): Promise<AchievementRow[]> {
  return await sql<AchievementRow[]>`
    select ${columns(sql)} from achievements
    ${page.after === undefined
      ? sql``
      : sql`where (created_at, id) > (select created_at, id from achievements where id = ${page.after})`}
    order by created_at, id
    limit ${page.limit}`
}

/** Replaces an achievement's recertification rules; returns the row before the change (undefined: no such achievement). */
export async function setRecertificationPolicy (tx: Db, id: string, policy: RecertificationPolicy | null): Promise<AchievementRow | undefined> {
  const [before] = await tx<AchievementRow[]>`select ${columns(tx)} from achievements where id = ${id} for update`
  if (before === undefined) return undefined
  await tx`update achievements set recertification = ${policy === null ? null : tx.json(policy as never)} where id = ${id}`
  return before
}
