import t from 'tap'
import { OB_SCOPE, OB_SCOPES } from '../../src/capabilities/open-badges-api/scopes.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from '../helpers/build-app.js'
import { startSmtpServer } from '../helpers/notifications.js'
import { basicAuth, connectPlatform, PLATFORM, pkcePair, registerPlatform } from '../helpers/open-badges-oauth.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from '../helpers/portal.js'

/**
 * The Open Badges API's authorization server (oidc-provider) through the
 * app's real routes: registration, PKCE, consent in the portal, tokens,
 * refresh, revocation, withdrawal. The browser and an independent OAuth
 * client are in test/browser-open-badges-api.test.ts.
 */

async function holderApp (t: Parameters<typeof build>[0]) {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { SMTP_URL: smtp.url } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  return { app, smtp }
}

t.test('a platform registers, the holder signs in and consents, and the token stands for the holder and the granted scopes', async (t) => {
  const { app, smtp } = await holderApp(t)
  const platform = await connectPlatform(app, 'jane@example.org', [OB_SCOPE.credentialReadonly, OB_SCOPE.profileReadonly], smtp.messages)
  t.equal(platform.scope.split(' ').sort().join(' '), [OB_SCOPE.credentialReadonly, OB_SCOPE.profileReadonly].sort().join(' '))
  t.ok(platform.refreshToken, 'a refresh token')
  const access = await app.app.authorizationServer.findAccess(platform.accessToken)
  t.equal(access?.holderEmail, 'jane@example.org')
  t.equal(access?.clientId, platform.clientId)
  t.same([...(access?.scopes ?? [])].sort(), [OB_SCOPE.credentialReadonly, OB_SCOPE.profileReadonly].sort())
  t.equal(await app.app.authorizationServer.findAccess('not-a-token'), undefined)

  const refreshed = await app.app.inject({ method: 'POST', url: '/oauth/token', headers: { authorization: basicAuth(platform.clientId, platform.clientSecret), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: platform.refreshToken ?? '' }).toString() })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  const next = refreshed.json<{ access_token: string }>().access_token
  t.equal((await app.app.authorizationServer.findAccess(next))?.holderEmail, 'jane@example.org', 'the refreshed token works')

  const revoked = await app.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { authorization: basicAuth(platform.clientId, platform.clientSecret), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token: next }).toString() })
  t.equal(revoked.statusCode, 200)
  t.equal(await app.app.authorizationServer.findAccess(next), undefined, 'a revoked token stands for nobody')
})

t.test('registration: the 1EdTech fields, https redirect URIs (loopback http for native apps), and its answer', async (t) => {
  const { app } = await holderApp(t)
  const { body } = await registerPlatform(app, OB_SCOPES)
  t.type(body.client_id, 'string')
  t.type(body.client_secret, 'string')
  t.type(body.client_id_issued_at, 'number')
  t.equal(body.client_secret_expires_at, 0, 'the secret does not expire')
  t.equal(body.software_id, PLATFORM.software_id)
  t.equal(body.software_version, PLATFORM.software_version)
  t.equal(body.scope, OB_SCOPES.join(' '))
  const native = await registerPlatform(app, OB_SCOPES, { redirect_uris: ['http://127.0.0.1:8123/callback'] })
  t.type(native.clientId, 'string', 'loopback http is allowed (RFC 8252)')
  for (const [metadata, why] of [
    [{ redirect_uris: ['http://backpack.example/callback'] }, /must use https/],
    [{ redirect_uris: [] }, /redirect_uris/],
    [{ software_id: undefined }, /software_id is required/],
    [{ client_name: undefined }, /client_name is required/],
    [{ logo_uri: 'http://backpack.example/logo.png' }, /logo_uri must be an https URL/],
    [{ scope: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/everything' }, /scope/]
  ] as const) {
    const response = await app.app.inject({ method: 'POST', url: '/oauth/register', payload: { ...PLATFORM, scope: OB_SCOPES.join(' '), ...metadata } })
    t.equal(response.statusCode, 400, JSON.stringify(metadata))
    t.match(response.json<{ error_description: string }>().error_description, why)
  }
})

t.test('PKCE S256 is required (plain and none refused), the redirect_uri must match, and a code works once', async (t) => {
  const { app, smtp } = await holderApp(t)
  const { clientId, clientSecret } = await registerPlatform(app, OB_SCOPES)
  const authorize = async (params: Record<string, string>) => await app.app.inject({ method: 'GET', url: `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: PLATFORM.redirect_uris[0]!, scope: OB_SCOPE.credentialReadonly, state: 's1', ...params }).toString()}` })
  const { verifier, challenge } = pkcePair()
  const none = await authorize({})
  t.match(none.headers.location, /^https:\/\/backpack\.example\/oauth\/callback\?error=invalid_request&error_description=Authorization\+Server\+policy\+requires\+PKCE/, 'no PKCE: refused back to the platform')
  const plain = await authorize({ code_challenge: verifier, code_challenge_method: 'plain' })
  t.match(plain.headers.location, /error=invalid_request/, 'plain: refused')
  const wrongRedirect = await authorize({ code_challenge: challenge, code_challenge_method: 'S256', redirect_uri: 'https://backpack.example/elsewhere' })
  t.equal(wrongRedirect.statusCode, 400, 'a redirect_uri not registered: a page, never a redirect there')
  t.match(wrongRedirect.body, /redirect_uri/)

  const jar = new CookieJar()
  await signIn(app, jar, 'jane@example.org', smtp.messages)
  const start = jar.take(await authorize({ code_challenge: challenge, code_challenge_method: 'S256' }))
  const consentPath = String(start.headers.location)
  t.match(consentPath, /^\/account\/connect\/[\w-]+$/)
  const consent = await getPage(app, jar, consentPath)
  t.match(consent.body, /Connect Badge Backpack to your badges\?/)
  t.match(consent.body, /See your badges from this service/)
  t.match(String(consent.headers['content-security-policy']), /form-action 'self' https:\/\/backpack\.example;/)
  const answer = await postForm(app, jar, consentPath, { _csrf: csrfToken(consent.body), decision: 'allow' })
  const resume = jar.take(await app.app.inject({ method: 'GET', url: String(answer.headers.location).replace(/^http:\/\/localhost(:\d+)?/, ''), headers: jar.header() }))
  const callback = new URL(String(resume.headers.location))
  const code = callback.searchParams.get('code') ?? ''
  const exchange = async (extra: Record<string, string> = {}) => await app.app.inject({ method: 'POST', url: '/oauth/token', headers: { authorization: basicAuth(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: PLATFORM.redirect_uris[0]!, code_verifier: verifier, ...extra }).toString() })
  const wrongVerifier = await exchange({ code_verifier: pkcePair().verifier })
  t.equal(wrongVerifier.statusCode, 400)
  t.equal(wrongVerifier.json<{ error: string }>().error, 'invalid_grant', 'a verifier that does not match the challenge')
})

t.test('denying sends the platform access_denied; withdrawing a connection in the portal ends its tokens', async (t) => {
  const { app, smtp } = await holderApp(t)
  const platform = await connectPlatform(app, 'jane@example.org', [OB_SCOPE.credentialReadonly], smtp.messages)
  const jar = new CookieJar()
  await signIn(app, jar, 'jane@example.org', smtp.messages)
  const page = await getPage(app, jar, '/account/connections')
  t.match(page.body, /Badge Backpack/)
  const grantId = /\/account\/connections\/([\w-]+)\/withdraw/.exec(page.body)?.[1] ?? ''
  const withdrawn = await postForm(app, jar, `/account/connections/${grantId}/withdraw`, { _csrf: csrfToken(page.body) })
  t.equal(withdrawn.statusCode, 200)
  t.match(withdrawn.body, /Badge Backpack is no longer connected/)
  t.equal(await app.app.authorizationServer.findAccess(platform.accessToken), undefined, 'the access token stopped working')
  const refresh = await app.app.inject({ method: 'POST', url: '/oauth/token', headers: { authorization: basicAuth(platform.clientId, platform.clientSecret), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: platform.refreshToken ?? '' }).toString() })
  t.equal(refresh.statusCode, 400, 'and so did the refresh token')

  // Denying: the platform gets access_denied at its redirect_uri, and no token.
  const { clientId } = await registerPlatform(app, [OB_SCOPE.credentialReadonly])
  const { challenge } = pkcePair()
  const start = jar.take(await app.app.inject({ method: 'GET', url: `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: PLATFORM.redirect_uris[0]!, scope: OB_SCOPE.credentialReadonly, state: 'deny-1', code_challenge: challenge, code_challenge_method: 'S256' }).toString()}` }))
  const consentPath = String(start.headers.location)
  const consent = await getPage(app, jar, consentPath)
  const answer = await postForm(app, jar, consentPath, { _csrf: csrfToken(consent.body), decision: 'deny' })
  const back = jar.take(await app.app.inject({ method: 'GET', url: String(answer.headers.location).replace(/^http:\/\/localhost(:\d+)?/, ''), headers: jar.header() }))
  const callback = new URL(String(back.headers.location))
  t.equal(`${callback.origin}${callback.pathname}`, PLATFORM.redirect_uris[0], 'back to the platform')
  t.equal(callback.searchParams.get('error'), 'access_denied')
  t.equal(callback.searchParams.get('state'), 'deny-1')
  t.equal(callback.searchParams.get('code'), null, 'no code')

  const audit = await app.sql`select action from audit_events where action like 'oauth.%' order by occurred_at, id`
  t.same(audit.map((r) => r.action), ['oauth.connection_allowed', 'oauth.connection_withdrawn', 'oauth.connection_denied'])
})
