import { createHash, randomBytes } from 'node:crypto'
import type { TestApp } from './build-app.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from './portal.js'

export const PLATFORM = {
  client_name: 'Badge Backpack',
  client_uri: 'https://backpack.example',
  logo_uri: 'https://backpack.example/logo.png',
  tos_uri: 'https://backpack.example/terms',
  policy_uri: 'https://backpack.example/privacy',
  software_id: 'c9a2b9f4-backpack',
  software_version: '1.4.0',
  redirect_uris: ['https://backpack.example/oauth/callback']
}

export interface ConnectedPlatform { accessToken: string, refreshToken?: string, clientId: string, clientSecret: string, scope: string }

export const basicAuth = (clientId: string, clientSecret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`

/** Registers a platform (RFC 7591, no initial access token) asking for `scopes`. */
export async function registerPlatform (t: TestApp, scopes: readonly string[], metadata: Record<string, unknown> = {}): Promise<{ clientId: string, clientSecret: string, body: Record<string, unknown> }> {
  const response = await t.app.inject({ method: 'POST', url: '/oauth/register', payload: { ...PLATFORM, scope: scopes.join(' '), ...metadata } })
  const body = response.json<Record<string, unknown>>()
  if (response.statusCode !== 201) throw new Error(`registration failed: ${response.statusCode} ${response.body}`)
  return { clientId: String(body.client_id), clientSecret: String(body.client_secret), body }
}

/** The PKCE pair (RFC 7636, S256). */
export function pkcePair (): { verifier: string, challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** Follows same-app redirects (303/302) with the jar's cookies until one leaves the app; returns that Location. */
export async function followToPlatform (t: TestApp, jar: CookieJar, location: string): Promise<string> {
  let url = location
  for (let step = 0; step < 8; step++) {
    if (/^https?:\/\//.test(url) && !url.startsWith('http://localhost')) return url
    const path = url.replace(/^http:\/\/localhost(:\d+)?/, '')
    const response = jar.take(await t.app.inject({ method: 'GET', url: path, headers: { ...jar.header() } }))
    const next = response.headers.location
    if (typeof next !== 'string') throw new Error(`no redirect from ${path}: ${response.statusCode} ${response.body.slice(0, 400)}`)
    url = next
  }
  throw new Error('too many redirects')
}

/**
 * The whole OAuth 2.0 flow a platform and a holder go through, over app.inject
 * (real oidc-provider, real PostgreSQL, the portal's real emailed sign-in):
 * registration, authorization with PKCE S256, sign-in, consent, token.
 */
export async function connectPlatform (t: TestApp, holderEmail: string, scopes: readonly string[], messages: Array<{ text?: string, envelopeTo: string[] }>): Promise<ConnectedPlatform> {
  const { clientId, clientSecret } = await registerPlatform(t, scopes)
  const jar = new CookieJar()
  await signIn(t, jar, holderEmail, messages)
  const { verifier, challenge } = pkcePair()
  const state = randomBytes(8).toString('hex')
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: PLATFORM.redirect_uris[0]!, scope: scopes.join(' '), state, code_challenge: challenge, code_challenge_method: 'S256' })
  const authorize = jar.take(await t.app.inject({ method: 'GET', url: `/oauth/authorize?${query.toString()}` }))
  const consentUrl = authorize.headers.location
  if (typeof consentUrl !== 'string') throw new Error(`authorize did not redirect: ${authorize.statusCode} ${authorize.body.slice(0, 400)}`)
  const consent = await getPage(t, jar, consentUrl.replace(/^http:\/\/localhost(:\d+)?/, ''))
  if (consent.statusCode !== 200) throw new Error(`consent page: ${consent.statusCode} ${consent.body.slice(0, 400)}`)
  const answer = await postForm(t, jar, consentUrl.replace(/^http:\/\/localhost(:\d+)?/, ''), { _csrf: csrfToken(consent.body), decision: 'allow' })
  const callback = new URL(await followToPlatform(t, jar, String(answer.headers.location)))
  if (callback.searchParams.get('state') !== state) throw new Error(`state not returned: ${callback.href}`)
  const code = callback.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${callback.href}`)
  const token = await t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { authorization: basicAuth(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: PLATFORM.redirect_uris[0]!, code_verifier: verifier }).toString()
  })
  if (token.statusCode !== 200) throw new Error(`token: ${token.statusCode} ${token.body}`)
  const body = token.json<{ access_token: string, refresh_token?: string, scope: string }>()
  return { accessToken: body.access_token, ...(body.refresh_token !== undefined ? { refreshToken: body.refresh_token } : {}), clientId, clientSecret, scope: body.scope }
}
