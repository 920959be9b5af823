import type { Sql } from 'postgres'
import type { Db } from '../../infrastructure/db/types.js'

/** Sign-in links, sessions and the staff queue of orders: the portal's SQL. */

/**
 * Stores a new token unless the address already had `limit` since `since`.
 * Concurrent requests for one address are serialised by an advisory lock on
 * it, so the limit holds under a burst.
 */
export async function insertSignInTokenWithinLimit (sql: Sql, token: { hash: Buffer, email: string, now: Date, expiresAt: Date }, since: Date, limit: number): Promise<boolean> {
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${'sign-in:' + token.email}, 0))`
    const [row] = await tx<Array<{ n: number }>>`select count(*)::int as n from portal_sign_in_tokens where email = ${token.email} and created_at > ${since}`
    if ((row?.n ?? 0) >= limit) return false
    await tx`insert into portal_sign_in_tokens (token_hash, email, created_at, expires_at) values (${token.hash}, ${token.email}, ${token.now}, ${token.expiresAt})`
    return true
  }) as boolean
}

/** Uses a token: the address it was sent to, once, while it is fresh; otherwise undefined. */
export async function redeemSignInToken (sql: Db, hash: Buffer, now: Date): Promise<string | undefined> {
  const [row] = await sql<Array<{ email: string }>>`
    update portal_sign_in_tokens set used_at = ${now}
    where token_hash = ${hash} and used_at is null and expires_at > ${now}
    returning email`
  return row?.email
}

/** Housekeeping (the periodic scan): sign-in tokens and sessions long past their end. */
export async function deleteStalePortalRows (sql: Db, before: Date): Promise<void> {
  await sql`delete from portal_sign_in_tokens where expires_at < ${before}`
  await sql`delete from portal_sessions where expires_at < ${before}`
}

export async function saveSession (sql: Db, session: { idHash: Buffer, email: string, data: unknown, now: Date, expiresAt: Date }): Promise<void> {
  await sql`
    insert into portal_sessions (id_hash, email, data, created_at, expires_at)
    values (${session.idHash}, ${session.email}, ${sql.json(session.data as Parameters<typeof sql.json>[0])}, ${session.now}, ${session.expiresAt})
    on conflict (id_hash) do update set data = excluded.data, email = excluded.email
    where portal_sessions.ended_at is null`
}

/** A live session's data: not ended and not expired at `now`. */
export async function findSession (sql: Db, idHash: Buffer, now: Date): Promise<unknown> {
  const [row] = await sql<Array<{ data: unknown }>>`select data from portal_sessions where id_hash = ${idHash} and ended_at is null and expires_at > ${now}`
  return row?.data
}

export async function endSession (sql: Db, idHash: Buffer, now: Date): Promise<void> {
  await sql`update portal_sessions set ended_at = ${now} where id_hash = ${idHash} and ended_at is null`
}

/** Ends every session signed in as this address (its credentials moved to another address). */
export async function endSessionsOf (sql: Db, email: string, now: Date): Promise<number> {
  const rows = await sql`update portal_sessions set ended_at = ${now} where email = ${email} and ended_at is null returning 1`
  return rows.length
}

/**
 * What a corrected address means for the portal (a credentials hook,
 * `onRecipientEmailChanged`): sessions signed in as the old one end, in the
 * correction's transaction; the holder signs in with the new one.
 */
export const endSessionsOfPreviousAddress = (now: Date) => async (tx: Db, previousEmail: string): Promise<number> => await endSessionsOf(tx, previousEmail, now)

export type OrderType = 'badge' | 'correction'
export type OrderState = 'pending' | 'approved' | 'rejected'

export interface OrderRow {
  id: string
  type: OrderType
  state: OrderState
  name: string
  email: string
  certificateNumber: string | null
  certifiedOn: string | null
  consentedAt: Date | null
  credentialId: string | null
  correctionField: 'name' | 'email' | null
  correctionValue: string | null
  note: string | null
  createdAt: Date
  decidedAt: Date | null
  decidedBy: string | null
  approval: Record<string, unknown> | null
  resultCredentialId: string | null
  resultVersion: number | null
  rejectionReason: string | null
  rejectionEmailedAt: Date | null
  /** Badge orders: the link of a badge the requester already holds, as given. */
  evidenceUrl: string | null
  /** Its last verification (EvidenceVerification), or null before the first. */
  evidenceVerification: Record<string, unknown> | null
}

const orderColumns = (sql: Db) => sql`
  id, type, state, name, email, certificate_number as "certificateNumber", to_char(certified_on, 'YYYY-MM-DD') as "certifiedOn",
  consented_at as "consentedAt", credential_id as "credentialId", correction_field as "correctionField",
  correction_value as "correctionValue", note, created_at as "createdAt", decided_at as "decidedAt",
  decided_by as "decidedBy", approval, result_credential_id as "resultCredentialId", result_version as "resultVersion",
  rejection_reason as "rejectionReason", rejection_emailed_at as "rejectionEmailedAt",
  evidence_url as "evidenceUrl", evidence_verification as "evidenceVerification"`

export type NewOrder =
  | { id: string, type: 'badge', name: string, email: string, certificateNumber: string, certifiedOn: string, consentedAt: Date, note: string | null, evidenceUrl: string | null, createdAt: Date }
  | { id: string, type: 'correction', name: string, email: string, credentialId: string, correctionField: 'name' | 'email', correctionValue: string, note: string | null, createdAt: Date }

export async function insertOrder (sql: Db, order: NewOrder): Promise<void> {
  if (order.type === 'badge') {
    await sql`
      insert into orders (id, type, name, email, certificate_number, certified_on, consented_at, note, evidence_url, created_at)
      values (${order.id}, 'badge', ${order.name}, ${order.email}, ${order.certificateNumber}, ${order.certifiedOn}, ${order.consentedAt}, ${order.note}, ${order.evidenceUrl}, ${order.createdAt})`
  } else {
    await sql`
      insert into orders (id, type, name, email, credential_id, correction_field, correction_value, note, created_at)
      values (${order.id}, 'correction', ${order.name}, ${order.email}, ${order.credentialId}, ${order.correctionField}, ${order.correctionValue}, ${order.note}, ${order.createdAt})`
  }
}

export async function findOrder (sql: Db, id: string): Promise<OrderRow | undefined> {
  const [row] = await sql<OrderRow[]>`select ${orderColumns(sql)} from orders where id = ${id}`
  return row
}

/** The order, locked until the transaction ends: two approvals of one order run one after the other. */
export async function lockOrder (tx: Db, id: string): Promise<OrderRow | undefined> {
  const [row] = await tx<OrderRow[]>`select ${orderColumns(tx)} from orders where id = ${id} for update`
  return row
}

/** The queue, oldest first, keyset-paginated on (created_at, id). */
export async function listOrders (sql: Db, q: { state?: OrderState, type?: OrderType, after?: string, limit: number }): Promise<OrderRow[]> {
  const conditions = [
    q.state === undefined ? undefined : sql`state = ${q.state}`,
    q.type === undefined ? undefined : sql`type = ${q.type}`,
    q.after === undefined ? undefined : sql`(created_at, id) > (select created_at, id from orders where id = ${q.after})`
  ].filter((c) => c !== undefined)
  const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`)
  return await sql<OrderRow[]>`select ${orderColumns(sql)} from orders where ${where} order by created_at, id limit ${q.limit}`
}

/** The correction requests about these credentials, newest first (the holder's view of their requests). */
export async function listCorrectionRequests (sql: Db, credentialIds: string[]): Promise<OrderRow[]> {
  if (credentialIds.length === 0) return []
  return await sql<OrderRow[]>`select ${orderColumns(sql)} from orders where credential_id = any(${credentialIds}) order by created_at desc, id limit 200`
}

export async function markApproved (tx: Db, id: string, decision: { at: Date, by: string, approval: Record<string, unknown>, credentialId: string, version: number }): Promise<void> {
  await tx`
    update orders set state = 'approved', decided_at = ${decision.at}, decided_by = ${decision.by},
      approval = ${tx.json(decision.approval as Parameters<typeof tx.json>[0])}, result_credential_id = ${decision.credentialId}, result_version = ${decision.version}
    where id = ${id}`
}

export async function markRejected (tx: Db, id: string, decision: { at: Date, by: string, reason: string }): Promise<void> {
  await tx`update orders set state = 'rejected', decided_at = ${decision.at}, decided_by = ${decision.by}, rejection_reason = ${decision.reason} where id = ${id}`
}

/** Records the evidence link's latest verification, unless a later one was already stored (two staff reading at once). */
export async function saveEvidenceVerification (sql: Db, id: string, verification: { checkedAt: string } & Record<string, unknown>): Promise<void> {
  await sql`
    update orders set evidence_verification = ${sql.json(verification as Parameters<typeof sql.json>[0])}
    where id = ${id} and evidence_url is not null
      and (evidence_verification is null or (evidence_verification->>'checkedAt')::timestamptz <= ${verification.checkedAt}::timestamptz)`
}

export async function markRejectionEmailed (sql: Db, id: string, at: Date): Promise<void> {
  await sql`update orders set rejection_emailed_at = ${at} where id = ${id}`
}
