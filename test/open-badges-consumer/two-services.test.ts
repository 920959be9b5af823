import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LightMyRequestResponse } from 'fastify'
import { test, type Test } from 'tap'
import { BASE_URL, build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { tokenSealer } from '../../src/capabilities/open-badges-consumer/sealed.js'
import { startSmtpServer } from '../helpers/notifications.js'
import { standInHosts } from '../helpers/stand-in-hosts.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from '../helpers/portal.js'

/**
 * The Service Consumer against a real Host: two instances of this service, two
 * organisations on two databases, both listening on loopback. A (the
 * consumer) connects its issuer to B (the Host): discovery, registration,
 * the holder's sign-in and consent at B, the code exchanged at A's callback;
 * then A pushes its credential into the holder's portfolio at B (B listens on
 * loopback; A's outbound client reaches it under OUTBOUND_ALLOW_LOOPBACK), and
 * B's own verifier judges it by fetching A's issuer, key and status list over
 * https from a stand-in for A's public name.
 */

type Issued = Awaited<ReturnType<typeof issue>>

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** Follows B's own redirects (the jar keeps B's cookies) until one leaves B; returns that URL. */
async function followAt (host: TestApp, base: string, jar: CookieJar, location: string): Promise<string> {
  let url = new URL(location, base).href
  for (let step = 0; step < 8; step++) {
    if (!url.startsWith(`${base}/`)) return url
    const response = jar.take(await host.app.inject({ method: 'GET', url: url.slice(base.length), headers: { accept: 'text/html', host: new URL(base).host, ...jar.header() } }))
    const next = response.headers.location
    if (typeof next !== 'string') return url
    url = new URL(next, base).href
  }
  throw new Error('too many redirects')
}

/** The holder at B: already signed in (the jar), allows the consent A's authorization URL leads to; the URL B sends the browser back to. */
async function consentAt (host: TestApp, base: string, jar: CookieJar, authorizationUrl: string): Promise<string> {
  const consentUrl = await followAt(host, base, jar, authorizationUrl)
  // followAt stops at the consent page (it does not redirect): post the form on it.
  const path = new URL(consentUrl).pathname
  const consent = await getPage(host, jar, path, { host: new URL(base).host })
  if (consent.statusCode !== 200) throw new Error(`consent page: ${consent.statusCode} ${consent.body.slice(0, 300)}`)
  const answer: LightMyRequestResponse = await postForm(host, jar, path, { _csrf: csrfToken(consent.body), decision: 'allow' }, { host: new URL(base).host })
  return await followAt(host, base, jar, String(answer.headers.location))
}

/** A (consumer, at its public name) and B (Host, listening on loopback), Jane holding a badge at each, Bob one at A. */
async function twoServices (t: Test): Promise<{ a: TestApp, b: TestApp, baseA: string, baseB: string, smtp: Awaited<ReturnType<typeof startSmtpServer>>, janes: Issued, bobs: Issued }> {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const portB = await freePort()
  // A keeps its public name (its credentials name it, and B folds every loopback name into its own):
  // B's verifier reaches A's issuer, key and status list through a TLS stand-in for that name.
  const baseA = BASE_URL
  const baseB = `http://127.0.0.1:${portB}`
  const standIn = await standInHosts(t, [new URL(baseA).hostname])
  const a = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', SMTP_URL: smtp.url } })
  const b = await build(t, { env: { PUBLIC_BASE_URL: baseB, OUTBOUND_ALLOW_LOOPBACK: 'true', SMTP_URL: smtp.url, ISSUER_NAME: 'Backpack Organisation', ISSUER_URL: 'https://backpack.example' }, outboundForTests: standIn.outboundForTests })
  await b.app.listen({ port: portB, host: '127.0.0.1' })

  // B signs in only holders of its own badges: Jane holds one there too.
  await issue(b, { achievementId: (await createAchievement(b, { ...CMA_ACHIEVEMENT, name: 'Backpack member' })).id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const cma = await createAchievement(a, CMA_ACHIEVEMENT)
  const janes = await issue(a, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const bobs = await issue(a, { achievementId: cma.id, recipient: { name: 'Bob Builder', email: 'bob@example.org' } })
  for (const credential of [janes.credential, bobs.credential]) {
    const proofs = credential.proof as Array<{ verificationMethod: string }>
    for (const url of [credential.issuer.id, ...proofs.map((p) => p.verificationMethod), credential.credentialStatus.statusListCredential] as string[]) {
      const path = new URL(url).pathname
      const document = await a.app.inject({ method: 'GET', url: path, headers: { accept: 'application/ld+json, application/json' } })
      if (document.statusCode !== 200) throw new Error(`A did not serve ${path}: ${document.statusCode}`)
      standIn.serve(`${baseA}${path}`, document.json())
    }
  }

  return { a, b, baseA, baseB, smtp, janes, bobs }
}

test('the issuer connects to another Host and pushes a holder\'s credential there: created, unchanged, refreshed, refused', { timeout: 120_000 }, async (t) => {
  const { a, b, baseA, baseB, smtp, janes, bobs } = await twoServices(t)

  // Connect: discovery and registration at B, from A's staff API.
  const connect = await a.app.inject({ method: 'POST', url: '/api/v1/ob-hosts', headers: a.auth, payload: { discoveryUrl: baseB } })
  t.equal(connect.statusCode, 201, connect.body)
  const { id, authorizationUrl, connection } = connect.json<{ id: string, authorizationUrl: string, connection: Record<string, unknown> }>()
  t.match(connection, { state: 'pending', hostUrl: baseB, discoveryUrl: `${baseB}/ims/ob/v3p0/discovery` })
  const authorize = new URL(authorizationUrl)
  t.equal(authorize.origin, baseB)
  t.equal(authorize.searchParams.get('code_challenge_method'), 'S256')
  t.equal(authorize.searchParams.get('redirect_uri'), `${baseA}/ob-hosts/callback`)
  t.match(authorize.searchParams.get('state'), /^[A-Za-z0-9_-]{43}$/)
  const [client] = await b.sql<Array<{ payload: Record<string, any> }>>`select payload from oauth_entries where kind = 'Client' and id = ${authorize.searchParams.get('client_id')}`
  t.match(client?.payload, { client_name: 'American Association of Medical Assistants', client_uri: baseA, software_id: 'tessera', redirect_uris: [`${baseA}/ob-hosts/callback`] }, 'A registered at B (RFC 7591), visible in B\'s oauth_entries')

  // Before consent, a push is refused: not connected yet.
  const early = await a.app.inject({ method: 'POST', url: `/api/v1/ob-hosts/${id}/push`, headers: a.auth, payload: { credentialId: janes.id } })
  t.equal(early.statusCode, 409)
  t.match(early.headers['content-type'], /^application\/problem\+json/)

  // A connection whose consent comes back too late is refused (its state is then spent).
  const stale = (await a.app.inject({ method: 'POST', url: '/api/v1/ob-hosts', headers: a.auth, payload: { discoveryUrl: `${baseB}/ims/ob/v3p0/discovery` } })).json<{ id: string, authorizationUrl: string }>()
  await a.sql`update ob_host_connections set created_at = created_at - interval '31 minutes' where id = ${stale.id}`
  const late = await a.app.inject({ method: 'GET', url: `/ob-hosts/callback?code=anything&state=${new URL(stale.authorizationUrl).searchParams.get('state') ?? ''}` })
  t.equal(late.statusCode, 400)
  t.match(late.body, /more than 30 minutes ago/)
  t.equal((await a.app.inject({ method: 'DELETE', url: `/api/v1/ob-hosts/${stale.id}`, headers: a.auth })).statusCode, 204, 'a pending connection is deleted like any other')

  // Consent at B by the holder, then the browser comes back to A's callback.
  const jar = new CookieJar()
  await signIn(b, jar, 'jane@example.org', smtp.messages)
  const back = new URL(await consentAt(b, baseB, jar, authorizationUrl))
  t.equal(`${back.origin}${back.pathname}`, `${baseA}/ob-hosts/callback`, 'B sends the browser back to A')
  // The browser at A (A's public name is not listening here: the same request, injected).
  const callback = await a.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` })
  t.equal(callback.statusCode, 200, callback.body)
  t.match(callback.body, /<h1>Connected<\/h1>/)
  const again = await a.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` })
  t.equal(again.statusCode, 400, 'the state works once')

  const listed = await a.app.inject({ method: 'GET', url: '/api/v1/ob-hosts', headers: a.auth })
  t.equal(listed.statusCode, 200)
  t.match(listed.json(), { items: [{ id, state: 'connected', scopes: ['https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert', 'https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly'] }] })
  t.notMatch(listed.body, /token|secret|verifier/i, 'no token or secret in the list')

  // Push: B verifies A's credential (fetching A's issuer and keys) and stores it for Jane.
  const push = await a.app.inject({ method: 'POST', url: `/api/v1/ob-hosts/${id}/push`, headers: a.auth, payload: { credentialId: janes.id } })
  t.equal(push.statusCode, 200, push.body)
  t.same(push.json(), { status: 'created', hostStatus: 201, credentialId: janes.id, version: 1 })
  const [stored] = await b.sql<Array<{ credentialId: string, holderEmail: string, verificationStatus: string }>>`select credential_id as "credentialId", holder_email as "holderEmail", verification_status as "verificationStatus" from portfolio_credentials`
  t.match(stored, { credentialId: janes.url, holderEmail: 'jane@example.org' }, 'in Jane\'s portfolio at B')

  const pushAgain = await a.app.inject({ method: 'POST', url: `/api/v1/ob-hosts/${id}/push`, headers: a.auth, payload: { credentialId: janes.id } })
  t.same(pushAgain.json(), { status: 'unchanged', hostStatus: 304, credentialId: janes.id, version: 1 }, 'the same credential again: 304 at B')

  // Nothing in clear in A's table.
  const [sealed] = await a.sql<Array<{ access: Buffer, refresh: Buffer, secret: Buffer, row: string }>>`select access_token_sealed as access, refresh_token_sealed as refresh, client_secret_sealed as secret, c::text as row from ob_host_connections c where id = ${id}`
  const tokens = await b.sql<Array<{ id: string }>>`select id from oauth_entries where kind in ('AccessToken', 'RefreshToken')`
  t.ok(tokens.length >= 2)
  for (const token of tokens) t.notOk(sealed?.row.includes(token.id) ?? true, 'no token of B in clear in A\'s row')
  t.ok(sealed !== undefined && sealed.access.length > 28 && sealed.refresh.length > 28 && sealed.secret.length > 28, 'sealed values (iv, tag, ciphertext)')
  t.notOk(sealed?.row.includes(String(client?.payload.client_secret)), 'the client secret is not in clear')

  // An expired access token is refreshed before the push.
  await a.sql`update ob_host_connections set access_expires_at = now() - interval '1 hour' where id = ${id}`
  const accessBefore = sealed?.access.toString('hex')
  const refreshed = await a.app.inject({ method: 'POST', url: `/api/v1/ob-hosts/${id}/push`, headers: a.auth, payload: { credentialId: janes.id } })
  t.same(refreshed.json(), { status: 'unchanged', hostStatus: 304, credentialId: janes.id, version: 1 })
  const [after] = await a.sql<Array<{ access: Buffer, expires: Date }>>`select access_token_sealed as access, access_expires_at as expires from ob_host_connections where id = ${id}`
  t.not(after?.access.toString('hex'), accessBefore, 'a new access token')
  t.ok((after?.expires.getTime() ?? 0) > Date.now(), 'that expires in the future')

  // B refuses a credential not addressed to Jane: a clear problem quoting B.
  const refused = await a.app.inject({ method: 'POST', url: `/api/v1/ob-hosts/${id}/push`, headers: a.auth, payload: { credentialId: bobs.id } })
  t.equal(refused.statusCode, 400)
  t.match(refused.headers['content-type'], /^application\/problem\+json/)
  t.match(refused.json(), { type: 'urn:tessera:problem:client_error', detail: /refused the credential \(HTTP 400: The credential is not addressed to the signed-in holder/ })

  // The Host ends the grant (B revokes the whole grant with its access token): the push meets a 401, the one refresh is refused, and the problem says to connect again.
  const sealer = await tokenSealer(a.sql)
  const [row] = await a.sql<Array<{ access: Buffer, secret: Buffer, clientId: string }>>`select access_token_sealed as access, client_secret_sealed as secret, client_id as "clientId" from ob_host_connections where id = ${id}`
  if (row === undefined) throw new Error('no connection row')
  const revoke = await fetch(`${baseB}/oauth/revoke`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${row.clientId}:${sealer.open(row.secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: sealer.open(row.access), token_type_hint: 'access_token' }).toString() })
  t.equal(revoke.status, 200)
  const afterRevoke = await a.app.inject({ method: 'POST', url: `/api/v1/ob-hosts/${id}/push`, headers: a.auth, payload: { credentialId: janes.id } })
  t.equal(afterRevoke.statusCode, 409)
  t.match(afterRevoke.json(), { type: 'urn:tessera:problem:conflict', detail: /no longer accepts this connection .*connect again/ })

  // Every push is on record and audited.
  const pushes = await a.sql<Array<{ outcome: string, hostStatus: number }>>`select outcome, host_status as "hostStatus" from ob_host_pushes order by id`
  t.same(pushes.map((p) => `${p.outcome} ${p.hostStatus}`), ['created 201', 'unchanged 304', 'unchanged 304', 'refused 400'])
  const audit = await a.sql<Array<{ action: string }>>`select action from audit_events where action like 'ob_host.%' or action like 'credential.push%' order by occurred_at, action`
  t.same(audit.map((e) => e.action).sort(), ['credential.push_refused', 'credential.pushed', 'credential.pushed', 'credential.pushed', 'ob_host.connected', 'ob_host.disconnected', 'ob_host.registered', 'ob_host.registered'].sort())

  // Unknown ids and bad input: problems, never 500.
  t.equal((await a.app.inject({ method: 'POST', url: '/api/v1/ob-hosts/no-such_id/push', headers: a.auth, payload: { credentialId: janes.id } })).statusCode, 404)
  t.equal((await a.app.inject({ method: 'POST', url: '/api/v1/ob-hosts', headers: a.auth, payload: { discoveryUrl: 'not a url at all' } })).statusCode, 400)
  t.equal((await a.app.inject({ method: 'POST', url: '/api/v1/ob-hosts', headers: a.auth, payload: { discoveryUrl: 'https://10.0.0.1/ims/ob/v3p0/discovery' } })).statusCode, 503, 'a private address is not reached')

  // Disconnect: deleted at A (revocation at the Host, best effort, is shown by the holder's one-off send below, whose grant is still live).
  const removed = await a.app.inject({ method: 'DELETE', url: `/api/v1/ob-hosts/${id}`, headers: a.auth })
  t.equal(removed.statusCode, 204)
  t.same((await a.app.inject({ method: 'GET', url: '/api/v1/ob-hosts', headers: a.auth })).json(), { items: [] })
  const [live] = await b.sql<Array<{ count: number }>>`select count(*)::int as count from oauth_entries where kind = 'RefreshToken' and (payload->>'consumed') is null`
  t.equal(live?.count, 0, 'B no longer holds a live refresh token of the connection')
})

test('a holder sends a badge to a platform they name: consent there, the badge sent once, nothing of theirs kept here', { timeout: 120_000 }, async (t) => {
  const { a, b, baseA, baseB, smtp, janes } = await twoServices(t)
  const jarA = new CookieJar()
  await signIn(a, jarA, 'jane@example.org', smtp.messages)
  const sendPath = `/account/badges/${janes.id}/send`
  const form = await getPage(a, jarA, sendPath)
  t.equal(form.statusCode, 200)
  t.match(form.body, /Send your badge to another platform/)
  t.match(form.body, /CMA \(AAMA\)/)

  // Not a platform: the form again, saying why, never a 500.
  const wrong = await postForm(a, jarA, sendPath, { _csrf: csrfToken(form.body), host: 'https://10.0.0.1' })
  t.equal(wrong.statusCode, 503)
  t.match(wrong.body, /could not be reached/)
  const garbage = await postForm(a, jarA, sendPath, { _csrf: csrfToken(form.body), host: 'nonsense' })
  t.equal(garbage.statusCode, 400)
  t.match(garbage.body, /not an Open Badges 3.0 platform/)

  const start = await postForm(a, jarA, sendPath, { _csrf: csrfToken(form.body), host: baseB })
  t.equal(start.statusCode, 303, start.body)
  const authorizationUrl = String(start.headers.location)
  t.ok(authorizationUrl.startsWith(`${baseB}/oauth/authorize?`), 'to the platform')
  t.equal(new URL(authorizationUrl).searchParams.get('redirect_uri'), `${baseA}/account/send/callback`)

  const jarB = new CookieJar()
  await signIn(b, jarB, 'jane@example.org', smtp.messages)
  const back = new URL(await consentAt(b, baseB, jarB, authorizationUrl))
  t.equal(`${back.origin}${back.pathname}`, `${baseA}/account/send/callback`)

  // Another session (or nobody) cannot use the answer: the callback needs the holder signed in.
  const signedOut = await a.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` })
  t.equal(signedOut.statusCode, 303)

  const done = await getPage(a, jarA, `${back.pathname}${back.search}`)
  t.equal(done.statusCode, 200, done.body)
  t.match(done.body, /Your badge was sent/)
  t.match(done.body, /added it to your account there \(it answered HTTP 201\)/)
  const stored = await b.sql<Array<{ credentialId: string }>>`select credential_id as "credentialId" from portfolio_credentials where holder_email = 'jane@example.org'`
  t.same(stored.map((r) => r.credentialId), [janes.url], 'in Jane\'s portfolio at B')

  // One-off: the connection is revoked at B and gone from A; the push is audited as the holder's.
  t.same(await a.sql`select id from ob_host_connections`, [])
  const [live] = await b.sql<Array<{ count: number }>>`select count(*)::int as count from oauth_entries where kind = 'RefreshToken' and (payload->>'consumed') is null`
  t.equal(live?.count, 0, 'no live refresh token of it at B')
  const audit = await a.sql<Array<{ actor: string }>>`select actor from audit_events where action = 'credential.pushed'`
  t.same(audit.map((e) => e.actor), ['holder'])

  // The same answer again: nothing is sent twice.
  const replay = await getPage(a, jarA, `${back.pathname}${back.search}`)
  t.equal(replay.statusCode, 400)
  t.match(replay.body, /was not sent/)

  // Someone else's badge: not found.
  const other = await issue(a, { achievementId: janes.credential.credentialSubject.achievement.id.split('/').pop(), recipient: { name: 'Bob', email: 'bob2@example.org' } }).catch(() => undefined)
  if (other !== undefined) t.equal((await getPage(a, jarA, `/account/badges/${other.id}/send`)).statusCode, 404)
})
