import type { Db } from '../../infrastructure/db/types.js'
import type { Role } from './roles.js'

/** Staff users, passkeys, enrolment links, WebAuthn challenges and console sessions: the console's SQL. */

export interface StaffUserRow {
  id: string
  email: string
  name: string
  role: Role
  oidcSubject: string | null
  createdAt: Date
  createdBy: string
  disabledAt: Date | null
}

const USER_COLUMNS = 'id, email, name, role, oidc_subject as "oidcSubject", created_at as "createdAt", created_by as "createdBy", disabled_at as "disabledAt"'

export async function insertStaffUser (tx: Db, user: { id: string, email: string, name: string, role: Role, createdAt: Date, createdBy: string }): Promise<StaffUserRow | undefined> {
  const [row] = await tx<StaffUserRow[]>`
    insert into staff_users (id, email, name, role, created_at, created_by)
    values (${user.id}, ${user.email}, ${user.name}, ${user.role}, ${user.createdAt}, ${user.createdBy})
    on conflict do nothing
    returning ${tx.unsafe(USER_COLUMNS)}`
  return row
}

export async function findStaffUser (sql: Db, id: string): Promise<StaffUserRow | undefined> {
  const [row] = await sql<StaffUserRow[]>`select ${sql.unsafe(USER_COLUMNS)} from staff_users where id = ${id}`
  return row
}

export async function findStaffUserByEmail (sql: Db, email: string): Promise<StaffUserRow | undefined> {
  const [row] = await sql<StaffUserRow[]>`select ${sql.unsafe(USER_COLUMNS)} from staff_users where lower(email) = lower(${email})`
  return row
}

export async function findStaffUserBySubject (sql: Db, subject: string): Promise<StaffUserRow | undefined> {
  const [row] = await sql<StaffUserRow[]>`select ${sql.unsafe(USER_COLUMNS)} from staff_users where oidc_subject = ${subject}`
  return row
}

export async function listStaffUsers (sql: Db): Promise<StaffUserRow[]> {
  return await sql<StaffUserRow[]>`select ${sql.unsafe(USER_COLUMNS)} from staff_users order by disabled_at nulls first, lower(name)`
}

export async function countStaffUsers (sql: Db): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`select count(*)::int as n from staff_users`
  return row?.n ?? 0
}

export async function updateStaffUser (tx: Db, id: string, change: { role?: Role, disabledAt?: Date | null, oidcSubject?: string }): Promise<StaffUserRow | undefined> {
  const [row] = await tx<StaffUserRow[]>`
    update staff_users set
      role = coalesce(${change.role ?? null}, role),
      disabled_at = case when ${change.disabledAt !== undefined} then ${change.disabledAt ?? null}::timestamptz else disabled_at end,
      oidc_subject = coalesce(${change.oidcSubject ?? null}, oidc_subject)
    where id = ${id}
    returning ${tx.unsafe(USER_COLUMNS)}`
  return row
}

export async function insertEnrolment (tx: Db, enrolment: { tokenHash: Buffer, staffUserId: string, now: Date, expiresAt: Date }): Promise<void> {
  await tx`insert into staff_enrolments (token_hash, staff_user_id, created_at, expires_at) values (${enrolment.tokenHash}, ${enrolment.staffUserId}, ${enrolment.now}, ${enrolment.expiresAt})`
}

/** The staff user a fresh, unused enrolment link is for (not using it up). */
export async function findEnrolment (sql: Db, tokenHash: Buffer, now: Date): Promise<string | undefined> {
  const [row] = await sql<Array<{ staffUserId: string }>>`
    select staff_user_id as "staffUserId" from staff_enrolments where token_hash = ${tokenHash} and used_at is null and expires_at > ${now}`
  return row?.staffUserId
}

/** Uses an enrolment link up, once: the staff user it was for, or undefined. */
export async function useEnrolment (tx: Db, tokenHash: Buffer, now: Date): Promise<string | undefined> {
  const [row] = await tx<Array<{ staffUserId: string }>>`
    update staff_enrolments set used_at = ${now} where token_hash = ${tokenHash} and used_at is null and expires_at > ${now}
    returning staff_user_id as "staffUserId"`
  return row?.staffUserId
}

export async function insertChallenge (sql: Db, challenge: { id: string, challenge: string, purpose: 'registration' | 'authentication', staffUserId: string | null, expiresAt: Date }): Promise<void> {
  await sql`insert into staff_challenges (id, challenge, purpose, staff_user_id, expires_at) values (${challenge.id}, ${challenge.challenge}, ${challenge.purpose}, ${challenge.staffUserId}, ${challenge.expiresAt})`
}

/** Uses a challenge up, once (a replayed answer finds none). */
export async function useChallenge (tx: Db, id: string, purpose: 'registration' | 'authentication', now: Date): Promise<{ challenge: string, staffUserId: string | null } | undefined> {
  const [row] = await tx<Array<{ challenge: string, staffUserId: string | null }>>`
    update staff_challenges set used_at = ${now} where id = ${id} and purpose = ${purpose} and used_at is null and expires_at > ${now}
    returning challenge, staff_user_id as "staffUserId"`
  return row
}

export interface PasskeyRow { id: string, staffUserId: string, publicKey: Buffer, counter: number, transports: string[] }

export async function insertPasskey (tx: Db, passkey: PasskeyRow & { createdAt: Date }): Promise<void> {
  await tx`insert into staff_passkeys (id, staff_user_id, public_key, counter, transports, created_at) values (${passkey.id}, ${passkey.staffUserId}, ${passkey.publicKey}, ${passkey.counter}, ${passkey.transports}, ${passkey.createdAt})`
}

export async function findPasskey (sql: Db, id: string): Promise<PasskeyRow | undefined> {
  const [row] = await sql<PasskeyRow[]>`select id, staff_user_id as "staffUserId", public_key as "publicKey", counter::int as counter, transports from staff_passkeys where id = ${id}`
  return row
}

export async function passkeysOf (sql: Db, staffUserId: string): Promise<PasskeyRow[]> {
  return await sql<PasskeyRow[]>`select id, staff_user_id as "staffUserId", public_key as "publicKey", counter::int as counter, transports from staff_passkeys where staff_user_id = ${staffUserId}`
}

export async function usePasskey (tx: Db, id: string, counter: number, now: Date): Promise<void> {
  await tx`update staff_passkeys set counter = ${counter}, last_used_at = ${now} where id = ${id}`
}

export async function insertStaffSession (tx: Db, session: { idHash: Buffer, staffUserId: string, method: 'passkey' | 'oidc', now: Date, expiresAt: Date }): Promise<void> {
  await tx`insert into staff_sessions (id_hash, staff_user_id, method, created_at, expires_at) values (${session.idHash}, ${session.staffUserId}, ${session.method}, ${session.now}, ${session.expiresAt})`
}

/** The signed-in staff user of a live session (not ended, not expired, the user not disabled). */
export async function findSessionUser (sql: Db, idHash: Buffer, now: Date): Promise<StaffUserRow | undefined> {
  const [row] = await sql<StaffUserRow[]>`
    select ${sql.unsafe(USER_COLUMNS.split(', ').map((c) => `u.${c}`).join(', '))}
    from staff_sessions s join staff_users u on u.id = s.staff_user_id
    where s.id_hash = ${idHash} and s.ended_at is null and s.expires_at > ${now} and u.disabled_at is null`
  return row
}

export async function endStaffSession (sql: Db, idHash: Buffer, now: Date): Promise<void> {
  await sql`update staff_sessions set ended_at = ${now} where id_hash = ${idHash} and ended_at is null`
}

/** Ends every session of a user (disabled, or role changed: the next request signs in again). */
export async function endSessionsOf (tx: Db, staffUserId: string, now: Date): Promise<void> {
  await tx`update staff_sessions set ended_at = ${now} where staff_user_id = ${staffUserId} and ended_at is null`
}
