import { createHash, randomBytes } from 'node:crypto'
import type { Db } from '../../infrastructure/db/types.js'
import { AppError } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import { recordAuditEvent } from '../audit/store.js'
import { OB_SCOPE } from '../open-badges-api/scopes.js'
import type { HostClient } from './host-client.js'
import { tokenSealer, stateHash } from './sealed.js'
import { claimPendingByState, insertConnection, storeTokens, type ConnectionRow } from './store.js'

/**
 * Connecting this service to another Open Badges 3.0 Host as a Service
 * Consumer (OB 3.0 API, section 6): discovery, dynamic registration, then the
 * Authorization Code grant with PKCE S256 and a state, completed when the
 * browser comes back to our callback. A connection belongs to the issuer
 * (made by staff) or to a holder (their email; made in the portal).
 */

/** What this service asks a Host for: to store badges, and to read back what it stored. */
export const CONSUMER_SCOPES = [OB_SCOPE.credentialUpsert, OB_SCOPE.credentialReadonly] as const

/** How long a started connection may wait for the consent at the Host before its answer is refused. */
export const PENDING_MINUTES = 30

/** Where a Host sends the browser back, per owner kind (registered as the only redirect_uri). */
export const CALLBACK_PATHS = { issuer: '/ob-hosts/callback', holder: '/account/send/callback' } as const

export interface ConsumerDeps {
  sql: Db
  hosts: HostClient
  now: Date
  /** PUBLIC_BASE_URL, without a trailing slash. */
  baseUrl: string
  issuerName: string
  /** ISSUER_URL: the body's own website, named as client_uri when PUBLIC_BASE_URL is not https (development). */
  issuerUrl?: string
  softwareVersion: string
  actor: string
  requestId?: string
}

const b64url = (bytes: Buffer): string => bytes.toString('base64url')

/** The discovery URL as given, or the Host's base URL with the OB discovery path added. */
export function discoveryUrlOf (given: string): URL {
  if (!URL.canParse(given)) throw new AppError('validation_failed', `"discoveryUrl" must be an absolute URL, got "${given.slice(0, 200)}".`)
  const url = new URL(given)
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') throw new AppError('validation_failed', '"discoveryUrl" must not carry a query, a fragment or credentials.')
  if (!/\/discovery\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/ims/ob/v3p0/discovery`
  return url
}

/**
 * Discovers and registers at the Host, stores the pending connection (PKCE
 * verifier sealed, state hashed) and gives the URL to send the browser to.
 */
export async function beginConnection (deps: ConsumerDeps, input: { discoveryUrl: string, owner: 'issuer' | { holderEmail: string }, credentialId?: string }): Promise<{ connection: ConnectionRow, authorizationUrl: string }> {
  const discoveryUrl = discoveryUrlOf(input.discoveryUrl)
  const endpoints = await deps.hosts.discover(discoveryUrl)
  const redirectUri = deps.baseUrl + (input.owner === 'issuer' ? CALLBACK_PATHS.issuer : CALLBACK_PATHS.holder)
  const scope = CONSUMER_SCOPES.join(' ')
  const registered = await deps.hosts.register(endpoints.registrationUrl, {
    client_name: deps.issuerName,
    // Hosts require an https client_uri (RFC 7591 leaves it to them; this service's own Host does).
    client_uri: deps.baseUrl.startsWith('https://') ? deps.baseUrl : deps.issuerUrl ?? deps.baseUrl,
    software_id: 'tessera',
    software_version: deps.softwareVersion,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope
  })
  const sealer = await tokenSealer(deps.sql)
  const state = b64url(randomBytes(32))
  const verifier = b64url(randomBytes(48))
  const connection: ConnectionRow = {
    id: newId(),
    owner: input.owner === 'issuer' ? 'issuer' : input.owner.holderEmail,
    hostUrl: new URL(endpoints.apiUrl).origin,
    discoveryUrl: discoveryUrl.href,
    hostName: endpoints.hostName,
    registrationUrl: endpoints.registrationUrl,
    authorizationUrl: endpoints.authorizationUrl,
    tokenUrl: endpoints.tokenUrl,
    refreshUrl: endpoints.refreshUrl,
    revocationUrl: endpoints.revocationUrl,
    apiUrl: endpoints.apiUrl,
    clientId: registered.clientId,
    clientSecretSealed: registered.clientSecret === null ? null : sealer.seal(registered.clientSecret),
    scopes: scope,
    verifierSealed: sealer.seal(verifier),
    pendingCredentialId: input.credentialId ?? null,
    accessTokenSealed: null,
    refreshTokenSealed: null,
    accessExpiresAt: null,
    createdAt: deps.now,
    createdBy: deps.actor,
    connectedAt: null
  }
  await insertConnection(deps.sql, { ...connection, stateHash: stateHash(state) })
  await recordAuditEvent(deps.sql, {
    actor: deps.actor,
    action: 'ob_host.registered',
    subjectType: 'ob_host_connection',
    subjectId: connection.id,
    ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
    after: { owner: input.owner === 'issuer' ? 'issuer' : 'holder', hostUrl: connection.hostUrl, clientId: connection.clientId }
  })
  const url = new URL(endpoints.authorizationUrl)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: registered.clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256'
  }).toString()
  return { connection, authorizationUrl: url.href }
}

/**
 * The browser is back from the Host: the state (single use) names the pending
 * connection; the code is exchanged with the PKCE verifier, the tokens sealed.
 * `owner` is who must have started it (the issuer's callback takes only the
 * issuer's connections; the portal's only the signed-in holder's).
 */
export async function completeConnection (deps: Omit<ConsumerDeps, 'issuerName' | 'softwareVersion' | 'actor'>, query: { code?: string, state?: string, error?: string, error_description?: string }, owner: 'issuer' | { holderEmail: string }): Promise<ConnectionRow> {
  if (query.state === undefined || query.state === '') throw new AppError('validation_failed', 'The Host\'s answer has no "state": this page is reached only from a Host\'s consent page.')
  const connection = await claimPendingByState(deps.sql, stateHash(query.state))
  const ownerValue = owner === 'issuer' ? 'issuer' : owner.holderEmail
  if (connection === undefined || connection.owner !== ownerValue || connection.verifierSealed === null) throw new AppError('validation_failed', 'This connection was not started here, or its answer was already used. Start again.')
  if (deps.now.getTime() - connection.createdAt.getTime() > PENDING_MINUTES * 60_000) throw new AppError('validation_failed', `This connection was started more than ${PENDING_MINUTES} minutes ago. Start again.`)
  if (query.error !== undefined) throw new AppError('client_error', `The Host did not connect (${query.error_description ?? query.error}).`)
  if (query.code === undefined || query.code === '') throw new AppError('validation_failed', 'The Host\'s answer has no "code".')
  const sealer = await tokenSealer(deps.sql)
  const redirectUri = deps.baseUrl + (owner === 'issuer' ? CALLBACK_PATHS.issuer : CALLBACK_PATHS.holder)
  const client = { id: connection.clientId, secret: connection.clientSecretSealed === null ? null : sealer.open(connection.clientSecretSealed) }
  const tokens = await deps.hosts.token(connection.tokenUrl, client, { grant_type: 'authorization_code', code: query.code, redirect_uri: redirectUri, code_verifier: sealer.open(connection.verifierSealed) })
  const expiresAt = tokens.expiresIn === null ? null : new Date(deps.now.getTime() + tokens.expiresIn * 1000)
  await storeTokens(deps.sql, connection.id, { access: sealer.seal(tokens.accessToken), refresh: tokens.refreshToken === null ? null : sealer.seal(tokens.refreshToken), expiresAt, ...(tokens.scope !== null ? { scopes: tokens.scope } : {}) }, deps.now)
  await recordAuditEvent(deps.sql, {
    // The callback is public: the connection is the act of whoever started it.
    actor: connection.createdBy,
    action: 'ob_host.connected',
    subjectType: 'ob_host_connection',
    subjectId: connection.id,
    ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
    details: { hostUrl: connection.hostUrl, scopes: tokens.scope ?? connection.scopes }
  })
  return { ...connection, connectedAt: deps.now, accessExpiresAt: expiresAt }
}
