import { createHash } from 'node:crypto'
import type { Sql } from 'postgres'
import { recordAuditEvent, recordAuditEvents, type AuditEvent } from '../audit/store.js'
import { findAchievement } from '../achievements/store.js'
import { findCredential, lockCredential } from '../credentials/store.js'
import type { Verifier } from '../verification/verify-credential.js'
import type { Db } from '../../infrastructure/db/types.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import { sameProvider } from './approved-providers.js'
import { readCeCredential } from './ce-credential.js'
import { checkEvidenceFile } from './evidence-file.js'
import { findActivities, findActivity, findByEvidence, insertActivities, listApprovedProviders, removeActivity, type ActivityRow, type ApprovedProviderRow, type NewActivity } from './store.js'

/**
 * Recording continuing education on a credential's record, by its holder (in
 * the portal) or by staff (one, or a CSV of a provider's report). The same
 * checks whoever records: the dates, the points, and "approved" only for a
 * provider on the achievement's list. A verifiable CE credential is judged by
 * the service's own verifier, and its facts (points, date, provider) come
 * from the credential, never from the form.
 */

export interface RecordDeps {
  sql: Sql
  now: Date
  /** 'holder' (the portal) or the staff principal. */
  actor: string
  requestId?: string
  verifier: Verifier
  publicBaseUrl: string
  allowLoopback: boolean
}

/** An activity described by whoever records it, with a certificate file (required from holders). */
export interface DeclaredActivity {
  title: string
  provider: string
  /** The approved provider's id, required when category is 'approved'. */
  providerId?: string
  completedOn: string
  points: number
  category: 'approved' | 'other'
  certificate?: { bytes: Buffer, filename?: string }
}

export type ActivityInput =
  | { kind: 'declared', activity: DeclaredActivity }
  /** A verifiable CE credential: pasted (link, JSON or JWT) or a baked image. */
  | { kind: 'credential', submitted: { text?: string, image?: Buffer } }

export const POINTS_MAX = 100
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

const refuse = (message: string, field?: string): AppError => new AppError('activity_refused', message, field === undefined ? {} : { field })

/** The checks a declared activity meets whoever declares it; returns the activity as stored (trimmed, the provider's listed name). */
export function checkDeclaredActivity (activity: DeclaredActivity, context: { approvedProviders: readonly ApprovedProviderRow[], now: Date, certificateRequired: boolean }): DeclaredActivity {
  const title = activity.title.trim()
  if (title === '' || title.length > 300) throw refuse('Give the activity\'s title (at most 300 characters).', 'title')
  const match = DATE.exec(activity.completedOn)
  const date = match === null ? undefined : new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])))
  if (date === undefined || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== activity.completedOn) throw refuse(`"${activity.completedOn}" is not a date: give the completion date as YYYY-MM-DD.`, 'completedOn')
  if (activity.completedOn > context.now.toISOString().slice(0, 10)) throw refuse(`The completion date ${activity.completedOn} is in the future: record an activity once it is completed.`, 'completedOn')
  if (activity.completedOn < '1950-01-01') throw refuse(`The completion date ${activity.completedOn} is too far back.`, 'completedOn')
  if (!Number.isFinite(activity.points) || activity.points <= 0 || activity.points > POINTS_MAX || Math.round(activity.points * 100) !== activity.points * 100) {
    throw refuse(`Points must be more than 0 and at most ${POINTS_MAX}, with at most two decimals; ${String(activity.points)} given.`, 'points')
  }
  if (context.certificateRequired && activity.certificate === undefined) throw refuse('Attach the certificate of completion (PDF, PNG or JPEG), or paste a verifiable CE credential instead.', 'certificate')
  let provider = activity.provider.trim()
  let providerId: string | undefined
  if (activity.category === 'approved') {
    const listed = activity.providerId === undefined ? undefined : context.approvedProviders.find((p) => sameProvider(p.providerId, activity.providerId!) || p.id === activity.providerId)
    if (listed === undefined) {
      const names = context.approvedProviders.map((p) => `${p.name} (${p.providerId})`).join('; ')
      throw refuse(context.approvedProviders.length === 0
        ? 'This achievement has no approved providers yet, so no activity can be recorded as approved; record it as "other".'
        : `An approved activity must come from one of this achievement's approved providers: ${names}.`, 'providerId')
    }
    provider = listed.name
    providerId = listed.providerId
  }
  if (provider === '' || provider.length > 300) throw refuse('Give the provider\'s name (at most 300 characters).', 'provider')
  return { ...activity, title, provider, ...(providerId === undefined ? {} : { providerId }) }
}

/** Loads what recording needs and refuses a credential that cannot gather continuing education. */
async function recordable (sql: Db, credentialId: string): Promise<{ achievementId: string, approvedProviders: ApprovedProviderRow[] }> {
  const credential = await findCredential(sql, credentialId)
  if (credential === undefined) throw notFound(`Credential "${credentialId}"`)
  if (credential.revokedAt !== null) throw new AppError('credential_revoked', `Credential "${credentialId}" is revoked: its record takes no more activities.`)
  const achievement = await findAchievement(sql, credential.achievementId)
  if (achievement?.recertification?.continuingEducation === undefined) {
    throw new AppError('continuing_education_not_offered', `"${achievement?.name ?? credential.achievementId}" is not renewed by continuing education, so its record takes no activities.`)
  }
  return { achievementId: credential.achievementId, approvedProviders: await listApprovedProviders(sql, credential.achievementId) }
}

/** Builds the stored row of one activity (verifying a CE credential); nothing is written. */
export async function prepareActivity (deps: RecordDeps, credentialId: string, input: ActivityInput, context: { approvedProviders: ApprovedProviderRow[], certificateRequired: boolean }): Promise<NewActivity> {
  const base = { id: newId(), credentialId, recordedAt: deps.now, recordedBy: deps.actor }
  if (input.kind === 'credential') {
    const evidence = await readCeCredential(input.submitted, {
      verifier: deps.verifier,
      now: deps.now,
      sql: deps.sql,
      publicBaseUrl: deps.publicBaseUrl,
      allowLoopback: deps.allowLoopback,
      approvedProviders: context.approvedProviders.map((p) => ({ providerId: p.providerId, name: p.name }))
    })
    if (evidence.completedOn > deps.now.toISOString().slice(0, 10)) throw refuse(`The CE credential says it was completed on ${evidence.completedOn}, which is in the future.`, 'credential')
    const sha256 = createHash('sha256').update(typeof evidence.credential === 'string' ? evidence.credential : JSON.stringify(evidence.credential)).digest('hex')
    return {
      ...base,
      title: evidence.title.slice(0, 300),
      provider: evidence.providerName.slice(0, 300),
      providerId: evidence.issuerId,
      completedOn: evidence.completedOn,
      points: Math.min(evidence.points, POINTS_MAX),
      category: evidence.category,
      evidenceKind: 'credential',
      evidenceMediaType: null,
      evidenceFilename: null,
      evidenceBytes: null,
      evidenceSha256: sha256,
      evidenceCredential: typeof evidence.credential === 'string' ? { jwt: evidence.credential } : evidence.credential,
      evidenceVerification: evidence.verification
    }
  }
  const activity = checkDeclaredActivity(input.activity, { approvedProviders: context.approvedProviders, now: deps.now, certificateRequired: context.certificateRequired })
  const file = activity.certificate === undefined ? undefined : checkEvidenceFile(activity.certificate.bytes, activity.certificate.filename)
  return {
    ...base,
    title: activity.title,
    provider: activity.provider,
    providerId: activity.providerId ?? null,
    completedOn: activity.completedOn,
    points: activity.points,
    category: activity.category,
    evidenceKind: file === undefined ? 'none' : 'upload',
    evidenceMediaType: file?.mediaType ?? null,
    evidenceFilename: file?.filename ?? null,
    evidenceBytes: file?.bytes ?? null,
    evidenceSha256: file === undefined ? null : createHash('sha256').update(file.bytes).digest('hex'),
    evidenceCredential: null,
    evidenceVerification: null
  }
}

/** The audit event of a recorded activity (never the certificate's bytes or the CE credential). */
const recordedEvent = (deps: Pick<RecordDeps, 'actor' | 'requestId'>, row: NewActivity): AuditEvent => ({
  actor: deps.actor,
  action: 'ce_activity.recorded',
  subjectType: 'credential',
  subjectId: row.credentialId,
  ...(deps.requestId === undefined ? {} : { requestId: deps.requestId }),
  after: { activity: row.id, title: row.title, provider: row.provider, completedOn: row.completedOn, points: row.points, category: row.category, evidence: row.evidenceKind }
})

/** Records one activity on a credential's record; holders must attach evidence. Audited. */
export async function recordActivity (deps: RecordDeps, credentialId: string, input: ActivityInput, options: { certificateRequired: boolean }): Promise<ActivityRow> {
  const { approvedProviders } = await recordable(deps.sql, credentialId)
  const row = await prepareActivity(deps, credentialId, input, { approvedProviders, certificateRequired: options.certificateRequired })
  return await deps.sql.begin(async (tx) => {
    // Serialised with applications and new versions of the same credential.
    await lockCredential(tx, credentialId)
    const same = row.evidenceSha256 === null ? undefined : await findByEvidence(tx, credentialId, row.evidenceSha256)
    if (same !== undefined) {
      throw new AppError('conflict', `This ${row.evidenceKind === 'credential' ? 'CE credential' : 'certificate file'} is already on the record, for "${same.title}": each counts once.`)
    }
    await insertActivities(tx, [row])
    await recordAuditEvent(tx, recordedEvent(deps, row))
    const stored = await findActivity(tx, credentialId, row.id)
    if (stored === undefined) throw new Error(`Activity ${row.id} was not stored.`)
    return stored
  }) as ActivityRow
}

/** Records many declared activities (staff's CSV import): all or none, each row checked as one would be. */
export async function recordActivities (deps: RecordDeps, items: ReadonlyArray<{ credentialId: string, activity: DeclaredActivity }>): Promise<ActivityRow[]> {
  const contexts = new Map<string, ApprovedProviderRow[]>()
  const rows: NewActivity[] = []
  const problems: Array<{ index: number, message: string }> = []
  for (const [index, item] of items.entries()) {
    try {
      let approvedProviders = contexts.get(item.credentialId)
      if (approvedProviders === undefined) {
        approvedProviders = (await recordable(deps.sql, item.credentialId)).approvedProviders
        contexts.set(item.credentialId, approvedProviders)
      }
      rows.push(await prepareActivity(deps, item.credentialId, { kind: 'declared', activity: item.activity }, { approvedProviders, certificateRequired: false }))
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      problems.push({ index, message: error.message })
    }
  }
  if (problems.length > 0) {
    throw new AppError('activity_refused', `${problems.length} of ${items.length} activities were refused; nothing was recorded.`, { items: problems })
  }
  return await deps.sql.begin(async (tx) => {
    for (const id of [...new Set(rows.map((r) => r.credentialId))].sort()) await lockCredential(tx, id)
    await insertActivities(tx, rows)
    await recordAuditEvents(tx, rows.map((row) => recordedEvent(deps, row)))
    return await findActivities(tx, rows.map((row) => row.id))
  }) as ActivityRow[]
}

/** Removes an activity from the record; one counted by an application cannot go. Audited. */
export async function deleteActivity (deps: Pick<RecordDeps, 'sql' | 'now' | 'actor' | 'requestId'>, credentialId: string, activityId: string): Promise<void> {
  await deps.sql.begin(async (tx) => {
    const activity = await findActivity(tx, credentialId, activityId)
    if (activity === undefined) throw notFound(`Activity "${activityId}"`)
    if (activity.applicationId !== null) throw new AppError('activity_frozen', `"${activity.title}" is counted by recertification application ${activity.applicationId}, so it stays on the record.`)
    if (!await removeActivity(tx, credentialId, activityId, deps.now)) throw new AppError('activity_frozen', `"${activity.title}" was just counted by an application, so it stays on the record.`)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'ce_activity.removed', subjectType: 'credential', subjectId: credentialId, ...(deps.requestId === undefined ? {} : { requestId: deps.requestId }), before: { activity: activityId, title: activity.title, points: activity.points } })
  })
}
