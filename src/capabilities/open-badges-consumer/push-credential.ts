import type { Db } from '../../infrastructure/db/types.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { recordAuditEvent } from '../audit/store.js'
import { normaliseEmail } from '../credentials/build-credential.js'
import { findCredential, findSignedVersion } from '../credentials/store.js'
import type { HostClient } from './host-client.js'
import { tokenSealer, type Sealer } from './sealed.js'
import { findConnection, insertPush, storeTokens, type ConnectionRow } from './store.js'

/** What the Host's POST /credentials status means (OB 3.0 API: 201 created, 200 replaced, 304 unchanged). */
const OUTCOMES: Readonly<Record<number, 'created' | 'replaced' | 'unchanged'>> = { 201: 'created', 200: 'replaced', 304: 'unchanged' }

/** An access token this close to its expiry is refreshed before use, not after a refusal. */
const EXPIRY_MARGIN_MS = 30_000

export interface PushDeps { sql: Db, hosts: HostClient, now: Date, actor: string, requestId?: string }

export interface PushResult { status: 'created' | 'replaced' | 'unchanged', hostStatus: number, credentialId: string, version: number }

/**
 * Sends a credential's current Data Integrity document to a connected Host
 * (POST /ims/ob/v3p0/credentials with the connection's bearer token). The
 * token is refreshed first when it has expired, and once more when the Host
 * answers 401 anyway (revoked early, or a clock apart). Every push is
 * recorded with the Host's answer and audited; a refusal is a problem that
 * quotes the Host's Imsx_StatusInfo description.
 * `owner` restricts who may push: the issuer's connections take any of the
 * issuer's credentials; a holder's only their own.
 */
export async function pushCredential (deps: PushDeps, input: { connectionId: string, credentialId: string, owner: 'issuer' | { holderEmail: string } }): Promise<PushResult> {
  const connection = await findConnection(deps.sql, input.connectionId)
  const ownerValue = input.owner === 'issuer' ? 'issuer' : input.owner.holderEmail
  if (connection === undefined || connection.owner !== ownerValue) throw notFound(`Host connection "${input.connectionId}"`)
  if (connection.connectedAt === null || connection.accessTokenSealed === null) throw new AppError('conflict', 'This Host connection is not connected yet: open its "authorizationUrl" and consent at the Host first.')
  const credential = await findCredential(deps.sql, input.credentialId)
  if (credential === undefined || (input.owner !== 'issuer' && normaliseEmail(credential.recipientEmail) !== normaliseEmail(input.owner.holderEmail))) throw notFound(`Credential "${input.credentialId}"`)
  if (credential.revokedAt !== null) throw new AppError('credential_revoked', `Credential "${credential.id}" is revoked; a revoked credential is not sent to other platforms.`)
  const signed = await findSignedVersion(deps.sql, credential.id)
  if (signed === undefined) throw notFound(`Credential "${input.credentialId}"`)

  const sealer = await tokenSealer(deps.sql)
  let access = sealer.open(connection.accessTokenSealed)
  const expired = connection.accessExpiresAt !== null && connection.accessExpiresAt.getTime() - EXPIRY_MARGIN_MS <= deps.now.getTime()
  if (expired) access = await refresh(deps, sealer, connection)
  let answer = await deps.hosts.postCredential(connection.apiUrl, access, signed.document)
  if (answer.status === 401 && !expired && connection.refreshTokenSealed !== null) {
    access = await refresh(deps, sealer, connection)
    answer = await deps.hosts.postCredential(connection.apiUrl, access, signed.document)
  }
  const outcome = OUTCOMES[answer.status]
  await insertPush(deps.sql, { connectionId: connection.id, credentialId: credential.id, version: signed.version, hostStatus: answer.status, outcome: outcome ?? 'refused', detail: answer.description, pushedAt: deps.now, pushedBy: deps.actor })
  await recordAuditEvent(deps.sql, {
    actor: deps.actor,
    action: outcome === undefined ? 'credential.push_refused' : 'credential.pushed',
    subjectType: 'credential',
    subjectId: credential.id,
    version: signed.version,
    ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
    details: { connectionId: connection.id, hostUrl: connection.hostUrl, hostStatus: answer.status, ...(outcome !== undefined ? { outcome } : {}), ...(answer.description !== null ? { hostSaid: answer.description } : {}) }
  })
  if (outcome === undefined) {
    throw new AppError('client_error', `The Host at ${connection.hostUrl} refused the credential (HTTP ${answer.status}${answer.description !== null ? `: ${answer.description}` : ''}).`)
  }
  return { status: outcome, hostStatus: answer.status, credentialId: credential.id, version: signed.version }
}

/** A new access token from the refresh token (rotated if the Host rotates it), sealed and stored. */
async function refresh (deps: PushDeps, sealer: Sealer, connection: ConnectionRow): Promise<string> {
  if (connection.refreshTokenSealed === null) throw new AppError('conflict', 'The Host\'s access token has expired and it gave no refresh token: connect to the Host again.')
  const client = { id: connection.clientId, secret: connection.clientSecretSealed === null ? null : sealer.open(connection.clientSecretSealed) }
  const tokens = await deps.hosts.token(connection.refreshUrl ?? connection.tokenUrl, client, { grant_type: 'refresh_token', refresh_token: sealer.open(connection.refreshTokenSealed) }).catch((error: unknown) => {
    // The Host ended the grant (the holder withdrew it there, or it expired): only a new consent helps.
    if (error instanceof AppError && error.code === 'client_error') throw new AppError('conflict', `The Host at ${connection.hostUrl} no longer accepts this connection (${error.message}) Disconnect it and connect again.`, {}, { cause: error })
    throw error
  })
  const expiresAt = tokens.expiresIn === null ? null : new Date(deps.now.getTime() + tokens.expiresIn * 1000)
  await storeTokens(deps.sql, connection.id, { access: sealer.seal(tokens.accessToken), refresh: tokens.refreshToken === null ? null : sealer.seal(tokens.refreshToken), expiresAt })
  return tokens.accessToken
}
