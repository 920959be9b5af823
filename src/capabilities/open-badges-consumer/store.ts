import type { Db } from '../../infrastructure/db/types.js'

/** A connection to another Host as stored (sealed values stay sealed here). */
export interface ConnectionRow {
  id: string
  owner: string
  hostUrl: string
  discoveryUrl: string
  hostName: string | null
  registrationUrl: string
  authorizationUrl: string
  tokenUrl: string
  refreshUrl: string | null
  revocationUrl: string | null
  apiUrl: string
  clientId: string
  clientSecretSealed: Buffer | null
  scopes: string
  verifierSealed: Buffer | null
  pendingCredentialId: string | null
  accessTokenSealed: Buffer | null
  refreshTokenSealed: Buffer | null
  accessExpiresAt: Date | null
  createdAt: Date
  createdBy: string
  connectedAt: Date | null
}

export type NewConnection = Omit<ConnectionRow, 'accessTokenSealed' | 'refreshTokenSealed' | 'accessExpiresAt' | 'connectedAt'> & { stateHash: Buffer }

const columns = (sql: Db) => sql`
  c.id, c.owner, c.host_url as "hostUrl", c.discovery_url as "discoveryUrl", c.host_name as "hostName",
  c.registration_url as "registrationUrl", c.authorization_url as "authorizationUrl", c.token_url as "tokenUrl",
  c.refresh_url as "refreshUrl", c.revocation_url as "revocationUrl", c.api_url as "apiUrl", c.client_id as "clientId",
  c.client_secret_sealed as "clientSecretSealed", c.scopes, c.verifier_sealed as "verifierSealed",
  c.pending_credential_id as "pendingCredentialId", c.access_token_sealed as "accessTokenSealed",
  c.refresh_token_sealed as "refreshTokenSealed", c.access_expires_at as "accessExpiresAt", c.created_at as "createdAt",
  c.created_by as "createdBy", c.connected_at as "connectedAt"`

export async function insertConnection (sql: Db, c: NewConnection): Promise<void> {
  await sql`
    insert into ob_host_connections (id, owner, host_url, discovery_url, host_name, registration_url, authorization_url, token_url, refresh_url,
      revocation_url, api_url, client_id, client_secret_sealed, scopes, state_hash, verifier_sealed, pending_credential_id, created_at, created_by)
    values (${c.id}, ${c.owner}, ${c.hostUrl}, ${c.discoveryUrl}, ${c.hostName}, ${c.registrationUrl}, ${c.authorizationUrl}, ${c.tokenUrl}, ${c.refreshUrl},
      ${c.revocationUrl}, ${c.apiUrl}, ${c.clientId}, ${c.clientSecretSealed}, ${c.scopes}, ${c.stateHash}, ${c.verifierSealed}, ${c.pendingCredentialId}, ${c.createdAt}, ${c.createdBy})`
}

export async function findConnection (sql: Db, id: string): Promise<ConnectionRow | undefined> {
  const [row] = await sql<ConnectionRow[]>`select ${columns(sql)} from ob_host_connections c where c.id = ${id}`
  return row
}

/** Takes the pending authorization a state names: the state works once (cleared in the same statement). */
export async function claimPendingByState (sql: Db, hash: Buffer): Promise<ConnectionRow | undefined> {
  // The main query reads the snapshot from before the update, so it still sees the verifier it clears.
  const [row] = await sql<ConnectionRow[]>`
    with pending as (select id from ob_host_connections where state_hash = ${hash} for update),
    claimed as (update ob_host_connections set state_hash = null, verifier_sealed = null where id in (select id from pending) returning id)
    select ${columns(sql)} from ob_host_connections c where c.id in (select id from claimed)`
  return row
}

export async function storeTokens (sql: Db, id: string, tokens: { access: Buffer, refresh: Buffer | null, expiresAt: Date | null, scopes?: string }, connectedAt?: Date): Promise<void> {
  await sql`
    update ob_host_connections set access_token_sealed = ${tokens.access},
      refresh_token_sealed = coalesce(${tokens.refresh}, refresh_token_sealed),
      access_expires_at = ${tokens.expiresAt},
      scopes = coalesce(${tokens.scopes ?? null}, scopes),
      connected_at = coalesce(connected_at, ${connectedAt ?? null})
    where id = ${id}`
}

export async function clearPendingCredential (sql: Db, id: string): Promise<void> {
  await sql`update ob_host_connections set pending_credential_id = null where id = ${id}`
}

export async function listConnections (sql: Db, owner: string): Promise<ConnectionRow[]> {
  return await sql<ConnectionRow[]>`select ${columns(sql)} from ob_host_connections c where c.owner = ${owner} order by c.created_at desc, c.id`
}

export async function deleteConnection (sql: Db, id: string): Promise<boolean> {
  const rows = await sql`delete from ob_host_connections where id = ${id} returning id`
  return rows.length > 0
}

export interface NewPush {
  connectionId: string
  credentialId: string
  version: number
  hostStatus: number | null
  outcome: 'created' | 'replaced' | 'unchanged' | 'refused' | 'unreachable'
  detail: string | null
  pushedAt: Date
  pushedBy: string
}

export async function insertPush (sql: Db, p: NewPush): Promise<void> {
  await sql`
    insert into ob_host_pushes (connection_id, credential_id, version, host_status, outcome, detail, pushed_at, pushed_by)
    values (${p.connectionId}, ${p.credentialId}, ${p.version}, ${p.hostStatus}, ${p.outcome}, ${p.detail}, ${p.pushedAt}, ${p.pushedBy})`
}

export async function lastPushAt (sql: Db, connectionId: string): Promise<Date | null> {
  const [row] = await sql<Array<{ at: Date | null }>>`select max(pushed_at) as at from ob_host_pushes where connection_id = ${connectionId}`
  return row?.at ?? null
}
