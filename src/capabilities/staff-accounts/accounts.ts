import { createHash, randomBytes } from 'node:crypto'
import type { Sql } from 'postgres'
import type { Db } from '../../infrastructure/db/types.js'
import { recordAuditEvent } from '../audit/store.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import type { Role } from './roles.js'
import { endSessionsOf, findStaffUser, insertEnrolment, insertStaffUser, updateStaffUser, type StaffUserRow } from './store.js'

/** How long an enrolment link works (it registers a passkey, once). */
export const ENROLMENT_HOURS = 72

/** The audit trail's actor for a staff user: `staff:<id>` (API keys are their bare id, the CLI "cli"). */
export const staffActor = (staffUserId: string): string => `staff:${staffUserId}`

export const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest()

export interface StaffAdminDeps { sql: Sql, actor: string, now: Date, requestId?: string, baseUrl: string }

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/

/** A staff user as the console shows it (never a secret). */
export function staffUserResource (row: StaffUserRow): Record<string, unknown> {
  return { id: row.id, email: row.email, name: row.name, role: row.role, singleSignOn: row.oidcSubject !== null, createdAt: row.createdAt.toISOString(), disabledAt: row.disabledAt?.toISOString() ?? null }
}

/**
 * Creates a staff user and an enrolment link for their first passkey (shown
 * to whoever created them, to hand over; only its hash is kept).
 */
export async function createStaffUser (deps: StaffAdminDeps, input: { email: string, name: string, role: Role }): Promise<{ user: StaffUserRow, enrolmentUrl: string }> {
  const email = input.email.trim().toLowerCase()
  const name = input.name.trim()
  if (!EMAIL.test(email)) throw new AppError('validation_failed', `"${input.email}" is not an email address.`)
  if (name === '') throw new AppError('validation_failed', 'A staff user needs a name.')
  return await deps.sql.begin(async (tx) => {
    const user = await insertStaffUser(tx, { id: newId(), email, name, role: input.role, createdAt: deps.now, createdBy: deps.actor })
    if (user === undefined) throw new AppError('staff_user_exists', `A staff user with the email ${email} already exists.`)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'staff_user.created', subjectType: 'staff_user', subjectId: user.id, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), after: { email, name, role: input.role } })
    const enrolmentUrl = await newEnrolment(tx, deps, user.id)
    return { user, enrolmentUrl }
  }) as { user: StaffUserRow, enrolmentUrl: string }
}

/** A new link to register another passkey (a lost device, a new laptop). */
export async function createEnrolmentLink (deps: StaffAdminDeps, staffUserId: string): Promise<string> {
  return await deps.sql.begin(async (tx) => {
    const user = await findStaffUser(tx, staffUserId)
    if (user === undefined) throw notFound(`The staff user ${staffUserId}`)
    if (user.disabledAt !== null) throw new AppError('conflict', `${user.name} is disabled.`)
    return await newEnrolment(tx, deps, user.id)
  }) as string
}

async function newEnrolment (tx: Db, deps: StaffAdminDeps, staffUserId: string): Promise<string> {
  const token = randomBytes(32).toString('base64url')
  await insertEnrolment(tx, { tokenHash: tokenHash(token), staffUserId, now: deps.now, expiresAt: new Date(deps.now.getTime() + ENROLMENT_HOURS * 3600_000) })
  await recordAuditEvent(tx, { actor: deps.actor, action: 'staff_user.enrolment_link_created', subjectType: 'staff_user', subjectId: staffUserId, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), details: { expiresInHours: ENROLMENT_HOURS } })
  return `${deps.baseUrl}/console/enrol?token=${token}`
}

/** Changes a role (audited before and after); takes effect on the user's next request. */
export async function changeStaffRole (deps: StaffAdminDeps, staffUserId: string, role: Role): Promise<StaffUserRow> {
  return await deps.sql.begin(async (tx) => {
    const before = await findStaffUser(tx, staffUserId)
    if (before === undefined) throw notFound(`The staff user ${staffUserId}`)
    if (deps.actor === staffActor(staffUserId) && role !== 'admin') throw new AppError('conflict', 'You cannot lower your own role: ask another administrator.')
    const after = await updateStaffUser(tx, staffUserId, { role })
    await recordAuditEvent(tx, { actor: deps.actor, action: 'staff_user.role_changed', subjectType: 'staff_user', subjectId: staffUserId, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), before: { role: before.role }, after: { role } })
    return after!
  }) as StaffUserRow
}

/** Disables a user and ends their sessions at once; their passkeys stop working. */
export async function disableStaffUser (deps: StaffAdminDeps, staffUserId: string): Promise<StaffUserRow> {
  return await deps.sql.begin(async (tx) => {
    const before = await findStaffUser(tx, staffUserId)
    if (before === undefined) throw notFound(`The staff user ${staffUserId}`)
    if (deps.actor === staffActor(staffUserId)) throw new AppError('conflict', 'You cannot disable yourself: ask another administrator.')
    if (before.disabledAt !== null) return before
    const after = await updateStaffUser(tx, staffUserId, { disabledAt: deps.now })
    await endSessionsOf(tx, staffUserId, deps.now)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'staff_user.disabled', subjectType: 'staff_user', subjectId: staffUserId, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}) })
    return after!
  }) as StaffUserRow
}
