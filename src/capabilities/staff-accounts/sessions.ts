import { createHash, randomBytes } from 'node:crypto'
import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { staffActor } from './accounts.js'
import { endStaffSession, findSessionUser, insertStaffSession, type StaffUserRow } from './store.js'

/** Console sessions: a random id in a signed, HttpOnly cookie; only its SHA-256 is stored. */
export const STAFF_SESSION_HOURS = 8

const hash = (id: string): Buffer => createHash('sha256').update(id, 'utf8').digest()

/** Starts a session for a signed-in staff user (audited); returns the id for the cookie. */
export async function startStaffSession (deps: { sql: Sql, now: Date, requestId?: string }, user: StaffUserRow, method: 'passkey' | 'oidc'): Promise<string> {
  const id = randomBytes(32).toString('base64url')
  await deps.sql.begin(async (tx) => {
    await insertStaffSession(tx, { idHash: hash(id), staffUserId: user.id, method, now: deps.now, expiresAt: new Date(deps.now.getTime() + STAFF_SESSION_HOURS * 3600_000) })
    await recordAuditEvent(tx, { actor: staffActor(user.id), action: 'staff_user.signed_in', subjectType: 'staff_user', subjectId: user.id, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), details: { method } })
  })
  return id
}

export async function staffOfSession (sql: Sql, sessionId: string, now: Date): Promise<StaffUserRow | undefined> {
  return await findSessionUser(sql, hash(sessionId), now)
}

export async function endStaffSessionById (sql: Sql, sessionId: string, now: Date): Promise<void> {
  await endStaffSession(sql, hash(sessionId), now)
}
