import * as oidc from 'openid-client'
import type { Sql } from 'postgres'
import { isFetchableScheme, outboundRequest, OutboundRefused } from '../../infrastructure/outbound/outbound.js'
import { AppError } from '../../kernel/errors.js'
import { recordAuditEvent } from '../audit/store.js'
import { staffActor } from './accounts.js'
import { findStaffUserByEmail, findStaffUserBySubject, updateStaffUser, type StaffUserRow } from './store.js'

/**
 * Staff single sign-on with the body's OpenID Connect provider, through
 * openid-client (Authorization Code with PKCE S256, state and nonce; the
 * library checks the ID token's signature, iss, aud, exp and nonce). Sign-on
 * never creates a staff user: it finds one by the provider's subject, or, on
 * the first sign-in, by an email the provider says it verified, and links the
 * subject. Every request to the provider goes through the service's outbound
 * rules (outboundRequest): a provider whose name resolves to a private
 * address is refused, as any other outbound call.
 */

export interface SingleSignOnSettings { name: string, issuer: string, clientId: string, clientSecret: string }

/** What the browser keeps between the start and the callback (in a signed, HttpOnly cookie). */
export interface SingleSignOnFlow { state: string, nonce: string, verifier: string, next: string, startedAt: number }

/** How long a started sign-on may take at the provider. */
export const FLOW_MINUTES = 10
/** How long the provider's discovered metadata (endpoints, keys' location) is kept before it is asked again. */
export const DISCOVERY_MINUTES = 60
const SCOPE = 'openid email profile'
const TIMEOUT_MS = 10_000
const MAX_BYTES = 1024 * 1024

export interface SingleSignOnDeps { sql: Sql, now: Date, requestId?: string }

/**
 * The staff user's subject as stored in staff_users.oidc_subject: the
 * issuer and the provider's `sub`, joined by "|", since a `sub` is unique
 * only within its issuer (OpenID Connect Core 5.7); another provider
 * configured later cannot sign in as someone linked to this one.
 */
export const issuerSubject = (issuer: string, sub: string): string => `${issuer}|${sub}`

/**
 * openid-client's requests, sent by outboundRequest: https only (http to a
 * loopback name under OUTBOUND_ALLOW_LOOPBACK), every resolved address
 * checked and pinned, no redirect followed, a deadline and a size cap.
 */
export function outboundFetch (allowLoopback: boolean): oidc.CustomFetch {
  return async (resource, options) => {
    const url = new URL(resource)
    if (!isFetchableScheme(url, allowLoopback)) throw new OutboundRefused('private-address', url.hostname)
    const method = options.method.toUpperCase()
    if (method !== 'GET' && method !== 'POST') throw new TypeError(`single sign-on does not send ${method} requests`)
    const body = options.body
    let text: string | undefined
    if (body === undefined || body === null) text = undefined
    else if (typeof body === 'string') text = body
    else if (body instanceof URLSearchParams) text = body.toString()
    else if (body instanceof Uint8Array || body instanceof ArrayBuffer) text = Buffer.from(body as Uint8Array).toString('utf8')
    else throw new TypeError('single sign-on does not stream request bodies')
    const answer = await outboundRequest({ url, method, headers: options.headers, ...(text !== undefined ? { body: text } : {}), timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES, tooLarge: 'refuse', allowLoopback })
    const headers = new Headers()
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v)
    }
    const empty = answer.status === 204 || answer.status === 304 || (answer.status >= 100 && answer.status < 200)
    return new Response(empty ? null : new Uint8Array(answer.body), { status: answer.status, headers })
  }
}

/**
 * One per app: the provider's settings and its discovered configuration,
 * kept for DISCOVERY_MINUTES (the clock is the caller's).
 */
export class SingleSignOn {
  private discovered: { configuration: oidc.Configuration, until: number } | undefined

  constructor (readonly settings: SingleSignOnSettings, private readonly options: { baseUrl: string, allowLoopback: boolean }) {}

  /** Where the provider sends the browser back; register it at the provider. */
  get redirectUri (): string { return `${this.options.baseUrl}/console/sso/callback` }

  private async configuration (now: Date): Promise<oidc.Configuration> {
    if (this.discovered !== undefined && this.discovered.until > now.getTime()) return this.discovered.configuration
    const issuer = new URL(this.settings.issuer)
    const configuration = await oidc.discovery(issuer, this.settings.clientId, undefined, oidc.ClientSecretBasic(this.settings.clientSecret), {
      [oidc.customFetch]: outboundFetch(this.options.allowLoopback),
      timeout: TIMEOUT_MS / 1000,
      // http only reaches this far for a loopback issuer under OUTBOUND_ALLOW_LOOPBACK (outboundFetch refuses the rest).
      ...(issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {})
    }).catch((error: unknown) => {
      throw new AppError('service_unavailable', `${this.settings.name} could not be reached to sign you in. Try again later, or sign in with a passkey.`, {}, { cause: error })
    })
    this.discovered = { configuration, until: now.getTime() + DISCOVERY_MINUTES * 60_000 }
    return configuration
  }

  /** Starts a sign-on: the provider's authorization URL, and what the callback must find in the browser's cookie. */
  async begin (now: Date, next: string): Promise<{ url: string, flow: SingleSignOnFlow }> {
    const configuration = await this.configuration(now)
    const flow: SingleSignOnFlow = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), next, startedAt: now.getTime() }
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce
    })
    return { url: url.href, flow }
  }

  /**
   * Finishes a sign-on from the provider's redirect back (`query`, the
   * callback's query string): the code exchanged with the PKCE verifier, the
   * ID token checked, then the staff user found (and linked on a first
   * sign-in). Any failure is audited (`staff_user.sign_in_failed`, method
   * oidc, with a reason) and refused with `single_sign_on_refused`.
   */
  async complete (deps: SingleSignOnDeps, query: string, flow: SingleSignOnFlow | undefined): Promise<StaffUserRow> {
    const failed = async (reason: string, message: string, extra: { staffUserId?: string, subject?: string } = {}): Promise<never> => {
      await recordAuditEvent(deps.sql, {
        actor: extra.staffUserId === undefined ? 'anonymous' : staffActor(extra.staffUserId),
        action: 'staff_user.sign_in_failed',
        subjectType: 'staff_user',
        subjectId: extra.staffUserId ?? 'unknown',
        ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
        details: { method: 'oidc', reason, ...(extra.subject !== undefined ? { subject: extra.subject } : {}) }
      })
      throw new AppError('single_sign_on_refused', message)
    }
    const again = 'Go back to the sign-in page and try again, or sign in with a passkey.'
    // The cookie's Max-Age is the browser's to keep; the start time inside its signature is ours.
    if (flow === undefined || deps.now.getTime() - flow.startedAt > FLOW_MINUTES * 60_000) return await failed('no sign-on in progress (flow cookie missing, altered or expired)', `This sign-in was not started here, or took longer than ${FLOW_MINUTES} minutes. ${again}`)
    const configuration = await this.configuration(deps.now)
    const callback = new URL(this.redirectUri)
    callback.search = query
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true })
    } catch (error) {
      if (error instanceof oidc.AuthorizationResponseError) return await failed(`provider answered ${error.error}`, `${this.settings.name} did not sign you in (${error.error_description ?? error.error}). ${again}`)
      // The token endpoint refused the exchange (a used or expired code, a wrong client secret).
      if (error instanceof oidc.ResponseBodyError) return await failed(`token endpoint answered ${error.error}`, `${this.settings.name}'s answer was not accepted. ${again}`)
      if (error instanceof oidc.WWWAuthenticateChallengeError) return await failed(`token endpoint answered ${error.cause[0]?.parameters.error ?? error.status}`, `${this.settings.name}'s answer was not accepted. ${again}`)
      // openid-client wraps oauth4webapi's error ("invalid response encountered"), whose message says which check failed.
      const reason = describe(error)
      return await failed(/"state"/.test(reason) ? 'state mismatch' : `response refused: ${reason}`, `${this.settings.name}'s answer was not accepted. ${again}`)
    }
    const claims = tokens.claims()
    if (claims === undefined) return await failed('no ID token', `${this.settings.name}'s answer was not accepted. ${again}`)
    const issuer = configuration.serverMetadata().issuer
    const subject = issuerSubject(issuer, claims.sub)
    const bySubject = await findStaffUserBySubject(deps.sql, subject)
    if (bySubject !== undefined) {
      if (bySubject.disabledAt !== null) return await failed('user disabled', 'Your staff account is disabled. Ask an administrator.', { staffUserId: bySubject.id, subject })
      return bySubject
    }
    // A first sign-in: the email, only if the provider verified it. Providers that keep
    // scope claims out of the ID token (as OpenID Connect Core 5.4 allows) give them at
    // userinfo, whose answer openid-client checks is about the same subject.
    let email = claims.email
    let verified = claims.email_verified
    if (typeof email !== 'string' && tokens.access_token !== undefined) {
      let info: oidc.UserInfoResponse
      try {
        info = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub)
      } catch (error) {
        return await failed(`userinfo refused: ${describe(error)}`, `${this.settings.name}'s answer was not accepted. ${again}`, { subject })
      }
      email = info.email
      verified = info.email_verified
    }
    if (typeof email !== 'string' || verified !== true) return await failed('unknown subject, email missing or not verified', 'No staff account is linked to you, and your email is not one the provider has verified. Ask an administrator.', { subject })
    const byEmail = await findStaffUserByEmail(deps.sql, email)
    if (byEmail === undefined) return await failed('no staff user with this email', 'There is no staff account for you: staff accounts are created by an administrator.', { subject })
    if (byEmail.disabledAt !== null) return await failed('user disabled', 'Your staff account is disabled. Ask an administrator.', { staffUserId: byEmail.id, subject })
    if (byEmail.oidcSubject !== null) return await failed('email already linked to another subject', 'Your staff account is linked to another single sign-on identity. Ask an administrator.', { staffUserId: byEmail.id, subject })
    return await deps.sql.begin(async (tx) => {
      const linked = await updateStaffUser(tx, byEmail.id, { oidcSubject: subject })
      await recordAuditEvent(tx, { actor: staffActor(byEmail.id), action: 'staff_user.single_sign_on_linked', subjectType: 'staff_user', subjectId: byEmail.id, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), details: { method: 'oidc', subject } })
      return linked!
    }) as StaffUserRow
  }
}

/** An error and its causes' messages, for the audit trail. */
function describe (error: unknown): string {
  const messages: string[] = []
  for (let e: unknown = error; e instanceof Error && messages.length < 3; e = e.cause) messages.push(e.message)
  return messages.length === 0 ? String(error) : messages.join(': ')
}

/** The flow as the cookie carries it (its signature is the cookie's; this only reads it back). */
export const encodeFlow = (flow: SingleSignOnFlow): string => Buffer.from(JSON.stringify(flow), 'utf8').toString('base64url')

export function decodeFlow (value: string): SingleSignOnFlow | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Record<string, unknown>
    const { state, nonce, verifier, next, startedAt } = parsed
    return typeof state === 'string' && typeof nonce === 'string' && typeof verifier === 'string' && typeof next === 'string' && typeof startedAt === 'number' ? { state, nonce, verifier, next, startedAt } : undefined
  } catch {
    return undefined
  }
}
