/**
 * Staff single sign-on against a real OpenID Connect provider: oidc-provider
 * listening on a loopback port, with a client registered statically (a
 * secret, the console's redirect URI) and accounts with sub, email,
 * email_verified and name. The console is driven through app.inject; the
 * browser's part at the provider (its redirects, the login and consent
 * forms of its development interactions) through real HTTP with fetch.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LightMyRequestResponse } from 'fastify'
import Provider from 'oidc-provider'
import t, { type Test } from 'tap'
import { disableStaffUser } from '../../src/capabilities/staff-accounts/accounts.js'
import { issuerSubject, outboundFetch } from '../../src/capabilities/staff-accounts/single-sign-on.js'
import { BASE_URL, build, type TestApp } from '../helpers/build-app.js'
import { consoleCsrf, newStaffUser } from '../helpers/console.js'
import { CookieJar, getPage, postForm } from '../helpers/portal.js'

const CLIENT_ID = 'tessera-console'
const CLIENT_SECRET = 'a-long-client-secret-for-the-staff-console-0123456789'

interface Account { email: string, email_verified: boolean, name: string }

/** A real OpenID Connect provider on a loopback port, and the accounts it knows. */
async function startProvider (t: Test, options: { claimsInIdToken?: boolean } = {}): Promise<{ issuer: string, accounts: Map<string, Account>, requests: string[] }> {
  const server: Server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const accounts = new Map<string, Account>()
  const requests: string[] = []
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${BASE_URL}/console/sso/callback`], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: async (_ctx, sub) => {
      const account = accounts.get(sub)
      return account === undefined ? undefined : { accountId: sub, claims: async () => ({ sub, ...account }) }
    },
    cookies: { keys: ['a-cookie-key-for-the-test-provider'] },
    // By default (as OpenID Connect Core 5.4 allows) scope claims are given at userinfo only; many providers also put them in the ID token.
    conformIdTokenClaims: options.claimsInIdToken !== true,
    features: { devInteractions: { enabled: true } }
  })
  const callback = provider.callback()
  server.on('request', (req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`)
    callback(req, res)
  })
  t.teardown(async () => { server.closeAllConnections(); server.close(); await once(server, 'close') })
  return { issuer, accounts, requests }
}

/** The browser's cookies at the provider (a real fetch keeps none). */
class ProviderBrowser {
  readonly cookies = new Map<string, string>()

  async fetch (url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } })
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at)
      const value = pair!.slice(at + 1)
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(set)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  /**
   * Follows the provider's redirects from the authorization URL, signing in
   * as `account` and consenting on its development pages (or cancelling at the
   * login page with `abort`), until it sends the browser back to the console:
   * that callback URL.
   */
  async authorize (authorizationUrl: string, account: string, options: { abort?: boolean } = {}): Promise<string> {
    let url = authorizationUrl
    for (let step = 0; step < 12; step++) {
      if (url.startsWith(BASE_URL)) return url
      const response = await this.fetch(url)
      if (response.status >= 300 && response.status < 400) {
        url = new URL(response.headers.get('location')!, url).href
        continue
      }
      const page = await response.text()
      if (response.status !== 200) throw new Error(`the provider answered ${response.status}: ${page}`)
      const action = new URL(/<form[^>]*action="([^"]+)"/.exec(page)![1]!, url).href
      if (options.abort === true) {
        url = `${action}/abort`
        continue
      }
      const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1]
      const fields: Record<string, string> = prompt === 'login' ? { prompt, login: account, password: 'any' } : { prompt: 'consent' }
      const submitted = await this.fetch(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })
      if (submitted.status !== 303 && submitted.status !== 302) throw new Error(`the provider's ${prompt ?? 'consent'} form answered ${submitted.status}: ${await submitted.text()}`)
      url = new URL(submitted.headers.get('location')!, action).href
    }
    throw new Error('the provider never sent the browser back')
  }
}

/** The sign-in page's single sign-on form, posted: the console's answer (303 to the provider). */
async function startSignOn (app: TestApp, jar: CookieJar, next = '/console'): Promise<LightMyRequestResponse> {
  const page = await getPage(app, jar, `/console/sign-in?next=${encodeURIComponent(next)}`)
  return await postForm(app, jar, '/console/sso/start', { _csrf: consoleCsrf(page.body), next })
}

/** A whole sign-on as a browser makes it: the console's answer to the provider's redirect back. */
async function signOn (app: TestApp, jar: CookieJar, browser: ProviderBrowser, account: string, options: { next?: string, rewrite?: (callback: URL) => void, abort?: boolean } = {}): Promise<LightMyRequestResponse> {
  const started = await startSignOn(app, jar, options.next)
  if (started.statusCode !== 303) throw new Error(`start answered ${started.statusCode}: ${started.body}`)
  const callback = new URL(await browser.authorize(started.headers.location as string, account, options))
  options.rewrite?.(callback)
  return await getPage(app, jar, callback.pathname + callback.search)
}

async function failures (app: TestApp): Promise<Array<{ actor: string, subjectId: string, details: { method: string, reason: string, subject?: string } }>> {
  return await app.sql`select actor, subject_id as "subjectId", details from audit_events where action = 'staff_user.sign_in_failed' order by id`
}

const ssoEnv = (issuer: string): Record<string, string> => ({ STAFF_OIDC_ISSUER: issuer, STAFF_OIDC_CLIENT_ID: CLIENT_ID, STAFF_OIDC_CLIENT_SECRET: CLIENT_SECRET, STAFF_OIDC_NAME: 'AAMA Staff Login', OUTBOUND_ALLOW_LOOPBACK: 'true' })

t.test('a staff user whose provider verified their email signs in, is linked by subject, and is found by it the next time', async (t) => {
  const { issuer, accounts, requests } = await startProvider(t)
  const app = await build(t, { env: ssoEnv(issuer) })
  const { user } = await newStaffUser(app, { email: 'rita@aama.example', name: 'Rita Registrar', role: 'registrar' })
  accounts.set('rita-1234', { email: 'Rita@aama.example', email_verified: true, name: 'Rita R.' })
  const jar = new CookieJar()
  const browser = new ProviderBrowser()

  const page = await getPage(app, jar, '/console/sign-in')
  t.match(page.body, /<form method="post" action="\/console\/sso\/start">/, 'the sign-in page offers single sign-on')
  t.match(page.body, /Sign in with AAMA Staff Login/)

  const started = await startSignOn(app, jar, '/console/credentials')
  t.equal(started.statusCode, 303, started.body)
  const authorization = new URL(started.headers.location as string)
  t.equal(authorization.origin, issuer, 'to the provider')
  t.equal(authorization.searchParams.get('client_id'), CLIENT_ID)
  t.equal(authorization.searchParams.get('redirect_uri'), `${BASE_URL}/console/sso/callback`)
  t.equal(authorization.searchParams.get('response_type'), 'code')
  t.equal(authorization.searchParams.get('scope'), 'openid email profile')
  t.equal(authorization.searchParams.get('code_challenge_method'), 'S256')
  t.match(authorization.searchParams.get('code_challenge'), /^[\w-]{43}$/)
  t.ok(authorization.searchParams.get('state'), 'a state')
  t.ok(authorization.searchParams.get('nonce'), 'a nonce')
  const flowCookie = started.cookies.find((c) => c.name === 'tessera_sso')
  t.ok(flowCookie?.httpOnly, 'the flow cookie is HttpOnly')
  t.equal(flowCookie?.sameSite, 'Lax', 'Lax: the provider sends the browser back with a top-level GET')
  t.equal(flowCookie?.path, '/console/sso')
  t.equal(flowCookie?.maxAge, 600)
  t.notMatch(flowCookie?.value, new RegExp(authorization.searchParams.get('state')!), 'the state is inside the signed value, not in clear beside it')

  const callback = new URL(await browser.authorize(authorization.href, 'rita-1234'))
  const done = await getPage(app, jar, callback.pathname + callback.search)
  t.equal(done.statusCode, 303, done.body)
  t.equal(done.headers.location, '/console/credentials', 'to the page asked for')
  t.ok(done.cookies.some((c) => c.name === 'tessera_sso' && c.value === ''), 'the flow cookie is cleared')
  t.ok(done.cookies.some((c) => c.name === 'tessera_staff'), 'a console session')

  const dashboard = await getPage(app, jar, '/console')
  t.equal(dashboard.statusCode, 200, 'the session works')
  t.match(dashboard.body, /Rita Registrar \(Registrar\)/)

  const [linked] = await app.sql<Array<{ oidcSubject: string }>>`select oidc_subject as "oidcSubject" from staff_users where id = ${user.id}`
  t.equal(linked?.oidcSubject, issuerSubject(issuer, 'rita-1234'), 'the subject is linked, scoped by its issuer')
  t.equal(linked?.oidcSubject, `${issuer}|rita-1234`)
  t.ok(requests.some((r) => r.startsWith('GET /me')), 'the email came from userinfo (this provider keeps it out of the ID token)')

  // The provider's email changes: the subject still finds her (a second sign-in, with the provider's session).
  accounts.set('rita-1234', { email: 'rita.registrar@elsewhere.example', email_verified: true, name: 'Rita R.' })
  const secondJar = new CookieJar()
  const again = await signOn(app, secondJar, browser, 'rita-1234')
  t.equal(again.statusCode, 303, again.body)
  t.equal(again.headers.location, '/console')
  t.equal((await getPage(app, secondJar, '/console')).statusCode, 200, 'signed in again, found by subject')

  const trail = await app.sql<Array<{ actor: string, action: string, details: Record<string, unknown> }>>`
    select actor, action, details from audit_events where subject_type = 'staff_user' and subject_id = ${user.id} and actor <> 'cli' order by id`
  t.same(trail.map((e) => e.action), ['staff_user.single_sign_on_linked', 'staff_user.signed_in', 'staff_user.signed_in'], 'linked once, signed in twice')
  t.ok(trail.every((e) => e.actor === `staff:${user.id}` && e.details.method === 'oidc'), 'each with the staff user as actor and method oidc')
  t.same(await failures(app), [], 'nothing failed')
})

t.test('an unknown person, an unverified email and a cancelled sign-in are refused with a 401 page and audited', async (t) => {
  const { issuer, accounts } = await startProvider(t)
  const app = await build(t, { env: ssoEnv(issuer) })
  const { user } = await newStaffUser(app, { email: 'vera@aama.example', role: 'viewer' })
  accounts.set('stranger', { email: 'stranger@example.com', email_verified: true, name: 'A Stranger' })
  accounts.set('vera-unverified', { email: 'vera@aama.example', email_verified: false, name: 'Vera?' })

  const jar = new CookieJar()
  const stranger = await signOn(app, jar, new ProviderBrowser(), 'stranger')
  t.equal(stranger.statusCode, 401)
  t.match(stranger.headers['content-type'], /text\/html/)
  t.match(stranger.body, /<h1>Single sign-on did not sign you in<\/h1>/)
  t.match(stranger.body, /There is no staff account for you/)
  t.notOk(stranger.cookies.some((c) => c.name === 'tessera_staff'), 'no session')
  t.equal((await getPage(app, jar, '/console')).statusCode, 303, 'still signed out')

  const unverified = await signOn(app, new CookieJar(), new ProviderBrowser(), 'vera-unverified')
  t.equal(unverified.statusCode, 401, 'a matching email the provider has not verified links nothing')
  const [vera] = await app.sql<Array<{ oidcSubject: string | null }>>`select oidc_subject as "oidcSubject" from staff_users where id = ${user.id}`
  t.equal(vera?.oidcSubject, null)

  const cancelled = await signOn(app, new CookieJar(), new ProviderBrowser(), 'stranger', { abort: true })
  t.equal(cancelled.statusCode, 401, 'the provider answered with an error')
  t.match(cancelled.body, /did not sign you in/)

  t.same((await failures(app)).map((f) => ({ actor: f.actor, subjectId: f.subjectId, method: f.details.method, reason: f.details.reason, subject: f.details.subject })), [
    { actor: 'anonymous', subjectId: 'unknown', method: 'oidc', reason: 'no staff user with this email', subject: `${issuer}|stranger` },
    { actor: 'anonymous', subjectId: 'unknown', method: 'oidc', reason: 'unknown subject, email missing or not verified', subject: `${issuer}|vera-unverified` },
    { actor: 'anonymous', subjectId: 'unknown', method: 'oidc', reason: 'provider answered access_denied', subject: undefined }
  ])
})

t.test('a tampered state, a callback without the flow cookie and a replayed callback are refused', async (t) => {
  const { issuer, accounts } = await startProvider(t)
  const app = await build(t, { env: ssoEnv(issuer) })
  await newStaffUser(app, { email: 'rita@aama.example', role: 'registrar' })
  accounts.set('rita', { email: 'rita@aama.example', email_verified: true, name: 'Rita' })
  const browser = new ProviderBrowser()

  const jar = new CookieJar()
  const tampered = await signOn(app, jar, browser, 'rita', { rewrite: (url) => { url.searchParams.set('state', 'an-attackers-state') } })
  t.equal(tampered.statusCode, 401)
  t.match(tampered.body, /answer was not accepted/)
  t.equal((await getPage(app, jar, '/console')).statusCode, 303, 'not signed in')

  // Another browser (no flow cookie) handed a genuine callback URL, then the original browser replaying it.
  const started = await startSignOn(app, jar)
  const callback = new URL(await browser.authorize(started.headers.location as string, 'rita'))
  const elsewhere = await getPage(app, new CookieJar(), callback.pathname + callback.search)
  t.equal(elsewhere.statusCode, 401, 'a callback this browser did not start')
  const own = await getPage(app, jar, callback.pathname + callback.search)
  t.equal(own.statusCode, 303, 'the browser that started it signs in')
  const replayed = await getPage(app, jar, callback.pathname + callback.search)
  t.equal(replayed.statusCode, 401, 'the flow cookie is used once')

  t.same((await failures(app)).map((f) => f.details.reason), [
    'state mismatch',
    'no sign-on in progress (flow cookie missing, altered or expired)',
    'no sign-on in progress (flow cookie missing, altered or expired)'
  ])
})

t.test('a disabled staff user is refused, though linked', async (t) => {
  const { issuer, accounts } = await startProvider(t)
  const app = await build(t, { env: ssoEnv(issuer) })
  const { user } = await newStaffUser(app, { email: 'dora@aama.example', role: 'registrar' })
  accounts.set('dora', { email: 'dora@aama.example', email_verified: true, name: 'Dora' })
  const browser = new ProviderBrowser()
  t.equal((await signOn(app, new CookieJar(), browser, 'dora')).statusCode, 303, 'linked and signed in once')

  await disableStaffUser({ sql: app.sql, actor: 'cli', now: app.app.clock(), baseUrl: app.config.publicBaseUrl }, user.id)
  const jar = new CookieJar()
  const refused = await signOn(app, jar, browser, 'dora')
  t.equal(refused.statusCode, 401)
  t.match(refused.body, /Your staff account is disabled/)
  t.equal((await getPage(app, jar, '/console')).statusCode, 303, 'no session')
  const [failure] = await failures(app)
  t.same({ actor: failure?.actor, subjectId: failure?.subjectId, reason: failure?.details.reason }, { actor: `staff:${user.id}`, subjectId: user.id, reason: 'user disabled' })
})

t.test('a provider that puts the verified email in the ID token links without userinfo', async (t) => {
  const { issuer, accounts, requests } = await startProvider(t, { claimsInIdToken: true })
  const app = await build(t, { env: ssoEnv(issuer) })
  const { user } = await newStaffUser(app, { email: 'ida@aama.example', role: 'viewer' })
  accounts.set('ida', { email: 'ida@aama.example', email_verified: true, name: 'Ida' })
  const jar = new CookieJar()
  const done = await signOn(app, jar, new ProviderBrowser(), 'ida')
  t.equal(done.statusCode, 303, done.body)
  t.equal((await getPage(app, jar, '/console')).statusCode, 200)
  t.notOk(requests.some((r) => r.startsWith('GET /me')), 'no userinfo request')
  const [linked] = await app.sql<Array<{ oidcSubject: string }>>`select oidc_subject as "oidcSubject" from staff_users where id = ${user.id}`
  t.equal(linked?.oidcSubject, `${issuer}|ida`)
})

t.test('a code the token endpoint refuses (a wrong client secret) signs nobody in', async (t) => {
  const { issuer, accounts } = await startProvider(t)
  const app = await build(t, { env: { ...ssoEnv(issuer), STAFF_OIDC_CLIENT_SECRET: 'not-the-registered-secret' } })
  await newStaffUser(app, { email: 'rita@aama.example', role: 'registrar' })
  accounts.set('rita', { email: 'rita@aama.example', email_verified: true, name: 'Rita' })
  const jar = new CookieJar()
  const refused = await signOn(app, jar, new ProviderBrowser(), 'rita')
  t.equal(refused.statusCode, 401)
  t.equal((await getPage(app, jar, '/console')).statusCode, 303, 'no session')
  t.same((await failures(app)).map((f) => f.details.reason), ['token endpoint answered invalid_client'])
})

t.test('without STAFF_OIDC_* the sign-in page has no single sign-on and its routes answer 404', async (t) => {
  const app = await build(t)
  const jar = new CookieJar()
  const page = await getPage(app, jar, '/console/sign-in')
  t.notMatch(page.body, /sso\/start/, 'no single sign-on button')
  const start = await postForm(app, jar, '/console/sso/start', { _csrf: consoleCsrf(page.body), next: '/console' })
  t.equal(start.statusCode, 404)
  t.match(start.body, /Single sign-on is not set up on this service/)
  const callback = await getPage(app, jar, '/console/sso/callback?code=x&state=y')
  t.equal(callback.statusCode, 404)
})

t.test('the provider is reached only through the outbound rules', async (t) => {
  const { issuer, requests } = await startProvider(t)
  // As in production: no OUTBOUND_ALLOW_LOOPBACK.
  const { OUTBOUND_ALLOW_LOOPBACK: _, ...env } = ssoEnv(issuer)
  const app = await build(t, { env })
  const jar = new CookieJar()
  const start = await startSignOn(app, jar)
  t.equal(start.statusCode, 503)
  t.match(start.body, /AAMA Staff Login could not be reached/)
  t.same(requests, [], 'the loopback provider was never asked')

  const fetchAsProduction = outboundFetch(false)
  const init = { method: 'GET', headers: {}, body: undefined, redirect: 'manual' as const, signal: AbortSignal.timeout(5000) }
  await t.rejects(fetchAsProduction(`https://127.0.0.1:${new URL(issuer).port}/.well-known/openid-configuration`, init), { name: 'OutboundRefused', reason: 'private-address' }, 'a private address over https is refused')
  await t.rejects(fetchAsProduction('https://10.0.0.1/.well-known/openid-configuration', init), { name: 'OutboundRefused', reason: 'private-address' })
  t.same(requests, [])
  const answer = await outboundFetch(true)(`${issuer}/.well-known/openid-configuration`, init)
  t.equal(answer.status, 200, 'under the development switch, the loopback provider answers')
  t.equal((await answer.json() as { issuer: string }).issuer, issuer)
})
