import type { Db } from '../../infrastructure/db/types.js'

/** One oidc-provider model as stored: its payload, and whether it was consumed (a used code). */
export interface OAuthEntry {
  payload: Record<string, unknown>
  consumed: boolean
}

export async function upsertOAuthEntry (sql: Db, kind: string, id: string, payload: Record<string, unknown>, expiresInSeconds: number | undefined): Promise<void> {
  const str = (key: string): string | null => typeof payload[key] === 'string' ? payload[key] : null
  await sql`
    insert into oauth_entries (kind, id, payload, grant_id, uid, user_code, account_id, expires_at)
    values (${kind}, ${id}, ${sql.json(payload as never)}, ${str('grantId')}, ${str('uid')}, ${str('userCode')}, ${str('accountId')},
            ${expiresInSeconds === undefined ? null : sql`now() + make_interval(secs => ${expiresInSeconds})`})
    on conflict (kind, id) do update set
      payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid, user_code = excluded.user_code,
      account_id = excluded.account_id, expires_at = excluded.expires_at`
}

const unexpired = (sql: Db) => sql`(expires_at is null or expires_at > now())`

export async function findOAuthEntry (sql: Db, kind: string, id: string): Promise<OAuthEntry | undefined> {
  const [row] = await sql<Array<{ payload: Record<string, unknown>, consumed: boolean }>>`
    select payload, consumed_at is not null as consumed from oauth_entries where kind = ${kind} and id = ${id} and ${unexpired(sql)}`
  return row
}

export async function findOAuthEntryBy (sql: Db, kind: string, column: 'uid' | 'user_code', value: string): Promise<OAuthEntry | undefined> {
  const [row] = await sql<Array<{ payload: Record<string, unknown>, consumed: boolean }>>`
    select payload, consumed_at is not null as consumed from oauth_entries where kind = ${kind} and ${sql(column)} = ${value} and ${unexpired(sql)}`
  return row
}

/** Marks a code or token used; true when this call was the one that did (a second use finds it consumed). */
export async function consumeOAuthEntry (sql: Db, kind: string, id: string): Promise<boolean> {
  const rows = await sql`update oauth_entries set consumed_at = now() where kind = ${kind} and id = ${id} and consumed_at is null returning id`
  return rows.length > 0
}

export async function destroyOAuthEntry (sql: Db, kind: string, id: string): Promise<void> {
  await sql`delete from oauth_entries where kind = ${kind} and id = ${id}`
}

/** Everything issued under a grant (codes, access and refresh tokens, and the grant itself when kind is omitted). */
export async function destroyOAuthEntriesOfGrant (sql: Db, grantId: string, kind?: string): Promise<void> {
  await sql`delete from oauth_entries where grant_id = ${grantId} ${kind === undefined ? sql`` : sql`and kind = ${kind}`}`
}

/** A holder's live grants, newest first, with the registered client's metadata. */
export async function listGrantsOfAccount (sql: Db, accountId: string): Promise<Array<{ grantId: string, clientId: string, grant: Record<string, unknown>, client: Record<string, unknown> | null, createdAt: Date, lastUsedAt: Date | null }>> {
  return await sql`
    select g.id as "grantId", g.payload->>'clientId' as "clientId", g.payload as grant, c.payload as client, g.created_at as "createdAt",
           (select max(t.created_at) from oauth_entries t where t.grant_id = g.id and t.kind in ('AccessToken', 'RefreshToken')) as "lastUsedAt"
    from oauth_entries g
    left join oauth_entries c on c.kind = 'Client' and c.id = g.payload->>'clientId'
    where g.kind = 'Grant' and g.account_id = ${accountId} and (g.expires_at is null or g.expires_at > now())
    order by g.created_at desc`
}

/** Drops entries that expired more than a day ago (a used code is kept that long, so its reuse is recognised). */
export async function purgeExpiredOAuthEntries (sql: Db): Promise<number> {
  const rows = await sql`delete from oauth_entries where expires_at < now() - interval '1 day' returning 1`
  return rows.length
}
