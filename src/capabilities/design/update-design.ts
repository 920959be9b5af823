import type { Sql } from 'postgres'
import { notFound } from '../../kernel/errors.js'
import { findAchievement } from '../achievements/store.js'
import { recordAuditEvent } from '../audit/store.js'
import { checkDesignImage } from './check-design-image.js'
import type { DesignBody, DesignResource, Slot } from './schemas.js'
import { deleteDesign, deleteImage, findDesign, lockDesign, saveImage, saveSettings, type Design, type DesignSettings } from './store.js'
import { checkWording } from './wording.js'

/**
 * Staff change an achievement's design: its settings (colours, wording,
 * signatories) as a whole, its images one slot at a time, or all of it back
 * to the defaults. Each change is audited in its own transaction. Nothing
 * rendered is cached by anything but the content it was drawn from (the
 * preview cache key holds the colours and the logo's hash; badge images are
 * drawn from the stored PNG), so a change shows on the next request, in every
 * instance.
 */

export interface DesignDeps {
  sql: Sql
  /** The staff principal (API key id) making the change. */
  actor: string
  now: Date
  requestId?: string
}

const settingsOf = (design: Design | undefined): DesignSettings | Record<string, never> => design === undefined
  ? {}
  : { primaryColor: design.primaryColor, accentColor: design.accentColor, titleLine: design.titleLine, statementBefore: design.statementBefore, statementAfter: design.statementAfter, signatories: design.signatories }

async function requireAchievement (sql: Sql, achievementId: string): Promise<void> {
  if (await findAchievement(sql, achievementId) === undefined) throw notFound(`Achievement "${achievementId}"`)
}

/** The settings a request asks for, checked (the wording's placeholders) and normalised (lower-case colours; absent is the default). */
export function designSettings (body: DesignBody): DesignSettings {
  checkWording('titleLine', body.titleLine)
  checkWording('statementBefore', body.statementBefore)
  checkWording('statementAfter', body.statementAfter)
  return {
    primaryColor: body.primaryColor?.toLowerCase() ?? null,
    accentColor: body.accentColor?.toLowerCase() ?? null,
    titleLine: body.titleLine ?? null,
    statementBefore: body.statementBefore ?? null,
    statementAfter: body.statementAfter ?? null,
    signatories: (body.signatories ?? []).map((s) => ({ name: s.name, title: s.title }))
  }
}

/** Replaces the design's settings (an absent field is the default); images are kept. */
export async function updateDesign (deps: DesignDeps, achievementId: string, body: DesignBody): Promise<Design> {
  await requireAchievement(deps.sql, achievementId)
  const settings = designSettings(body)
  const by = { at: deps.now, actor: deps.actor }
  await deps.sql.begin(async (tx) => {
    const before = await findDesign(tx, achievementId)
    await lockDesign(tx, achievementId, by)
    await saveSettings(tx, achievementId, settings, by)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'achievement_design.updated', subjectType: 'achievement', subjectId: achievementId, before: { ...settingsOf(before) }, after: { ...settings }, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}) })
  })
  return (await findDesign(deps.sql, achievementId))!
}

/** Checks and stores one image (replacing the slot's), making the design if the achievement had none. */
export async function setDesignImage (deps: DesignDeps, achievementId: string, slot: Slot, upload: { bytes: Buffer, contentType: string }): Promise<Design> {
  await requireAchievement(deps.sql, achievementId)
  const image = checkDesignImage(upload.bytes, upload.contentType)
  const by = { at: deps.now, actor: deps.actor }
  await deps.sql.begin(async (tx) => {
    const before = (await findDesign(tx, achievementId))?.images[slot]
    await lockDesign(tx, achievementId, by)
    await saveImage(tx, achievementId, { slot, ...image }, by)
    await recordAuditEvent(tx, {
      actor: deps.actor,
      action: 'achievement_design.image_set',
      subjectType: 'achievement',
      subjectId: achievementId,
      ...(before !== undefined ? { before: { slot, mediaType: before.mediaType, sha256: before.sha256, bytes: before.size } } : {}),
      after: { slot, mediaType: image.mediaType, sha256: image.sha256, bytes: image.bytes.length },
      ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {})
    })
  })
  return (await findDesign(deps.sql, achievementId))!
}

/** Removes one image; a slot that holds none is a 404. */
export async function removeDesignImage (deps: DesignDeps, achievementId: string, slot: Slot): Promise<void> {
  await deps.sql.begin(async (tx) => {
    const before = (await findDesign(tx, achievementId))?.images[slot]
    if (before === undefined || !await deleteImage(tx, achievementId, slot, { at: deps.now, actor: deps.actor })) throw notFound(`The "${slot}" image of achievement "${achievementId}"`)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'achievement_design.image_removed', subjectType: 'achievement', subjectId: achievementId, before: { slot, mediaType: before.mediaType, sha256: before.sha256, bytes: before.size }, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}) })
  })
}

/** Puts the achievement back on the defaults (settings and images); no design is a 404. */
export async function resetDesign (deps: DesignDeps, achievementId: string): Promise<void> {
  await deps.sql.begin(async (tx) => {
    const before = await findDesign(tx, achievementId)
    if (before === undefined || !await deleteDesign(tx, achievementId)) throw notFound(`The design of achievement "${achievementId}"`)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'achievement_design.removed', subjectType: 'achievement', subjectId: achievementId, before: { ...settingsOf(before), images: Object.keys(before.images) }, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}) })
  })
}

/** The resource staff read: the defaults (all null, no images) when there is no design. */
export function designResourceOf (achievementId: string, design: Design | undefined, imageUrl: (slot: Slot, sha256: string) => string): DesignResource {
  if (design === undefined) {
    return { achievementId, primaryColor: null, accentColor: null, titleLine: null, statementBefore: null, statementAfter: null, signatories: [], images: {}, updatedAt: null, updatedBy: null }
  }
  const images = Object.fromEntries(Object.values(design.images).map((image) => [image.slot, {
    url: imageUrl(image.slot, image.sha256), mediaType: image.mediaType, sha256: image.sha256, bytes: image.size, updatedAt: image.updatedAt.toISOString(), updatedBy: image.updatedBy
  }]))
  return { achievementId, ...settingsOf(design) as DesignSettings, images, updatedAt: design.updatedAt.toISOString(), updatedBy: design.updatedBy }
}
