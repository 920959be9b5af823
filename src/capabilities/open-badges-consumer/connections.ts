import type { Db } from '../../infrastructure/db/types.js'
import { notFound } from '../../kernel/errors.js'
import { recordAuditEvent } from '../audit/store.js'
import type { HostClient } from './host-client.js'
import { tokenSealer } from './sealed.js'
import { deleteConnection, findConnection, lastPushAt, listConnections, type ConnectionRow } from './store.js'

/** A connection as shown to staff or a holder: never a token, a secret or a verifier. */
export interface HostConnection {
  id: string
  hostUrl: string
  hostName: string | null
  discoveryUrl: string
  clientId: string
  scopes: string[]
  state: 'pending' | 'connected'
  createdAt: string
  createdBy: string
  connectedAt: string | null
  accessExpiresAt: string | null
  lastPushAt: string | null
}

export function connectionResource (row: ConnectionRow, lastPush: Date | null): HostConnection {
  return {
    id: row.id,
    hostUrl: row.hostUrl,
    hostName: row.hostName,
    discoveryUrl: row.discoveryUrl,
    clientId: row.clientId,
    scopes: row.scopes.split(' ').filter((s) => s !== ''),
    state: row.connectedAt === null ? 'pending' : 'connected',
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    connectedAt: row.connectedAt?.toISOString() ?? null,
    accessExpiresAt: row.accessExpiresAt?.toISOString() ?? null,
    lastPushAt: lastPush?.toISOString() ?? null
  }
}

/** The connections an owner made, newest first. */
export async function listHostConnections (sql: Db, owner: string): Promise<HostConnection[]> {
  const rows = await listConnections(sql, owner)
  return await Promise.all(rows.map(async (row) => connectionResource(row, await lastPushAt(sql, row.id))))
}

/**
 * Ends a connection: its tokens are revoked at the Host when the Host
 * publishes a revocation endpoint (best effort: an unreachable Host does not
 * keep the connection here), then it is deleted with its push records, audited.
 */
export async function disconnectHost (deps: { sql: Db, hosts: HostClient, actor: string, requestId?: string }, id: string, owner: string): Promise<{ revokedAtHost: boolean }> {
  const connection = await findConnection(deps.sql, id)
  if (connection === undefined || connection.owner !== owner) throw notFound(`Host connection "${id}"`)
  let revokedAtHost = false
  if (connection.revocationUrl !== null && (connection.refreshTokenSealed !== null || connection.accessTokenSealed !== null)) {
    const sealer = await tokenSealer(deps.sql)
    const client = { id: connection.clientId, secret: connection.clientSecretSealed === null ? null : sealer.open(connection.clientSecretSealed) }
    try {
      // Revoking the refresh token ends the grant (RFC 7009 section 2.1); the access token too, for Hosts that do not cascade.
      if (connection.refreshTokenSealed !== null) await deps.hosts.revoke(connection.revocationUrl, client, sealer.open(connection.refreshTokenSealed), 'refresh_token')
      if (connection.accessTokenSealed !== null) await deps.hosts.revoke(connection.revocationUrl, client, sealer.open(connection.accessTokenSealed), 'access_token')
      revokedAtHost = true
    } catch {
      revokedAtHost = false
    }
  }
  await deleteConnection(deps.sql, id)
  await recordAuditEvent(deps.sql, {
    actor: deps.actor,
    action: 'ob_host.disconnected',
    subjectType: 'ob_host_connection',
    subjectId: id,
    ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
    before: { owner: connection.owner === 'issuer' ? 'issuer' : 'holder', hostUrl: connection.hostUrl, clientId: connection.clientId },
    details: { revokedAtHost }
  })
  return { revokedAtHost }
}
