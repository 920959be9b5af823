import { isFetchableScheme, outboundRequest, OutboundRefused, type OutboundAnswer } from '../../infrastructure/outbound/outbound.js'
import { AppError } from '../../kernel/errors.js'
import { isObject, type JsonObject } from '../../kernel/json.js'

/**
 * The HTTP side of the Service Consumer: what this service asks of another
 * Open Badges 3.0 Host, every request through the one outbound client
 * (https only, or loopback http under OUTBOUND_ALLOW_LOOPBACK; resolved
 * addresses checked and pinned; no redirect followed; a deadline and a size cap).
 */

const TIMEOUT_MS = 10_000
const MAX_BYTES = 1024 * 1024

/** What a Host's Service Description Document says about where to go. */
export interface HostEndpoints {
  hostName: string | null
  apiUrl: string
  registrationUrl: string
  authorizationUrl: string
  tokenUrl: string
  refreshUrl: string | null
  /** Not in the discovery document's profile: taken from the authorization server's metadata when it publishes one. */
  revocationUrl: string | null
}

export interface HostTokens { accessToken: string, refreshToken: string | null, expiresIn: number | null, scope: string | null }

export class HostClient {
  constructor (private readonly allowLoopback: boolean) {}

  /** One outbound exchange; an unreachable or refused Host is a 503 naming it. */
  async send (url: URL, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<OutboundAnswer> {
    if (!isFetchableScheme(url, this.allowLoopback)) throw new AppError('validation_failed', `"${url.href}" is not an https URL; Hosts are reached over https only.`)
    try {
      return await outboundRequest({ url, method, headers: { 'user-agent': 'Tessera', ...headers }, ...(body !== undefined ? { body } : {}), timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES, tooLarge: 'refuse', allowLoopback: this.allowLoopback })
    } catch (error) {
      const why = error instanceof OutboundRefused ? error.reason.replace('-', ' ') : 'no answer'
      throw new AppError('service_unavailable', `The Host at ${url.host} could not be reached (${why}).`, {}, { cause: error })
    }
  }

  /** GET the Service Description Document and read the OAuth2ACG security scheme (OB 3.0 API, section 6.2). */
  async discover (discoveryUrl: URL): Promise<HostEndpoints> {
    const answer = await this.send(discoveryUrl, 'GET', { accept: 'application/json' })
    const document = answer.status === 200 ? parseJson(answer.body) : undefined
    const notDiscovery = (why: string): AppError => new AppError('validation_failed', `"discoveryUrl" did not give an Open Badges 3.0 Service Description Document (${why}).`)
    if (document === undefined) throw notDiscovery(answer.status === 200 ? 'not JSON' : `HTTP ${answer.status}`)
    const acg = path(document, ['components', 'securitySchemes', 'OAuth2ACG'])
    const flow = path(acg, ['flows', 'authorizationCode'])
    const registrationUrl = urlIn(acg, 'x-imssf-registrationUrl', discoveryUrl)
    const authorizationUrl = urlIn(flow, 'authorizationUrl', discoveryUrl)
    const tokenUrl = urlIn(flow, 'tokenUrl', discoveryUrl)
    if (registrationUrl === undefined || authorizationUrl === undefined || tokenUrl === undefined) throw notDiscovery('"components.securitySchemes.OAuth2ACG" needs "x-imssf-registrationUrl" and "flows.authorizationCode" with "authorizationUrl" and "tokenUrl"')
    const servers = isObject(document) && Array.isArray(document.servers) ? document.servers : []
    const server = servers.find((s): s is JsonObject => isObject(s) && typeof s.url === 'string')
    // The resources live under the server URL; without one, where the discovery document is.
    const apiUrl = (server !== undefined ? new URL(String(server.url), discoveryUrl).href : discoveryUrl.href.replace(/\/discovery\/?$/, '')).replace(/\/+$/, '')
    const title = path(document, ['info', 'title'])
    return {
      hostName: typeof title === 'string' ? title.slice(0, 500) : null,
      apiUrl,
      registrationUrl,
      authorizationUrl,
      tokenUrl,
      refreshUrl: urlIn(flow, 'refreshUrl', discoveryUrl) ?? null,
      revocationUrl: await this.revocationEndpoint(new URL(authorizationUrl))
    }
  }

  /** RFC 8414 metadata at the authorization server's origin, if it has one: only its revocation endpoint is read. */
  private async revocationEndpoint (authorizationUrl: URL): Promise<string | null> {
    for (const where of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const answer = await this.send(new URL(where, authorizationUrl.origin), 'GET', { accept: 'application/json' }).catch(() => undefined)
      const metadata = answer?.status === 200 ? parseJson(answer.body) : undefined
      const url = urlIn(metadata, 'revocation_endpoint', authorizationUrl)
      if (url !== undefined) return url
    }
    return null
  }

  /** RFC 7591 registration without an initial access token; the Host's client_id and client_secret. */
  async register (registrationUrl: string, metadata: Record<string, unknown>): Promise<{ clientId: string, clientSecret: string | null }> {
    const answer = await this.send(new URL(registrationUrl), 'POST', { 'content-type': 'application/json', accept: 'application/json' }, JSON.stringify(metadata))
    const body = parseJson(answer.body)
    if (answer.status !== 201 && answer.status !== 200) throw hostRefused('registration', answer.status, body)
    if (!isObject(body) || typeof body.client_id !== 'string') throw hostRefused('registration', answer.status, { error_description: 'the answer has no "client_id"' })
    return { clientId: body.client_id, clientSecret: typeof body.client_secret === 'string' ? body.client_secret : null }
  }

  /** The token endpoint, client authenticated with HTTP Basic (RFC 6749 section 2.3.1). */
  async token (tokenUrl: string, client: { id: string, secret: string | null }, params: Record<string, string>): Promise<HostTokens> {
    const basic = Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret ?? '')}`).toString('base64')
    const answer = await this.send(new URL(tokenUrl), 'POST', { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` }, new URLSearchParams(params).toString())
    const body = parseJson(answer.body)
    if (answer.status !== 200) throw hostRefused('token', answer.status, body)
    if (!isObject(body) || typeof body.access_token !== 'string') throw hostRefused('token', answer.status, { error_description: 'the answer has no "access_token"' })
    return {
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : null,
      expiresIn: typeof body.expires_in === 'number' ? body.expires_in : null,
      scope: typeof body.scope === 'string' ? body.scope : null
    }
  }

  /** RFC 7009 revocation; best effort, so its answer is not examined. */
  async revoke (revocationUrl: string, client: { id: string, secret: string | null }, token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    const basic = Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret ?? '')}`).toString('base64')
    await this.send(new URL(revocationUrl), 'POST', { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` }, new URLSearchParams({ token, token_type_hint: hint }).toString())
  }

  /** POST /credentials with a bearer token: the Host's status and its Imsx_StatusInfo description, if any. */
  async postCredential (apiUrl: string, accessToken: string, document: string): Promise<{ status: number, description: string | null }> {
    const answer = await this.send(new URL(`${apiUrl}/credentials`), 'POST', { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${accessToken}` }, document)
    return { status: answer.status, description: imsxDescription(parseJson(answer.body)) }
  }
}

function parseJson (body: Buffer): unknown {
  try { return JSON.parse(body.toString('utf8')) } catch { return undefined }
}

function path (value: unknown, keys: readonly string[]): unknown {
  let at = value
  for (const key of keys) at = isObject(at) ? at[key] : undefined
  return at
}

function urlIn (value: unknown, key: string, base: URL): string | undefined {
  const raw = isObject(value) ? value[key] : undefined
  if (typeof raw !== 'string' || !URL.canParse(raw, base)) return undefined
  return new URL(raw, base).href
}

/** The Host's own words: an Imsx_StatusInfo's description, or an OAuth error's. */
export function imsxDescription (body: unknown): string | null {
  if (!isObject(body)) return null
  for (const key of ['imsx_description', 'error_description', 'error']) {
    const value = body[key]
    if (typeof value === 'string' && value !== '') return value.slice(0, 1000)
  }
  return null
}

function hostRefused (step: 'registration' | 'token', status: number, body: unknown): AppError {
  const words = imsxDescription(body)
  return new AppError('client_error', `The Host refused the ${step} (HTTP ${status}${words !== null ? `: ${words}` : ''}).`)
}
