import type { Db } from '../../infrastructure/db/types.js'

export interface ApiKeyRow {
  id: string
  name: string
  secretHash: Buffer | null
  scopes: string[]
  createdAt: Date
  createdBy: string
  expiresAt: Date | null
  lastUsedAt: Date | null
  revokedAt: Date | null
  revokedBy: string | null
}

const columns = (sql: Db) => sql`
  id, name, secret_hash as "secretHash", scopes, created_at as "createdAt", created_by as "createdBy",
  expires_at as "expiresAt", last_used_at as "lastUsedAt", revoked_at as "revokedAt", revoked_by as "revokedBy"`

export async function insertApiKey (sql: Db, key: { id: string, name: string, secretHash: Buffer, scopes: readonly string[], createdBy: string, expiresAt: Date | null }): Promise<ApiKeyRow> {
  const [row] = await sql<ApiKeyRow[]>`
    insert into api_keys (id, name, secret_hash, scopes, created_by, expires_at)
    values (${key.id}, ${key.name}, ${key.secretHash}, ${sql.array([...key.scopes])}, ${key.createdBy}, ${key.expiresAt})
    returning ${columns(sql)}`
  if (row === undefined) throw new Error('insert into api_keys returned nothing')
  return row
}

/** The bootstrap key's row, so the audit trail and the key list can name it. */
export async function upsertBootstrapKey (sql: Db, scopes: readonly string[]): Promise<void> {
  await sql`
    insert into api_keys (id, name, scopes, created_by) values ('bootstrap', 'ADMIN_API_KEY (bootstrap)', ${sql.array([...scopes])}, 'configuration')
    on conflict (id) do update set scopes = excluded.scopes`
}

export async function findApiKey (sql: Db, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await sql<ApiKeyRow[]>`select ${columns(sql)} from api_keys where id = ${id}`
  return row
}

export async function listApiKeys (sql: Db): Promise<ApiKeyRow[]> {
  return await sql<ApiKeyRow[]>`select ${columns(sql)} from api_keys order by created_at, id`
}

/** Revokes a key; returns the row (undefined when there is no such key). Revoking twice keeps the first. */
export async function revokeApiKey (sql: Db, id: string, by: string, at: Date): Promise<ApiKeyRow | undefined> {
  await sql`update api_keys set revoked_at = ${at}, revoked_by = ${by} where id = ${id} and revoked_at is null`
  return await findApiKey(sql, id)
}

/** Records use at most once a minute per key, so authentication does not write on every request. */
export async function touchApiKey (sql: Db, id: string): Promise<void> {
  await sql`update api_keys set last_used_at = now() where id = ${id} and (last_used_at is null or last_used_at < now() - interval '1 minute')`
}
