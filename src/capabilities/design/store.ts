import type { Db } from '../../infrastructure/db/types.js'
import type { Slot } from './schemas.js'

export interface Signatory { name: string, title: string }

export interface DesignSettings {
  primaryColor: string | null
  accentColor: string | null
  titleLine: string | null
  statementBefore: string | null
  statementAfter: string | null
  signatories: Signatory[]
}

export interface DesignImage {
  slot: Slot
  mediaType: 'image/png' | 'image/svg+xml'
  sha256: string
  size: number
  updatedAt: Date
  updatedBy: string
  /** The bytes as uploaded and the PNG to draw; loaded only when asked for (`withBytes`). */
  bytes?: Buffer
  png?: Buffer
}

export interface Design extends DesignSettings {
  achievementId: string
  images: Partial<Record<Slot, DesignImage>>
  updatedAt: Date
  updatedBy: string
}

interface SettingsRow extends DesignSettings { achievementId: string, updatedAt: Date, updatedBy: string }

/** An achievement's design, or undefined when it has none (the defaults). */
export async function findDesign (sql: Db, achievementId: string, options: { withBytes?: boolean } = {}): Promise<Design | undefined> {
  const [row] = await sql<SettingsRow[]>`
    select achievement_id as "achievementId", primary_color as "primaryColor", accent_color as "accentColor",
      title_line as "titleLine", statement_before as "statementBefore", statement_after as "statementAfter",
      signatories, updated_at as "updatedAt", updated_by as "updatedBy"
    from achievement_designs where achievement_id = ${achievementId}`
  if (row === undefined) return undefined
  const images = options.withBytes === true
    ? await sql<DesignImage[]>`
        select slot, media_type as "mediaType", sha256, length(bytes) as size, updated_at as "updatedAt", updated_by as "updatedBy", bytes, png
        from achievement_design_images where achievement_id = ${achievementId}`
    : await sql<DesignImage[]>`
        select slot, media_type as "mediaType", sha256, length(bytes) as size, updated_at as "updatedAt", updated_by as "updatedBy"
        from achievement_design_images where achievement_id = ${achievementId}`
  return { ...row, images: Object.fromEntries(images.map((image) => [image.slot, image])) }
}

/** One stored image with its bytes, or undefined. */
export async function findDesignImage (sql: Db, achievementId: string, slot: Slot): Promise<Required<DesignImage> | undefined> {
  const [row] = await sql<Array<Required<DesignImage>>>`
    select slot, media_type as "mediaType", sha256, length(bytes) as size, updated_at as "updatedAt", updated_by as "updatedBy", bytes, png
    from achievement_design_images where achievement_id = ${achievementId} and slot = ${slot}`
  return row
}

/** Locks the design row (making an empty one first), so concurrent edits of one design apply one after the other. */
export async function lockDesign (tx: Db, achievementId: string, by: { at: Date, actor: string }): Promise<void> {
  await tx`
    insert into achievement_designs (achievement_id, updated_at, updated_by) values (${achievementId}, ${by.at}, ${by.actor})
    on conflict (achievement_id) do nothing`
  await tx`select 1 from achievement_designs where achievement_id = ${achievementId} for update`
}

export async function saveSettings (tx: Db, achievementId: string, s: DesignSettings, by: { at: Date, actor: string }): Promise<void> {
  await tx`
    update achievement_designs set primary_color = ${s.primaryColor}, accent_color = ${s.accentColor}, title_line = ${s.titleLine},
      statement_before = ${s.statementBefore}, statement_after = ${s.statementAfter}, signatories = ${tx.json(s.signatories as never)},
      updated_at = ${by.at}, updated_by = ${by.actor}
    where achievement_id = ${achievementId}`
}

export async function saveImage (tx: Db, achievementId: string, image: { slot: Slot, mediaType: string, bytes: Buffer, png: Buffer, sha256: string }, by: { at: Date, actor: string }): Promise<void> {
  await tx`
    insert into achievement_design_images (achievement_id, slot, media_type, bytes, png, sha256, updated_at, updated_by)
    values (${achievementId}, ${image.slot}, ${image.mediaType}, ${image.bytes}, ${image.png}, ${image.sha256}, ${by.at}, ${by.actor})
    on conflict (achievement_id, slot) do update set media_type = excluded.media_type, bytes = excluded.bytes, png = excluded.png,
      sha256 = excluded.sha256, updated_at = excluded.updated_at, updated_by = excluded.updated_by`
  await tx`update achievement_designs set updated_at = ${by.at}, updated_by = ${by.actor} where achievement_id = ${achievementId}`
}

/** Removes one image; whether there was one. */
export async function deleteImage (tx: Db, achievementId: string, slot: Slot, by: { at: Date, actor: string }): Promise<boolean> {
  const removed = await tx`delete from achievement_design_images where achievement_id = ${achievementId} and slot = ${slot}`
  if (removed.count > 0) await tx`update achievement_designs set updated_at = ${by.at}, updated_by = ${by.actor} where achievement_id = ${achievementId}`
  return removed.count > 0
}

/** Removes the whole design (its images cascade); whether there was one. */
export async function deleteDesign (tx: Db, achievementId: string): Promise<boolean> {
  const removed = await tx`delete from achievement_designs where achievement_id = ${achievementId}`
  return removed.count > 0
}
