import type { IncomingMessage, ServerResponse } from 'node:http'
import { createPrivateKey } from 'node:crypto'
import Provider, { errors, type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider'
import type { Sql } from 'postgres'
import { escapeXml as escapeHtml } from '../../infrastructure/web/images.js'
import { serviceSecret } from '../../infrastructure/db/service-secrets.js'
import { consumeOAuthEntry, destroyOAuthEntriesOfGrant, destroyOAuthEntry, findOAuthEntry, findOAuthEntryBy, listGrantsOfAccount, upsertOAuthEntry } from './oauth-store.js'
import { OB_SCOPES, type ObAccess } from './scopes.js'

/** Where the authorization server answers (under the service's own origin), as the discovery document names them. */
export const OAUTH_PATHS = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  registration: '/oauth/register',
  revocation: '/oauth/revoke',
  jwks: '/oauth/jwks',
  introspection: '/oauth/introspect',
  userinfo: '/oauth/userinfo',
  end_session: '/oauth/session/end',
  pushed_authorization_request: '/oauth/par',
  device_authorization: '/oauth/device',
  code_verification: '/oauth/device/verify',
  backchannel_authentication: '/oauth/backchannel',
  challenge: '/oauth/challenge',
  credential: '/oauth/credential'
} as const

/** The holders' consent page, where oidc-provider sends a browser that must sign in or consent. */
export const INTERACTION_PATH = '/account/connect'

/**
 * Token lifetimes (seconds). An access token lasts an hour: a platform that
 * lost it can do little with it, and a refresh is one call. A refresh token
 * lasts 90 days from its last use (a platform that syncs monthly stays
 * connected; one forgotten for a quarter must ask the holder again). A
 * connection (the grant) lasts a year unless the holder withdraws it sooner.
 */
export const TOKEN_LIFETIMES = {
  AccessToken: 3600,
  AuthorizationCode: 60,
  RefreshToken: 90 * 24 * 3600,
  Grant: 365 * 24 * 3600,
  // Long enough to ask for an emailed sign-in link and use it.
  Interaction: 30 * 60,
  Session: 8 * 3600
} as const

/** A platform the holder connected, as the portal lists it. */
export interface Connection {
  grantId: string
  clientId: string
  clientName: string
  clientUri?: string
  logoUri?: string
  scopes: string[]
  connectedAt: Date
  lastTokenAt: Date | null
}

/** What the consent page shows and decides on: the interaction oidc-provider started. */
export interface PendingAuthorization {
  uid: string
  prompt: 'login' | 'consent'
  client: { clientId: string, name: string, clientUri?: string, logoUri?: string, tosUri?: string, policyUri?: string }
  scopes: string[]
  /** Where the platform receives the answer (the consent form's CSP must let the browser be sent there). */
  redirectUri: string
  /** The holder oidc-provider's own session knows, if any (the portal's session decides who consents). */
  accountId?: string
}

/** The OAuth 2.0 authorization server of the Open Badges API (oidc-provider), as the rest of the app sees it. */
export interface AuthorizationServer {
  /** The holder and scopes an access token stands for; undefined when it is unknown, expired or revoked. */
  findAccess: (accessToken: string) => Promise<ObAccess | undefined>
  /** oidc-provider's own request handler (a Koa app), for the routes that mount it. */
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>
  /** The interaction behind the consent page's cookie; undefined when it is unknown or expired. */
  pendingAuthorization: (req: IncomingMessage, res: ServerResponse) => Promise<PendingAuthorization | undefined>
  /** The holder's answer: where the browser goes next (back to oidc-provider, which redirects to the platform). */
  finishAuthorization: (req: IncomingMessage, res: ServerResponse, answer: { holderEmail: string, allow: boolean }) => Promise<string>
  connections: (holderEmail: string) => Promise<Connection[]>
  /** Withdraws a connection: its grant and every token issued under it; false when the holder has no such connection. */
  withdraw: (holderEmail: string, grantId: string) => Promise<boolean>
}

export interface AuthorizationServerOptions {
  sql: Sql
  /** The service's public base URL: the issuer identifier. */
  issuer: string
  /** The Open Badges API's base URL: the one resource tokens are for. */
  resource: string
  /** Honour X-Forwarded-* (TRUST_PROXY), so the endpoints' URLs are the public ones. */
  proxy: boolean
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** Redirect URIs a registration may name: https, or http on a loopback address for native apps (RFC 8252 §7.3). */
export function redirectUriProblem (uri: unknown): string | undefined {
  if (typeof uri !== 'string') return 'must be a string'
  let url: URL
  try { url = new URL(uri) } catch { return `"${uri}" is not an absolute URL` }
  if (url.hash !== '') return `"${uri}" must not have a fragment`
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) return undefined
  return `"${uri}" must use https (or http on a loopback address, for a native app)`
}

/** Metadata a registration must carry (1EdTech OB 3.0 §6.1.1): the platform's name, site and software. */
const REQUIRED_REGISTRATION = ['client_name', 'client_uri', 'software_id', 'software_version'] as const
const HTTPS_REGISTRATION_URIS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const

function validateRegistration (_ctx: KoaContextWithOIDC, key: string, value: unknown, metadata: Record<string, unknown>): void {
  // oidc-provider calls this once per extra property; the whole registration is checked on the first.
  if (key !== 'software_id') return
  for (const field of REQUIRED_REGISTRATION) {
    if (typeof metadata[field] !== 'string' || (metadata[field] as string).trim() === '') throw new errors.InvalidClientMetadata(`${field} is required`)
  }
  for (const field of HTTPS_REGISTRATION_URIS) {
    const uri = metadata[field]
    if (uri !== undefined && (typeof uri !== 'string' || !uri.startsWith('https://'))) throw new errors.InvalidClientMetadata(`${field} must be an https URL`)
  }
  const redirectUris = metadata.redirect_uris
  // RFC 7591 §3.2.2's own error code (oidc-provider's InvalidRedirectUri is the authorization endpoint's, with a fixed text).
  const invalidRedirectUri = (description: string): Error => Object.assign(new errors.InvalidClientMetadata(description), { error: 'invalid_redirect_uri' })
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) throw invalidRedirectUri('redirect_uris is required')
  for (const uri of redirectUris) {
    const problem = redirectUriProblem(uri)
    if (problem !== undefined) throw invalidRedirectUri(`redirect_uris: ${problem}`)
  }
  if (typeof value !== 'string') throw new errors.InvalidClientMetadata('software_id must be a string')
}

/** oidc-provider's models in PostgreSQL (oauth_entries), one adapter instance per model kind. */
function postgresAdapter (sql: Sql): new (kind: string) => Adapter {
  const withConsumed = (entry: { payload: Record<string, unknown>, consumed: boolean } | undefined): AdapterPayload | undefined =>
    entry === undefined ? undefined : { ...entry.payload, ...(entry.consumed ? { consumed: true } : {}) } as AdapterPayload
  return class PostgresAdapter implements Adapter {
    constructor (private readonly kind: string) {}
    async upsert (id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> { await upsertOAuthEntry(sql, this.kind, id, payload as Record<string, unknown>, expiresIn) }
    async find (id: string): Promise<AdapterPayload | undefined> { return withConsumed(await findOAuthEntry(sql, this.kind, id)) }
    async findByUid (uid: string): Promise<AdapterPayload | undefined> { return withConsumed(await findOAuthEntryBy(sql, this.kind, 'uid', uid)) }
    async findByUserCode (userCode: string): Promise<AdapterPayload | undefined> { return withConsumed(await findOAuthEntryBy(sql, this.kind, 'user_code', userCode)) }
    async consume (id: string): Promise<void> { await consumeOAuthEntry(sql, this.kind, id) }
    async destroy (id: string): Promise<void> { await destroyOAuthEntry(sql, this.kind, id) }
    async revokeByGrantId (grantId: string): Promise<void> { await destroyOAuthEntriesOfGrant(sql, grantId) }
  }
}

/** A plain page for the errors oidc-provider shows a browser (a bad redirect_uri cannot be redirected to). */
function renderError (ctx: KoaContextWithOIDC, out: Record<string, unknown>): void {
  ctx.type = 'html'
  const rows = Object.entries(out).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`).join('')
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The connection could not be made</title></head><body><main><h1>The connection could not be made</h1><p>The platform that sent you here asked for something this service cannot give. Nothing was shared. Go back to the platform and try again, or tell its makers what this page says.</p><dl>${rows}</dl></main></body></html>`
}

/**
 * The authorization server, not written here: oidc-provider (a certified
 * OpenID provider and OAuth 2.0 server) with dynamic registration without an
 * initial access token, the authorization code grant with PKCE S256 required
 * for every client (plain is refused by the library), refresh tokens,
 * revocation (RFC 7009), and the four OB scopes on one resource, the API.
 * Its state is in PostgreSQL; its signing key and cookie keys are service
 * secrets (one value for every instance). Holders sign in with the portal's
 * emailed link and consent on the portal's page (INTERACTION_PATH).
 */
export async function openAuthorizationServer (options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const { sql, resource } = options
  const seed = await serviceSecret(sql, 'oauth-signing-key')
  const signingJwk = { ...createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }), alg: 'EdDSA', use: 'sig' }
  const cookieKey = (await serviceSecret(sql, 'oauth-cookies')).toString('base64url')

  const configuration: Configuration = {
    adapter: postgresAdapter(sql),
    clients: [],
    routes: OAUTH_PATHS,
    // The OB scopes are the API's (the resource, below); listed here too, as a registration's `scope` may name only these.
    // No OpenID Connect here: openid would give an ID token with sub alone.
    scopes: ['openid', ...OB_SCOPES],
    claims: { openid: ['sub'] },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    jwks: { keys: [signingJwk as never] },
    cookies: { keys: [cookieKey] },
    pkce: { required: () => true },
    responseTypes: ['code'],
    features: {
      devInteractions: { enabled: false },
      registration: {
        enabled: true,
        initialAccessToken: false,
        // RFC 7591 registration only; no management endpoint, so no registration access token to keep.
        issueRegistrationAccessToken: false
      },
      revocation: { enabled: true },
      introspection: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`the only resource here is ${resource}`)
          return { scope: OB_SCOPES.join(' '), audience: resource, accessTokenFormat: 'opaque', accessTokenTTL: TOKEN_LIFETIMES.AccessToken }
        }
      }
    },
    extraClientMetadata: { properties: ['software_id', 'software_version'], validator: validateRegistration as never },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'EdDSA'
    },
    // A refresh token for every client allowed the grant (OB platforms sync unattended), living past the holder's sign-in.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    allowOmittingSingleRegisteredRedirectUri: false,
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}` },
    ttl: { ...TOKEN_LIFETIMES },
    renderError: async (ctx, out) => { renderError(ctx, out as unknown as Record<string, unknown>) }
  }
  const provider = new Provider(options.issuer, configuration)
  provider.proxy = options.proxy
  const callback = provider.callback()

  const scopesOf = (grantOrToken: { resources?: Record<string, string> } | undefined): string[] =>
    (grantOrToken?.resources?.[resource] ?? '').split(' ').filter((s) => s !== '')

  return {
    findAccess: async (accessToken) => {
      const token = await provider.AccessToken.find(accessToken).catch(() => undefined)
      if (token === undefined || token.isExpired || token.accountId === undefined) return undefined
      if (token.aud !== resource && !(Array.isArray(token.aud) && token.aud.includes(resource))) return undefined
      // A withdrawn connection's tokens are deleted with it; the grant's absence says so too (a token saved in the same instant).
      if (token.grantId === undefined || await provider.Grant.find(token.grantId) === undefined) return undefined
      return { holderEmail: token.accountId, clientId: token.clientId ?? '', scopes: token.scopes }
    },
    handle: async (req, res) => { await callback(req, res) },
    pendingAuthorization: async (req, res) => {
      const details = await provider.interactionDetails(req, res).catch(() => undefined)
      if (details === undefined) return undefined
      const client = await provider.Client.find(String(details.params.client_id))
      if (client === undefined) return undefined
      const requested = String(details.params.scope ?? '').split(' ').filter((s) => OB_SCOPES.includes(s as never))
      const meta = client.metadata() as Record<string, unknown>
      const str = (key: string): string | undefined => typeof meta[key] === 'string' ? meta[key] as string : undefined
      return {
        uid: details.uid,
        prompt: details.prompt.name === 'login' ? 'login' : 'consent',
        client: { clientId: client.clientId, name: client.clientName ?? client.clientId, clientUri: str('client_uri'), logoUri: str('logo_uri'), tosUri: str('tos_uri'), policyUri: str('policy_uri') },
        scopes: requested,
        redirectUri: String(details.params.redirect_uri ?? ''),
        ...(details.session?.accountId !== undefined ? { accountId: details.session.accountId } : {})
      }
    },
    finishAuthorization: async (req, res, answer) => {
      const details = await provider.interactionDetails(req, res)
      if (!answer.allow) {
        return await provider.interactionResult(req, res, { error: 'access_denied', error_description: 'The holder did not allow the connection.' }, { mergeWithLastSubmission: false })
      }
      const clientId = String(details.params.client_id)
      const requested = String(details.params.scope ?? '').split(' ').filter((s) => OB_SCOPES.includes(s as never))
      // The holder consents for themself: an earlier grant is reused only when it is theirs.
      const existing = details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)
      const grant = existing?.accountId === answer.holderEmail ? existing : new provider.Grant({ accountId: answer.holderEmail, clientId })
      // Both halves, since the OB scopes are also listed as the server's (see `scopes`): the consent covers what was asked.
      grant.addOIDCScope(requested)
      grant.addResourceScope(resource, requested)
      const grantId = await grant.save()
      return await provider.interactionResult(req, res, { login: { accountId: answer.holderEmail }, consent: { grantId } }, { mergeWithLastSubmission: false })
    },
    connections: async (holderEmail) => {
      const rows = await listGrantsOfAccount(sql, holderEmail)
      return rows.map((row) => {
        const client = row.client ?? {}
        const str = (key: string): string | undefined => typeof client[key] === 'string' ? client[key] as string : undefined
        return {
          grantId: row.grantId,
          clientId: row.clientId,
          clientName: str('client_name') ?? row.clientId,
          ...(str('client_uri') !== undefined ? { clientUri: str('client_uri') } : {}),
          ...(str('logo_uri') !== undefined ? { logoUri: str('logo_uri') } : {}),
          scopes: scopesOf(row.grant as { resources?: Record<string, string> }),
          connectedAt: row.createdAt,
          lastTokenAt: row.lastUsedAt
        }
      })
    },
    withdraw: async (holderEmail, grantId) => {
      const grant = await provider.Grant.find(grantId)
      if (grant === undefined || grant.accountId !== holderEmail) return false
      await destroyOAuthEntriesOfGrant(sql, grantId)
      await grant.destroy()
      return true
    }
  }
}
