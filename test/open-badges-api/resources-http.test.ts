import { createHash, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { OB_SCOPE, OB_SCOPES } from '../../src/capabilities/open-badges-api/scopes.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import { BASE_URL, build, createAchievement, issue } from '../helpers/build-app.js'
import { ceBadge } from '../helpers/continuing-education.js'
import { generateDidKey, signCredential } from '../helpers/did-key-signing.js'
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { createDocumentLoader } from '../../src/infrastructure/jsonld/document-loader.js'
import { assertIndependentlyValid } from '../helpers/independent-checks.js'
import { startSmtpServer } from '../helpers/notifications.js'
import { connectPlatform } from '../helpers/open-badges-oauth.js'

/**
 * The Open Badges 3.0 API's resources over HTTP with real access tokens (the
 * real OAuth flow: registration, PKCE, the holder's emailed sign-in, consent,
 * token): the holder's credentials paged with X-Total-Count and Link, each
 * verifying; the upsert's 201, 200 and 304; the profile; scopes enforced per
 * endpoint; every refusal an Imsx_StatusInfo.
 */

type Json = Record<string, any>
const NOW = new Date('2026-12-04T12:00:00Z')
const API = '/ims/ob/v3p0'
const HOLDER = 'jane@example.org'

const smtp = await startSmtpServer()
t.teardown(smtp.close)
const app = await build(t, { clock: () => NOW, env: { SMTP_URL: smtp.url } })
// Every answer of the API in this file, held to what its route declares (the contract test's tour cannot hold a token).
const answered: Array<{ route: string, method: string, status: number, type: string }> = []
app.app.addHook('onResponse', async (request, reply) => {
  if (request.routeOptions.url?.startsWith(API) === true) answered.push({ route: request.routeOptions.url, method: request.method, status: reply.statusCode, type: String(reply.getHeader('content-type') ?? '').split(';')[0]!.trim() })
})

await app.app.ready()
const issued: Array<Awaited<ReturnType<typeof issue>>> = []
for (const name of ['CMA (AAMA)', 'Phlebotomy', 'EKG']) {
  const achievement = await createAchievement(app, { name, description: `${name}.`, criteria: { narrative: `Passed ${name}.` } })
  issued.push(await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: HOLDER } }))
}
const platform = await connectPlatform(app, HOLDER, OB_SCOPES, smtp.messages)
const bearer = { authorization: `Bearer ${platform.accessToken}` }

const key = await generateDidKey()
/** A course provider's badge for the holder (hashed, salted email), signed for real. */
const foreignBadge = async (o: { id?: string, validFrom?: string, email?: string } = {}): Promise<Json> => {
  const salt = randomUUID()
  const identifier = [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, salt, identityHash: 'sha256$' + createHash('sha256').update((o.email ?? HOLDER) + salt).digest('hex') }]
  return await signCredential(ceBadge(key.did, { subject: { identifier }, ...(o.validFrom !== undefined ? { validFrom: o.validFrom } : {}), extra: o.id !== undefined ? { id: o.id } : {} }), key)
}

/**
 * did:key resolved by hand (the key is in the identifier itself), for
 * @digitalbazaar/vc: an outside verifier's view of a stored badge, not ours.
 */
const didKeyLoader = createDocumentLoader(async (url) => {
  const [did, fragment] = url.split('#')
  if (did === undefined || !did.startsWith('did:key:z')) return undefined
  const multibase = did.slice('did:key:'.length)
  const method = { '@context': 'https://w3id.org/security/multikey/v1', id: `${did}#${multibase}`, type: 'Multikey', controller: did, publicKeyMultibase: multibase }
  if (fragment !== undefined) return fragment === multibase ? method : undefined
  return { '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'], id: did, verificationMethod: [method], assertionMethod: [method.id] }
})

const imsx = (t: Test, response: { statusCode: number, headers: Record<string, unknown>, json: () => any }, status: number, minor: string): any => {
  t.equal(response.statusCode, status)
  t.match(String(response.headers['content-type']), /^application\/json/)
  const body = response.json()
  t.equal(body.imsx_codeMajor, 'failure')
  t.equal(body.imsx_severity, 'error')
  t.equal(body.imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue, minor)
  return body
}

const post = async (payload: string, contentType = 'application/json', headers: Record<string, string> = bearer) =>
  await app.app.inject({ method: 'POST', url: `${API}/credentials`, headers: { ...headers, 'content-type': contentType }, payload })

t.test('POST /credentials: a badge from another issuer is created (201, the body as posted), the same copy is 304, a newer validFrom replaces it (200)', async (t) => {
  const id = `urn:uuid:${randomUUID()}`
  const first = JSON.stringify(await foreignBadge({ id, validFrom: '2026-03-01T00:00:00Z' }), null, 2)
  const created = await post(first)
  t.equal(created.statusCode, 201, created.body)
  t.equal(created.body, first, 'the credential as posted, byte for byte')
  const again = await post(first)
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  const newer = JSON.stringify(await foreignBadge({ id, validFrom: '2026-05-01T00:00:00Z' }))
  const replaced = await post(newer)
  t.equal(replaced.statusCode, 200)
  t.equal(replaced.body, newer)
  t.equal((await post(JSON.stringify(await foreignBadge({ id, validFrom: '2026-04-01T00:00:00Z' })))).statusCode, 304, 'an older copy')

  const own = await post(issued[0]!.jwt, 'text/plain')
  t.equal(own.statusCode, 304, 'the holder\'s own credential from this service (a compact JWS, text/plain): already listed')
})

t.test('POST /credentials refuses forged, unaddressed and malformed bodies with Imsx_StatusInfo 400, and other media types with 415', async (t) => {
  const badge = await foreignBadge()
  const forged = imsx(t, await post(JSON.stringify({ ...badge, name: 'Forged' })), 400, 'invalid_data')
  t.match(forged.imsx_description, /did not pass verification/)
  const others = imsx(t, await post(JSON.stringify(await foreignBadge({ email: 'bob@example.org' }))), 400, 'invalid_data')
  t.match(others.imsx_description, /not addressed to the signed-in holder/)
  imsx(t, await post('{"not json'), 400, 'invalid_data')
  imsx(t, await post('not a jws', 'text/plain'), 400, 'invalid_data')
  imsx(t, await post('<credential/>', 'application/xml'), 415, 'invalid_data')
})

t.test('GET /credentials pages the holder\'s credentials with X-Total-Count and Link; every credential returned verifies', async (t) => {
  // Two stored foreign badges (one from the test above may be there: count what the database says).
  await post(JSON.stringify(await foreignBadge()))
  const all = await app.app.inject({ method: 'GET', url: `${API}/credentials`, headers: bearer })
  t.equal(all.statusCode, 200)
  const total = Number(all.headers['x-total-count'])
  t.ok(total >= 5, `${total}: three issued and the stored ones`)
  const body = all.json()
  t.same(Object.keys(body), ['credential', 'compactJwsString'])
  for (const credential of issued) {
    t.ok(body.credential.some((c: Json) => c.id === credential.url), 'each issued credential as JSON-LD')
    t.ok(body.compactJwsString.includes(credential.jwt), 'and as its VC-JWT')
  }
  t.equal(body.credential.length, total, 'every credential here was posted or issued as JSON-LD')

  for (const credential of body.credential as Json[]) {
    const result = await verifyCredential(credential, { ...app.app.verifier, now: NOW })
    const ours = credential.id.startsWith(BASE_URL)
    t.equal(result.status, ours ? 'valid' : 'unverified_issuer', `${String(credential.id)} verifies with the service's verifier`)
    if (ours) {
      await assertIndependentlyValid(t, app, credential, body.compactJwsString.find((jwt: string) => issued.find((i) => i.url === credential.id)?.jwt === jwt), NOW)
    } else {
      const independent = await vc.verifyCredential({ credential, suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }), documentLoader: didKeyLoader, now: NOW })
      t.ok(independent.verified, `${String(credential.id)} verifies with @digitalbazaar/vc: ${JSON.stringify(independent.error ?? independent.results?.[0]?.error)}`)
    }
  }
  for (const jwt of body.compactJwsString as string[]) t.equal((await verifyCredential(jwt, { ...app.app.verifier, now: NOW })).status, 'valid')

  const pages = []
  for (let offset = 0; offset < total; offset += 2) {
    const page = await app.app.inject({ method: 'GET', url: `${API}/credentials?limit=2&offset=${offset}`, headers: bearer })
    t.equal(page.headers['x-total-count'], String(total))
    const link = String(page.headers.link)
    const rels = Object.fromEntries(link.split(', ').map((part) => { const m = /^<([^>]+)>; rel="(\w+)"$/.exec(part); return [m?.[2], m?.[1]] }))
    t.equal(rels.first, `${BASE_URL}${API}/credentials?limit=2&offset=0`)
    t.equal(rels.last, `${BASE_URL}${API}/credentials?limit=2&offset=${Math.floor((total - 1) / 2) * 2}`)
    t.equal(rels.next, offset + 2 < total ? `${BASE_URL}${API}/credentials?limit=2&offset=${offset + 2}` : undefined)
    t.equal(rels.prev, offset > 0 ? `${BASE_URL}${API}/credentials?limit=2&offset=${offset - 2}` : undefined)
    pages.push(...page.json().credential.map((c: Json) => c.id))
  }
  t.same(pages, body.credential.map((c: Json) => c.id), 'the pages are the whole list, in order')

  const since = await app.app.inject({ method: 'GET', url: `${API}/credentials?since=2027-01-01T00:00:00Z`, headers: bearer })
  t.equal(since.headers['x-total-count'], '0')
  t.same(since.json(), { credential: [], compactJwsString: [] })

  const zoneless = await app.app.inject({ method: 'GET', url: `${API}/credentials?since=2027-01-01T00:00:00`, headers: bearer })
  t.equal(zoneless.headers['x-total-count'], '0', 'the spec\'s own syntax, without a zone: UTC')
  t.equal((await app.app.inject({ method: 'GET', url: `${API}/credentials?since=2020-01-01T00:00:00%2B02:00`, headers: bearer })).headers['x-total-count'], String(total), 'with an offset')
  for (const query of ['limit=0', 'limit=101', 'offset=-1', 'since=yesterday', 'since=2026-02-30T00:00:00Z', 'since=2026-01-01T25:00:00Z', 'limit=ten', 'colour=blue']) {
    imsx(t, await app.app.inject({ method: 'GET', url: `${API}/credentials?${query}`, headers: bearer }), 400, 'invalid_query_parameter')
  }
})

t.test('GET and PUT /profile: the holder\'s Profile; kept fields 200, nothing changed 304, a name change goes to staff (202 processing)', async (t) => {
  const read = await app.app.inject({ method: 'GET', url: `${API}/profile`, headers: bearer })
  t.equal(read.statusCode, 200)
  const profile = read.json()
  t.match(profile, { type: ['Profile'], name: 'Jane Q. Assistant', email: HOLDER })
  t.match(profile.id, /^urn:uuid:/)
  const put = async (payload: Json) => await app.app.inject({ method: 'PUT', url: `${API}/profile`, headers: bearer, payload })
  const updated = await put({ ...profile, description: 'CMA in Columbus, Ohio', phone: '+1 614 555 0100' })
  t.equal(updated.statusCode, 200)
  t.same(updated.json(), { ...profile, description: 'CMA in Columbus, Ohio', phone: '+1 614 555 0100' })
  t.equal((await put(updated.json())).statusCode, 304)
  const renamed = await put({ ...updated.json(), name: 'Jane Quinn Assistant' })
  t.equal(renamed.statusCode, 202)
  t.match(renamed.json(), { imsx_codeMajor: 'processing', imsx_severity: 'status' })
  t.match(renamed.json().imsx_description, /correction request for 3 badges/)
  imsx(t, await put({ ...profile, dateOfBirth: '1990-01-01' }), 400, 'invalid_data')
  imsx(t, await put({ type: 'Profile' }), 400, 'invalid_data')
})

t.test('each endpoint needs its own scope: a token without it is a 403 Imsx_StatusInfo', async (t) => {
  const readOnly = await connectPlatform(app, HOLDER, [OB_SCOPE.credentialReadonly], smtp.messages)
  const headers = { authorization: `Bearer ${readOnly.accessToken}` }
  t.equal((await app.app.inject({ method: 'GET', url: `${API}/credentials`, headers })).statusCode, 200)
  const refusal = await app.app.inject({ method: 'POST', url: `${API}/credentials`, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(await foreignBadge()) })
  imsx(t, refusal, 403, 'forbidden')
  t.match(String(refusal.headers['www-authenticate']), /error="insufficient_scope"/)
  imsx(t, await app.app.inject({ method: 'GET', url: `${API}/profile`, headers }), 403, 'forbidden')
  imsx(t, await app.app.inject({ method: 'PUT', url: `${API}/profile`, headers, payload: { id: 'x', type: 'Profile' } }), 403, 'forbidden')

  const profileOnly = await connectPlatform(app, HOLDER, [OB_SCOPE.profileReadonly], smtp.messages)
  imsx(t, await app.app.inject({ method: 'GET', url: `${API}/credentials`, headers: { authorization: `Bearer ${profileOnly.accessToken}` } }), 403, 'forbidden')
  t.equal((await app.app.inject({ method: 'GET', url: `${API}/profile`, headers: { authorization: `Bearer ${profileOnly.accessToken}` } })).statusCode, 200)
})

t.test('every answer above is one its route declares, status and content type', async (t) => {
  const routes = new Map(app.app.routeTable.map((route) => [`${([] as string[]).concat(route.method)[0] ?? ''} ${route.url}`, route]))
  t.ok(answered.length >= 30, `${answered.length} answers`)
  for (const answer of answered) {
    const declared = ((routes.get(`${answer.method} ${answer.route}`)?.schema ?? {}) as { response?: Record<string, { content?: Record<string, unknown>, type?: string }> }).response ?? {}
    const entry = declared[answer.status]
    const name = `${answer.method} ${answer.route} ${answer.status} ${answer.type}`
    t.ok(entry !== undefined && (entry.content !== undefined ? answer.type in entry.content : entry.type === 'null' && answer.type === ''), name)
  }
})
