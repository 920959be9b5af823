import { randomUUID } from 'node:crypto'
import { announceChange, type ChangeAnnouncer } from '../../infrastructure/caching/change-feed.js'
import type { Db } from '../../infrastructure/db/types.js'
import type { RecertificationPolicy } from '../achievements/recertification-rules.js'

/** A credential: one public URL for life, and who holds it now. */
export interface CredentialRow {
  id: string
  badgeId: string
  issuerId: string
  achievementId: string
  recipientName: string
  recipientEmail: string
  awardedDate: Date | null
  currentVersion: number
  /** The validUntil of the current version (null: it does not expire). */
  currentValidUntil: Date | null
  issuedAt: Date
  issuedBy: string
  revokedAt: Date | null
  revokedBy: string | null
  revocationReason: string | null
  /** When the holder followed an unsubscribe link: no more reminders or expiry notices. */
  remindersOptedOutAt: Date | null
  /** When the holder hid the public page (the portal's privacy switch); null: public. */
  hiddenByHolderAt: Date | null
  /** The body's certificate (member) number, when staff gave one: a record, not in the signed credential. */
  certificateNumber: string | null
}

export type VersionKind = 'issue' | 'correction' | 'recertification' | 'resign' | 'wallet'

/** One signed document under a credential's id. */
export interface VersionRow {
  credentialId: string
  version: number
  kind: VersionKind
  reason: string | null
  recipientName: string
  recipientEmail: string
  /** The credentialSubject's id this version signed (null: signed before subjects had ids). */
  subjectId: string | null
  validFrom: Date
  validUntil: Date | null
  statusListId: string
  statusIndex: number
  issuedAt: Date
  issuedBy: string
  supersededAt: Date | null
}

export interface SignedVersionRow extends VersionRow {
  /** The signed JSON-LD text, byte for byte as issued. */
  document: string
  jwt: string
}

const credentialColumns = (sql: Db) => sql`
  c.id, c.badge_id as "badgeId", c.issuer_id as "issuerId", c.achievement_id as "achievementId",
  c.recipient_name as "recipientName", c.recipient_email as "recipientEmail", c.awarded_date as "awardedDate",
  c.current_version as "currentVersion", c.current_valid_until as "currentValidUntil",
  c.issued_at as "issuedAt", c.issued_by as "issuedBy", c.revoked_at as "revokedAt",
  c.revoked_by as "revokedBy", c.revocation_reason as "revocationReason",
  c.reminders_opted_out_at as "remindersOptedOutAt", c.hidden_by_holder_at as "hiddenByHolderAt", c.certificate_number as "certificateNumber"`

const versionColumns = (sql: Db) => sql`
  v.credential_id as "credentialId", v.version, v.kind, v.reason, v.recipient_name as "recipientName",
  v.recipient_email as "recipientEmail", v.subject_id as "subjectId", v.valid_from as "validFrom", v.valid_until as "validUntil",
  v.status_list_id as "statusListId", v.status_index as "statusIndex", v.issued_at as "issuedAt",
  v.issued_by as "issuedBy", v.superseded_at as "supersededAt"`

export interface NewBadge { id: string, issuerId: string, achievementId: string, recipientName: string, recipientEmail: string }

/** A credential as written: at version 1, never revoked, with its first version's validUntil. */
export type NewCredential = Pick<CredentialRow, 'id' | 'badgeId' | 'issuerId' | 'achievementId' | 'recipientName' | 'recipientEmail' | 'awardedDate' | 'issuedAt' | 'issuedBy'> & { validUntil: Date | null, certificateNumber?: string | null }

/** A version as written: signed, not yet superseded, with the keys that signed it (kept for a compromise). */
export type NewVersion = Omit<SignedVersionRow, 'supersededAt'> & { signingKeyId: string, jwtKeyId: string }

/**
 * A new credential's rows (its badge, the credential, its versions), one
 * multi-row statement each whatever the number of rows: a batch writes 50 at
 * once, a single issue one.
 */
export async function insertBadges (tx: Db, badges: readonly NewBadge[]): Promise<void> {
  if (badges.length === 0) return
  const rows = badges.map((b) => ({ id: b.id, issuer_id: b.issuerId, achievement_id: b.achievementId, recipient_name: b.recipientName, recipient_email: b.recipientEmail }))
  await tx`insert into badges ${tx(rows, 'id', 'issuer_id', 'achievement_id', 'recipient_name', 'recipient_email')}`
}

export async function insertCredentials (tx: Db, credentials: readonly NewCredential[]): Promise<void> {
  if (credentials.length === 0) return
  const rows = credentials.map((c) => ({
    id: c.id,
    badge_id: c.badgeId,
    issuer_id: c.issuerId,
    achievement_id: c.achievementId,
    recipient_name: c.recipientName,
    recipient_email: c.recipientEmail,
    awarded_date: c.awardedDate,
    current_version: 1,
    current_valid_until: c.validUntil,
    issued_at: c.issuedAt,
    issued_by: c.issuedBy,
    certificate_number: c.certificateNumber ?? null
  }))
  await tx`insert into credentials ${tx(rows, 'id', 'badge_id', 'issuer_id', 'achievement_id', 'recipient_name', 'recipient_email', 'awarded_date', 'current_version', 'current_valid_until', 'issued_at', 'issued_by', 'certificate_number')}`
}

export async function insertVersions (tx: Db, versions: readonly NewVersion[]): Promise<void> {
  if (versions.length === 0) return
  const rows = versions.map((v) => ({
    credential_id: v.credentialId,
    version: v.version,
    kind: v.kind,
    reason: v.reason,
    recipient_name: v.recipientName,
    recipient_email: v.recipientEmail,
    subject_id: v.subjectId,
    valid_from: v.validFrom,
    valid_until: v.validUntil,
    status_list_id: v.statusListId,
    status_index: v.statusIndex,
    document: v.document,
    jwt: v.jwt,
    signing_key_id: v.signingKeyId,
    jwt_key_id: v.jwtKeyId,
    issued_at: v.issuedAt,
    issued_by: v.issuedBy
  }))
  await tx`insert into credential_versions ${tx(rows, 'credential_id', 'version', 'kind', 'reason', 'recipient_name', 'recipient_email', 'subject_id', 'valid_from', 'valid_until', 'status_list_id', 'status_index', 'document', 'jwt', 'signing_key_id', 'jwt_key_id', 'issued_at', 'issued_by')}`
}

/**
 * Each holder email's stable subject id (urn:uuid), made the first time the
 * address is issued to; one statement for a batch's addresses. Two issuing
 * transactions racing on a new address both end with the one that won.
 */
export async function subjectIdsFor (tx: Db, emails: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(emails)]
  if (unique.length === 0) return new Map()
  const fresh = unique.map((email) => ({ email, subject_id: `urn:uuid:${randomUUID()}` }))
  await tx`insert into holder_subjects ${tx(fresh, 'email', 'subject_id')} on conflict (email) do nothing`
  const rows = await tx<Array<{ email: string, subjectId: string }>>`select email, subject_id as "subjectId" from holder_subjects where email = any(${unique})`
  return new Map(rows.map((r) => [r.email, r.subjectId]))
}

/** Points the credential at its newest version and records who holds it now. */
export async function setCurrentVersion (tx: Db, id: string, current: { version: number, recipientName: string, recipientEmail: string, validUntil: Date | null }, changes?: ChangeAnnouncer): Promise<void> {
  await tx`
    update credentials set current_version = ${current.version}, current_valid_until = ${current.validUntil},
      recipient_name = ${current.recipientName}, recipient_email = ${current.recipientEmail}
    where id = ${id}`
  await tx`update badges set recipient_name = ${current.recipientName}, recipient_email = ${current.recipientEmail}
    where id = (select badge_id from credentials where id = ${id})`
  // Every instance drops its cached copy of the current version once this commits.
  await announceChange(tx, `credential:${id}`, changes)
}

export async function findCredential (sql: Db, id: string): Promise<CredentialRow | undefined> {
  const [row] = await sql<CredentialRow[]>`select ${credentialColumns(sql)} from credentials c where c.id = ${id}`
  return row
}

/** Locks a credential row for the rest of the transaction (every new version and revocation is read-modify-write). */
export async function lockCredential (tx: Db, id: string): Promise<CredentialRow | undefined> {
  const [row] = await tx<CredentialRow[]>`select ${credentialColumns(tx)} from credentials c where c.id = ${id} for update`
  return row
}

/**
 * Serialises issuing of each achievement to each email for the rest of the
 * transaction, so two concurrent first issues cannot both pass the duplicate
 * check. One statement for any number of pairs; the locks are taken in the
 * order of their keys, so two batches sharing pairs cannot deadlock.
 */
export async function lockRecipientAchievements (tx: Db, pairs: ReadonlyArray<{ achievementId: string, email: string }>): Promise<void> {
  if (pairs.length === 0) return
  const keys = [...new Set(pairs.map((p) => `${p.achievementId} ${p.email}`))]
  await tx`
    select pg_advisory_xact_lock(k) from (
      select hashtextextended(pair, 7) as k from unnest(${keys}::text[]) as pair order by 1
    ) as ordered`
}

/**
 * For each (achievement, normalised email) pair, the credential held now:
 * neither revoked nor expired at `now` (the newest when several); one statement.
 */
export async function findHeldCredentials (sql: Db, pairs: ReadonlyArray<{ achievementId: string, email: string }>, now: Date): Promise<Array<{ id: string, achievementId: string, email: string }>> {
  if (pairs.length === 0) return []
  return await sql<Array<{ id: string, achievementId: string, email: string }>>`
    select distinct on (c.achievement_id, c.recipient_email) c.id, c.achievement_id as "achievementId", c.recipient_email as email
    from credentials c
    join unnest(${pairs.map((p) => p.achievementId)}::text[], ${pairs.map((p) => p.email)}::text[]) as p(achievement_id, email)
      on c.achievement_id = p.achievement_id and c.recipient_email = p.email
    where c.revoked_at is null and (c.current_valid_until is null or c.current_valid_until > ${now})
    order by c.achievement_id, c.recipient_email, c.issued_at desc`
}

/** A version with its signed documents; `version` undefined means the current one. */
export async function findSignedVersion (sql: Db, id: string, version?: number): Promise<SignedVersionRow | undefined> {
  const [row] = await sql<SignedVersionRow[]>`
    select ${versionColumns(sql)}, v.document, v.jwt
    from credential_versions v join credentials c on c.id = v.credential_id
    where v.credential_id = ${id} and v.version = ${version ?? sql`c.current_version`}`
  return row
}

/** One version's record, without its signed documents. */
export async function findVersion (sql: Db, id: string, version: number): Promise<VersionRow | undefined> {
  const [row] = await sql<VersionRow[]>`select ${versionColumns(sql)} from credential_versions v where v.credential_id = ${id} and v.version = ${version}`
  return row
}

export async function listVersions (sql: Db, id: string): Promise<VersionRow[]> {
  return await sql<VersionRow[]>`select ${versionColumns(sql)} from credential_versions v where v.credential_id = ${id} order by v.version`
}

/** Versions whose status bit is still clear: a correction or a revocation sets all of them. */
export async function listLiveVersions (tx: Db, id: string): Promise<VersionRow[]> {
  return await tx<VersionRow[]>`
    select ${versionColumns(tx)} from credential_versions v
    where v.credential_id = ${id} and v.superseded_at is null order by v.version`
}

export async function markSuperseded (tx: Db, id: string, versions: number[], at: Date): Promise<void> {
  await tx`update credential_versions set superseded_at = ${at} where credential_id = ${id} and version in ${tx(versions)}`
}

export async function markRevoked (tx: Db, id: string, revocation: { at: Date, by: string, reason: string }, changes?: ChangeAnnouncer): Promise<void> {
  await tx`
    update credentials set revoked_at = ${revocation.at}, revoked_by = ${revocation.by}, revocation_reason = ${revocation.reason}
    where id = ${id}`
  // Every version's status record now says revoked, also those on lists the revocation left alone (superseded versions).
  await announceChange(tx, `credential:${id}`, changes)
}

/** What the service's records say about the version holding a status entry (for verification). */
export interface StatusRecord {
  credentialId: string
  version: number
  currentVersion: number
  currentValidFrom: Date
  supersededAt: Date | null
  revokedAt: Date | null
  /** When a later version is a recertification: the first one's validFrom (the version was renewed then); else null. */
  renewedAt: Date | null
  /** The current version's validUntil (null: it does not expire). */
  currentValidUntil: Date | null
  /** The achievement's recertification rules, for the renewal advice on an expired credential (null: none). */
  recertification: RecertificationPolicy | null
}

/**
 * What the records say about the version holding a status entry, and the
 * list's head (what findStatusListHead reads), in one statement: the verifier
 * needs both for every credential of ours. The head
 * is there even when no version holds the index (record undefined).
 */
export async function findStatusRecordWithListHead (sql: Db, listId: string, index: number): Promise<{ record?: StatusRecord, head?: { issuerId: string, purpose: string, size: number, version: number } }> {
  const [row] = await sql<Array<StatusRecord & { issuerId: string, purpose: string, size: number, listVersion: number, hasRecord: boolean }>>`
    select l.issuer_id as "issuerId", l.purpose, l.size, l.version as "listVersion", v.credential_id is not null as "hasRecord",
      v.credential_id as "credentialId", v.version, c.current_version as "currentVersion",
      cur.valid_from as "currentValidFrom", cur.valid_until as "currentValidUntil", v.superseded_at as "supersededAt", c.revoked_at as "revokedAt",
      renewal.valid_from as "renewedAt", a.recertification
    from status_lists l
    left join credential_versions v on v.status_list_id = l.id and v.status_index = ${index}
    left join credentials c on c.id = v.credential_id
    left join achievements a on a.id = c.achievement_id
    left join credential_versions cur on cur.credential_id = c.id and cur.version = c.current_version
    left join lateral (
      -- The first recertification after this version (a wallet's version may sit between them).
      select r.valid_from from credential_versions r
      where r.credential_id = v.credential_id and r.version > v.version and r.kind = 'recertification'
      order by r.version limit 1) renewal on true
    where l.id = ${listId}`
  if (row === undefined) return {}
  const head = { issuerId: row.issuerId, purpose: row.purpose, size: row.size, version: row.listVersion }
  if (!row.hasRecord) return { head }
  return { head, record: { credentialId: row.credentialId, version: row.version, currentVersion: row.currentVersion, currentValidFrom: row.currentValidFrom, supersededAt: row.supersededAt, revokedAt: row.revokedAt, renewedAt: row.renewedAt, currentValidUntil: row.currentValidUntil, recertification: row.recertification } }
}

export type CredentialState = 'valid' | 'expired' | 'revoked' | 'superseded'

export interface CredentialQuery {
  achievementId?: string
  /** Normalised (trimmed, lower-cased). */
  email?: string
  state?: CredentialState
  expiresAfter?: Date
  expiresBefore?: Date
  now: Date
  limit: number
  /** Keyset cursor: the id of the last credential of the previous page. */
  after?: string
}

/**
 * Staff search, keyset-paginated on (issued_at, id). The state is judged at
 * `now`: revoked, else expired (current validUntil passed), else valid;
 * `superseded` finds credentials with a corrected (superseded) version.
 */
export async function queryCredentials (sql: Db, q: CredentialQuery): Promise<CredentialRow[]> {
  const conditions = [
    q.achievementId === undefined ? undefined : sql`c.achievement_id = ${q.achievementId}`,
    q.email === undefined ? undefined : sql`c.recipient_email = ${q.email}`,
    q.state === 'revoked' ? sql`c.revoked_at is not null` : undefined,
    q.state === 'expired' ? sql`c.revoked_at is null and c.current_valid_until <= ${q.now}` : undefined,
    q.state === 'valid' ? sql`c.revoked_at is null and (c.current_valid_until is null or c.current_valid_until > ${q.now})` : undefined,
    q.state === 'superseded' ? sql`exists (select 1 from credential_versions v where v.credential_id = c.id and v.superseded_at is not null)` : undefined,
    q.expiresAfter === undefined ? undefined : sql`c.current_valid_until >= ${q.expiresAfter}`,
    q.expiresBefore === undefined ? undefined : sql`c.current_valid_until < ${q.expiresBefore}`,
    q.after === undefined ? undefined : sql`(c.issued_at, c.id) > (select issued_at, id from credentials where id = ${q.after})`
  ].filter((c) => c !== undefined)
  const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`)
  return await sql<CredentialRow[]>`
    select ${credentialColumns(sql)} from credentials c
    where ${where}
    order by c.issued_at, c.id
    limit ${q.limit}`
}

/** Is this a signature value (Data Integrity proofValue, or the JWS signature part) of a stored version? */
/**
 * Whether a version's document is exactly the text whose SHA-256 (hex) this
 * is: a document this service signed (migration 0021's index).
 */
export async function isStoredDocument (sql: Db, sha256Hex: string): Promise<boolean> {
  const rows = await sql`
    select 1 from credential_versions
    where tessera_sha256_hex(document) = ${sha256Hex}
    limit 1`
  return rows.length > 0
}

export async function isStoredSignature (sql: Db, signature: string): Promise<boolean> {
  const rows = await sql`
    select 1 from credential_versions
    where (document::jsonb -> 'proof' -> 0 ->> 'proofValue') = ${signature} or split_part(jwt, '.', 3) = ${signature}
    limit 1`
  return rows.length > 0
}

/** The current versions signed by a key (Data Integrity or JWT), a page at a time, for re-signing. */
export async function currentVersionsSignedBy (sql: Db, keyId: string, limit: number): Promise<Array<{ credentialId: string, version: number }>> {
  return await sql<Array<{ credentialId: string, version: number }>>`
    select v.credential_id as "credentialId", v.version from credential_versions v
    join credentials c on c.id = v.credential_id and c.current_version = v.version
    where (v.signing_key_id = ${keyId} or v.jwt_key_id = ${keyId}) and c.revoked_at is null
    order by v.credential_id limit ${limit}`
}

/** A holder's credentials (by current recipient email), the most recently issued or renewed first. */
export async function listCredentialsOfHolder (sql: Db, email: string, limit = 200): Promise<CredentialRow[]> {
  return await sql<CredentialRow[]>`
    select ${credentialColumns(sql)} from credentials c
    join credential_versions v on v.credential_id = c.id and v.version = c.current_version
    where c.recipient_email = ${email}
    order by v.issued_at desc, c.id
    limit ${limit}`
}

/** The holder's privacy switch; only for the holder's own credential (false when the id and email do not match). */
export async function setHiddenByHolder (sql: Db, id: string, email: string, hidden: boolean, now: Date): Promise<boolean> {
  const rows = await sql`
    update credentials set hidden_by_holder_at = ${hidden ? sql`coalesce(hidden_by_holder_at, ${now})` : null}
    where id = ${id} and recipient_email = ${email}
    returning id`
  return rows.length > 0
}
