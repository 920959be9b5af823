import type { Db } from '../../infrastructure/db/types.js'

/**
 * The Open Badges API's data: the holder's stored badges from other issuers
 * (portfolio_credentials), the profile fields they keep (open_badges_profiles),
 * and the page of GET /credentials, which reads this service's own
 * credentials where they are rather than copying them.
 */

/** A badge from another issuer, as stored: the form it was posted in, and the verifier's verdict then. */
export interface StoredCredential {
  id: string
  holderEmail: string
  issuerId: string
  credentialId: string
  validFrom: Date
  validUntil: Date | null
  /** The JSON-LD text as posted, or null when it was posted as a compact JWS. */
  document: string | null
  compactJws: string | null
  issuerName: string | null
  achievementName: string | null
  verificationStatus: string
  verification: { status: string, checkedAt: string, checks: Array<{ id: string, result: string, message: string }> }
  createdAt: Date
  updatedAt: Date
}

const storedColumns = (sql: Db) => sql`
  id, holder_email as "holderEmail", issuer_id as "issuerId", credential_id as "credentialId",
  valid_from as "validFrom", valid_until as "validUntil", document, compact_jws as "compactJws",
  issuer_name as "issuerName", achievement_name as "achievementName",
  verification_status as "verificationStatus", verification, created_at as "createdAt", updated_at as "updatedAt"`

export type NewStoredCredential = Omit<StoredCredential, 'createdAt' | 'updatedAt'>

/**
 * The upsert of POST /credentials in one statement, so two platforms posting
 * the same badge at once cannot both create it: a new (holder, issuer, id) is
 * inserted; a stored one is replaced only by a strictly newer validFrom.
 * Returns what happened; 'unchanged' when the stored one is as new or newer.
 */
export async function upsertStoredCredential (sql: Db, row: NewStoredCredential, now: Date): Promise<'created' | 'replaced' | 'unchanged'> {
  const rows = await sql<Array<{ created: boolean }>>`
    insert into portfolio_credentials (id, holder_email, issuer_id, credential_id, valid_from, valid_until, document, compact_jws,
      issuer_name, achievement_name, verification_status, verification, created_at, updated_at)
    values (${row.id}, ${row.holderEmail}, ${row.issuerId}, ${row.credentialId}, ${row.validFrom}, ${row.validUntil}, ${row.document}, ${row.compactJws},
      ${row.issuerName}, ${row.achievementName}, ${row.verificationStatus}, ${sql.json(row.verification)}, ${now}, ${now})
    on conflict (holder_email, issuer_id, credential_id) do update set
      valid_from = excluded.valid_from, valid_until = excluded.valid_until, document = excluded.document, compact_jws = excluded.compact_jws,
      issuer_name = excluded.issuer_name, achievement_name = excluded.achievement_name,
      verification_status = excluded.verification_status, verification = excluded.verification, updated_at = excluded.updated_at
    where excluded.valid_from > portfolio_credentials.valid_from
    returning (xmax = 0) as created`
  const [result] = rows
  return result === undefined ? 'unchanged' : result.created ? 'created' : 'replaced'
}

/** The holder's stored badges, newest first (the portal's page). */
export async function listStoredCredentials (sql: Db, holderEmail: string, limit = 500): Promise<StoredCredential[]> {
  return await sql<StoredCredential[]>`
    select ${storedColumns(sql)} from portfolio_credentials
    where holder_email = ${holderEmail}
    order by updated_at desc, id
    limit ${limit}`
}

export async function findStoredCredential (sql: Db, holderEmail: string, issuerId: string, credentialId: string): Promise<StoredCredential | undefined> {
  const [row] = await sql<StoredCredential[]>`
    select ${storedColumns(sql)} from portfolio_credentials
    where holder_email = ${holderEmail} and issuer_id = ${issuerId} and credential_id = ${credentialId}`
  return row
}

/** One of the holder's stored badges by its own id (the portal's links). */
export async function findStoredCredentialById (sql: Db, holderEmail: string, id: string): Promise<StoredCredential | undefined> {
  const [row] = await sql<StoredCredential[]>`select ${storedColumns(sql)} from portfolio_credentials where id = ${id} and holder_email = ${holderEmail}`
  return row
}

/** A new verdict for a stored badge (checked again); the badge itself is unchanged. */
export async function updateStoredVerdict (sql: Db, id: string, verification: StoredCredential['verification']): Promise<void> {
  await sql`update portfolio_credentials set verification_status = ${verification.status}, verification = ${sql.json(verification)} where id = ${id}`
}

/** Removes one of the holder's stored badges; false when the holder has none with this id. */
export async function deleteStoredCredential (sql: Db, holderEmail: string, id: string): Promise<boolean> {
  const rows = await sql`delete from portfolio_credentials where id = ${id} and holder_email = ${holderEmail} returning id`
  return rows.length > 0
}

/** One credential of GET /credentials: this service's (both forms) or a stored one (the form it was posted in). */
export interface PortfolioItem {
  source: 'issued' | 'stored'
  document: string | null
  compactJws: string | null
}

export interface PortfolioQuery { holderEmail: string, limit: number, offset: number, since?: Date }

/**
 * A page of the holder's credentials: the current version of each of this
 * service's credentials issued to the address and not revoked, and the badges
 * they stored, newest first (a version's issue, a stored badge's last
 * change), with the total. `since` keeps those issued or changed after it.
 */
export async function portfolioPage (sql: Db, q: PortfolioQuery): Promise<{ total: number, items: PortfolioItem[] }> {
  const since = q.since ?? null
  const items = sql`
    select 'issued' as source, c.id as key, v.issued_at as at, v.document, v.jwt as compact_jws
    from credentials c join credential_versions v on v.credential_id = c.id and v.version = c.current_version
    where c.recipient_email = ${q.holderEmail} and c.revoked_at is null
    union all
    select 'stored', p.id, p.updated_at, p.document, p.compact_jws
    from portfolio_credentials p where p.holder_email = ${q.holderEmail}`
  const [count] = await sql<Array<{ total: number }>>`
    select count(*)::int as total from (${items}) i where ${since}::timestamptz is null or i.at > ${since}`
  const rows = await sql<Array<{ source: 'issued' | 'stored', document: string | null, compactJws: string | null }>>`
    select i.source, i.document, i.compact_jws as "compactJws" from (${items}) i
    where ${since}::timestamptz is null or i.at > ${since}
    order by i.at desc, i.key
    limit ${q.limit} offset ${q.offset}`
  return { total: count?.total ?? 0, items: rows.map((r) => ({ source: r.source, document: r.document, compactJws: r.compactJws })) }
}

/** The recipient name of the holder's most recently issued credential (the profile's name), if any. */
export async function latestRecipientName (sql: Db, holderEmail: string): Promise<string | undefined> {
  const [row] = await sql<Array<{ name: string }>>`
    select v.recipient_name as name
    from credentials c join credential_versions v on v.credential_id = c.id and v.version = c.current_version
    where c.recipient_email = ${holderEmail}
    order by c.revoked_at is null desc, v.issued_at desc, c.id
    limit 1`
  return row?.name
}

/** The profile fields a holder keeps here (PUT /profile). */
export interface ProfileFields { description: string | null, url: string | null, phone: string | null }

export async function findProfileFields (sql: Db, holderEmail: string): Promise<ProfileFields> {
  const [row] = await sql<ProfileFields[]>`select description, url, phone from open_badges_profiles where holder_email = ${holderEmail}`
  return row ?? { description: null, url: null, phone: null }
}

export async function saveProfileFields (sql: Db, holderEmail: string, fields: ProfileFields, now: Date): Promise<void> {
  await sql`
    insert into open_badges_profiles (holder_email, description, url, phone, updated_at)
    values (${holderEmail}, ${fields.description}, ${fields.url}, ${fields.phone}, ${now})
    on conflict (holder_email) do update set description = excluded.description, url = excluded.url, phone = excluded.phone, updated_at = excluded.updated_at`
}
