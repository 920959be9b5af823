import { spawn } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { createInterface } from 'node:readline'
import * as client from 'openid-client'
import type { Test } from 'tap'
import { OB_SCOPE, OB_SCOPES } from '../src/capabilities/open-badges-api/scopes.js'
import { accessibilityViolations, openBrowser } from './helpers/browser.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'
import { ceBadge } from './helpers/continuing-education.js'
import { generateDidKey, signCredential } from './helpers/did-key-signing.js'
import { startSmtpServer } from './helpers/notifications.js'
import { PLATFORM } from './helpers/open-badges-oauth.js'
import { signInLink } from './helpers/portal.js'
import { testNeeding } from './helpers/system-tools.js'
import { startSecondInstance } from './helpers/second-instance.js'
import { freePort } from '../src/infrastructure/db/embedded.js'

/**
 * The Open Badges API's OAuth flow as a platform and a holder go through it:
 * the platform is openid-client (an independent, certified OAuth client
 * library) with its callback on a loopback port; the holder is a real
 * headless Chromium that signs in with the emailed link (a real SMTP server)
 * and consents. Then a second instance of the service, in a process of its
 * own on the same database, serves the same tokens.
 */

/** The platform's redirect_uri: a loopback page that records what the browser brought back. */
async function startPlatformCallback (t: Test): Promise<{ url: string, arrivals: string[] }> {
  const arrivals: string[] = []
  const server: Server = createServer((req, res) => {
    arrivals.push(req.url ?? '')
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><html lang="en"><head><title>Backpack</title></head><body><main><h1>Connected</h1></main></body></html>')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => { server.closeAllConnections(); server.close(); await once(server, 'close') })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/callback`, arrivals }
}

testNeeding(['chromium'], 'a platform discovers, registers and is authorised with PKCE by a holder in a browser; its tokens refresh, work on a second instance, and stop at revocation', { timeout: 240_000 }, async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const app = await build(t, { env: { SMTP_URL: smtp.url, PUBLIC_BASE_URL: base } })
  const cma = await createAchievement(app, CMA_ACHIEVEMENT)
  await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  await app.app.listen({ port, host: '127.0.0.1' })
  const callback = await startPlatformCallback(t)

  // Discovery: the OB Service Description Document names the OAuth endpoints; they are the authorization server's.
  const discovery = await (await fetch(`${base}/ims/ob/v3p0/discovery`)).json() as { components: { securitySchemes: { OAuth2ACG: { 'x-imssf-registrationUrl': string, flows: { authorizationCode: { authorizationUrl: string, tokenUrl: string, refreshUrl: string, scopes: Record<string, string> } } } } } }
  const acg = discovery.components.securitySchemes.OAuth2ACG
  t.same(Object.keys(acg.flows.authorizationCode.scopes).sort(), [...OB_SCOPES].sort(), 'the four OB scopes')

  // Registration with the independent client (RFC 7591, no initial access token; it discovers the server's metadata first).
  const config = await client.dynamicClientRegistration(new URL(base), { ...PLATFORM, redirect_uris: [callback.url], scope: OB_SCOPES.join(' '), token_endpoint_auth_method: 'client_secret_basic' }, undefined, { execute: [client.allowInsecureRequests] })
  const server = config.serverMetadata()
  t.equal(server.registration_endpoint, acg['x-imssf-registrationUrl'], 'the registration URL of the discovery document')
  t.equal(server.authorization_endpoint, acg.flows.authorizationCode.authorizationUrl)
  t.equal(server.token_endpoint, acg.flows.authorizationCode.tokenUrl)
  t.same(server.code_challenge_methods_supported, ['S256'], 'PKCE S256 only')
  const { client_id: clientId, client_secret: clientSecret } = config.clientMetadata()
  t.type(clientSecret, 'string')

  // Authorisation in the browser: not signed in, so the consent page asks for the emailed link first.
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const authorizationUrl = client.buildAuthorizationUrl(config, { redirect_uri: callback.url, scope: [OB_SCOPE.credentialReadonly, OB_SCOPE.credentialUpsert, OB_SCOPE.profileReadonly].join(' '), state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
  const { page, shots } = await openBrowser(t)
  await page.goto(authorizationUrl.href)
  t.match(await page.locator('h1').textContent(), /My badges/, 'the sign-in form')
  t.match(await page.locator('.notice').textContent(), /Badge Backpack asks to connect to your badges/)
  await page.getByLabel('Email address').fill('jane@example.org')
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click()
  await app.app.background.settled()
  const mail = smtp.messages.find((m) => m.envelopeTo.includes('jane@example.org') && /\/account\/sign-in\?token=/.test(m.text ?? ''))
  const link = new URL(signInLink(mail?.text ?? ''))
  await page.goto(`${base}${link.pathname}${link.search}`)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(/\/account\/connect\/[\w-]+$/)
  t.equal(await page.locator('h1').textContent(), 'Connect Badge Backpack to your badges?', 'back at the consent page, signed in')
  t.same(await page.locator('main li').allTextContents(), ['See your badges from this service and the badges you keep here', 'Add badges from other issuers to the badges you keep here', 'See your name and email address'], 'the scopes in plain words')
  t.same(await accessibilityViolations(page), [], 'axe-core: the consent page')
  await page.screenshot({ path: path.join(shots, 'open-badges-consent.png'), fullPage: true })
  await page.getByRole('button', { name: 'Allow' }).click()
  await page.waitForURL((url) => url.href.startsWith(callback.url))
  const returned = new URL(page.url())
  t.equal(returned.searchParams.get('state'), state)

  const tokens = await client.authorizationCodeGrant(config, returned, { pkceCodeVerifier: verifier, expectedState: state })
  t.equal(tokens.token_type.toLowerCase(), 'bearer')
  t.equal(tokens.expires_in, 3600)
  t.type(tokens.refresh_token, 'string')
  t.equal(tokens.scope?.split(' ').sort().join(' '), [OB_SCOPE.credentialReadonly, OB_SCOPE.credentialUpsert, OB_SCOPE.profileReadonly].sort().join(' '))

  // The platform's calls as any HTTP client makes them (openid-client's own, below, throws on a WWW-Authenticate challenge).
  const api = async (on: string, token: string, method: string, resource: string, body?: string, headers?: Record<string, string>): Promise<Response> =>
    await fetch(`${on}/ims/ob/v3p0${resource}`, { method, ...(body !== undefined ? { body } : {}), headers: { authorization: `Bearer ${token}`, ...headers } })
  const profile = await client.fetchProtectedResource(config, tokens.access_token, new URL(`${base}/ims/ob/v3p0/profile`), 'GET')
  t.equal(profile.status, 200)
  t.equal((await profile.json() as { email?: string }).email, 'jane@example.org')
  const forbidden = await api(base, tokens.access_token, 'PUT', '/profile', JSON.stringify({ type: ['Profile'], name: 'Jane Q. Smith' }), { 'content-type': 'application/json' })
  t.equal(forbidden.status, 403, 'profile.update was not granted')
  t.match(forbidden.headers.get('www-authenticate'), /insufficient_scope/)
  t.match(await forbidden.json(), { imsx_codeMajor: 'failure', imsx_severity: 'error' }, 'an Imsx_StatusInfo')
  const listed = await api(base, tokens.access_token, 'GET', '/credentials?limit=1')
  t.equal(listed.status, 200)
  t.equal(listed.headers.get('x-total-count'), '1')

  // Upsert over HTTP: a course provider's badge for Jane (did:key, hashed email), then the same, then a newer copy.
  const provider = await generateDidKey()
  const courseBadge = async (validFrom: string): Promise<string> => {
    const salt = randomUUID()
    const identifier = [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, salt, identityHash: 'sha256$' + createHash('sha256').update('jane@example.org' + salt).digest('hex') }]
    return JSON.stringify(await signCredential(ceBadge(provider.did, { subject: { identifier }, validFrom, extra: { id: 'urn:uuid:6a1d3d1e-5f0e-4c47-9c7a-2b1f3e0c9d11' } }), provider))
  }
  const json = { 'content-type': 'application/json' }
  const first = await courseBadge('2026-03-01T00:00:00Z')
  t.equal((await api(base, tokens.access_token, 'POST', '/credentials', first, json)).status, 201, 'stored: 201')
  t.equal((await api(base, tokens.access_token, 'POST', '/credentials', first, json)).status, 304, 'the same again: 304')
  const newer = await api(base, tokens.access_token, 'POST', '/credentials', await courseBadge('2026-04-01T00:00:00Z'), json)
  t.equal(newer.status, 200, 'a newer validFrom replaces it: 200')
  const both = await api(base, tokens.access_token, 'GET', '/credentials?limit=1')
  t.equal(both.headers.get('x-total-count'), '2', 'listed with the holder\'s own badge')
  t.match(both.headers.get('link'), /rel="next"/, 'paged: a Link to the next page')

  // A second instance on the same database serves the same tokens: refresh there, then read there.
  const second = await startSecondInstance(t, app, { publicBaseUrl: base })
  const fromSecond = await api(second, tokens.access_token, 'GET', '/profile')
  t.equal(fromSecond.status, 200, 'the access token works on the second instance')
  const secondConfig = new client.Configuration({ issuer: server.issuer, authorization_endpoint: server.authorization_endpoint, token_endpoint: `${second}/oauth/token`, revocation_endpoint: `${second}/oauth/revoke` }, clientId, clientSecret as string)
  client.allowInsecureRequests(secondConfig)
  const refreshed = await client.refreshTokenGrant(secondConfig, tokens.refresh_token ?? '')
  t.not(refreshed.access_token, tokens.access_token)
  t.equal((await api(base, refreshed.access_token, 'GET', '/profile')).status, 200, 'a token the second instance issued works on the first')

  // Revoking the refresh token ends the connection: every token of it fails with 401 on both instances.
  await client.tokenRevocation(secondConfig, refreshed.refresh_token ?? tokens.refresh_token ?? '')
  for (const [on, token] of [[base, tokens.access_token], [base, refreshed.access_token], [second, refreshed.access_token]] as const) {
    const after = await api(on, token, 'GET', '/credentials')
    t.equal(after.status, 401, `after revocation (${on === base ? 'first' : 'second'} instance)`)
  }

  // A code used twice is refused (and, RFC 6749 §4.1.2, what it gave is revoked: here already).
  const reused = await client.authorizationCodeGrant(config, returned, { pkceCodeVerifier: verifier, expectedState: state }).then(() => undefined, (error: { error?: string }) => error)
  t.equal(reused?.error, 'invalid_grant', 'a code used twice is refused')

  // PKCE plain and an unregistered redirect_uri are refused at the authorization endpoint.
  const plain = await fetch(client.buildAuthorizationUrl(config, { redirect_uri: callback.url, scope: OB_SCOPE.credentialReadonly, state, code_challenge: verifier, code_challenge_method: 'plain' }), { redirect: 'manual' })
  t.match(plain.headers.get('location'), /error=invalid_request/, 'plain PKCE: refused back to the platform')
  const elsewhere = await fetch(client.buildAuthorizationUrl(config, { redirect_uri: 'http://127.0.0.1:1/elsewhere', scope: OB_SCOPE.credentialReadonly, state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }), { redirect: 'manual' })
  t.equal(elsewhere.status, 400, 'an unregistered redirect_uri: a page, never a redirect')
  t.equal(callback.arrivals.filter((a) => a.startsWith('/oauth/callback')).length, 1, 'the browser brought the platform one answer: the consented code')

  // The README's tiny client (npm run ob-client) runs the same flow from a terminal; the holder, still signed in, only consents.
  const tiny = spawn(process.execPath, ['--import', 'tsx', 'scripts/open-badges-client.ts', '--host', base, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const steps = new Map<string, Record<string, any>>()
  const stderr: string[] = []
  tiny.stderr.on('data', (chunk: Buffer) => { stderr.push(chunk.toString()) })
  const tinyExited = once(tiny, 'exit')
  t.teardown(() => { tiny.kill() })
  const authorizeStep = await new Promise<Record<string, any>>((resolve, reject) => {
    createInterface({ input: tiny.stdout }).on('line', (line) => {
      const step = JSON.parse(line) as Record<string, any>
      steps.set(String(step.step), step)
      if (step.step === 'authorize') resolve(step)
    })
    tiny.once('exit', (code) => { reject(new Error(`the tiny client exited (${String(code)}) before authorising: ${stderr.join('')}`)) })
  })
  await page.goto(String(authorizeStep.url))
  await page.getByRole('button', { name: 'Allow' }).click()
  const [code] = await tinyExited as [number]
  t.equal(code, 0, `the tiny client finished: ${stderr.join('')}`)
  t.match(steps.get('tokens'), { expiresIn: 3600, refresh: true })
  t.match(steps.get('profile'), { status: 200, profile: { email: 'jane@example.org' } })
  t.match(steps.get('credentials'), { status: 200, total: '2' })
  t.ok((steps.get('credentials')?.names as string[]).includes('CMA (AAMA)'), 'the holder\'s badge among them')
})
