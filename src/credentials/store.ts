import type { Db } from '../db/types.js'

export interface CredentialRow {
  id: string
  badgeId: string
  issuerId: string
  achievementId: string
  recipientName: string
  validFrom: Date
  validUntil: Date | null
  statusListId: string
  statusIndex: number
  document: string
  jwt: string
  issuedAt: Date
  issuedBy: string
  revokedAt: Date | null
  revokedBy: string | null
  revocationReason: string | null
}

const columns = (sql: Db) => sql`
  id, badge_id as "badgeId", issuer_id as "issuerId", achievement_id as "achievementId",
  recipient_name as "recipientName", valid_from as "validFrom", valid_until as "validUntil",
  status_list_id as "statusListId", status_index as "statusIndex", document, jwt,
  issued_at as "issuedAt", issued_by as "issuedBy", revoked_at as "revokedAt",
  revoked_by as "revokedBy", revocation_reason as "revocationReason"`

export interface NewCredential {
  id: string
  badgeId: string
  issuerId: string
  achievementId: string
  recipientName: string
  recipientEmail: string
  validFrom: Date
  validUntil: Date | null
  awardedDate: Date | null
  statusListId: string
  statusIndex: number
  document: string
  jwt: string
  signingKeyId: string
  jwtKeyId: string
  issuedAt: Date
  issuedBy: string
}

export async function insertBadge (tx: Db, badge: { id: string, issuerId: string, achievementId: string, recipientName: string, recipientEmail: string }): Promise<void> {
  await tx`
    insert into badges (id, issuer_id, achievement_id, recipient_name, recipient_email)
    values (${badge.id}, ${badge.issuerId}, ${badge.achievementId}, ${badge.recipientName}, ${badge.recipientEmail})`
}

export async function insertCredential (tx: Db, c: NewCredential): Promise<void> {
  await tx`
    insert into credentials (id, badge_id, issuer_id, achievement_id, recipient_name, recipient_email,
      valid_from, valid_until, awarded_date, status_list_id, status_index, document, jwt,
      signing_key_id, jwt_key_id, issued_at, issued_by)
    values (${c.id}, ${c.badgeId}, ${c.issuerId}, ${c.achievementId}, ${c.recipientName}, ${c.recipientEmail},
      ${c.validFrom}, ${c.validUntil}, ${c.awardedDate}, ${c.statusListId}, ${c.statusIndex}, ${c.document}, ${c.jwt},
      ${c.signingKeyId}, ${c.jwtKeyId}, ${c.issuedAt}, ${c.issuedBy})`
}

export async function findCredential (sql: Db, id: string): Promise<CredentialRow | undefined> {
  const [row] = await sql<CredentialRow[]>`select ${columns(sql)} from credentials where id = ${id}`
  return row
}

/** The signed JSON-LD text of a stored credential, byte for byte as issued. */
export async function findCredentialDocument (sql: Db, id: string): Promise<{ document: string } | undefined> {
  const [row] = await sql<{ document: string }[]>`select document from credentials where id = ${id}`
  return row
}

/** Locks a credential row for the rest of the transaction (revocation is read-modify-write). */
export async function lockCredential (tx: Db, id: string): Promise<CredentialRow | undefined> {
  const [row] = await tx<CredentialRow[]>`select ${columns(tx)} from credentials where id = ${id} for update`
  return row
}

export async function markRevoked (tx: Db, id: string, revocation: { at: Date, by: string, reason: string }): Promise<void> {
  await tx`
    update credentials set revoked_at = ${revocation.at}, revoked_by = ${revocation.by}, revocation_reason = ${revocation.reason}
    where id = ${id}`
}
