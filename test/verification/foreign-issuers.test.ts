import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import Fastify from 'fastify'
import { SignJWT } from 'jose'
import pino from 'pino'
import t, { type Test } from 'tap'
import { staticDocumentLoader } from '../../src/infrastructure/jsonld/document-loader.js'
import { HttpCache } from '../../src/infrastructure/outbound/http-cache.js'
import { emptyBitstring, encodeList, withBitSet } from '../../src/capabilities/status-lists/bitstring.js'
import { foreignResolvers } from '../../src/capabilities/verification/foreign/foreign-sources.js'
import { didWebDocumentUrl } from '../../src/capabilities/verification/foreign/did-web.js'
import { build } from '../helpers/build-app.js'

/**
 * Other issuers over the network: a real "issuer" on loopback (a Fastify app
 * in this file, reached under OUTBOUND_ALLOW_LOOPBACK) serves a did:web
 * document, a controller document, a JWK set and status lists signed with a
 * published 1EdTech TEST key; the service resolves them through its one
 * outbound client and its cache, and answers through POST /credentials/verify.
 */

type Json = Record<string, unknown>
const testKeys = JSON.parse(readFileSync(new URL('../fixtures/ob3/keys/test-keys.json', import.meta.url), 'utf8')) as
  { ed25519_multikey: Array<{ publicKeyMultibase: string, secretKeyMultibase: string }> }
const key = testKeys.ed25519_multikey[0]!

interface Served { body: string | Buffer, headers?: Record<string, string>, status?: number, delayMs?: number }
interface Seen { path: string, ifNoneMatch?: string }

/** The loopback issuer: answers what `served` holds for a path, with an ETag of its own, and logs every request. */
async function startIssuer (t: Test): Promise<{ base: string, port: number, served: Map<string, Served>, seen: Seen[], count: (path: string) => number, readonly mostAtOnce: number }> {
  const served = new Map<string, Served>()
  const seen: Seen[] = []
  let open = 0
  let mostAtOnce = 0
  const issuer = Fastify()
  issuer.addHook('onRequest', async () => { open += 1; mostAtOnce = Math.max(mostAtOnce, open) })
  issuer.addHook('onResponse', async () => { open -= 1 })
  issuer.get('/*', async (request, reply) => {
    const path = request.url
    seen.push({ path, ...(typeof request.headers['if-none-match'] === 'string' ? { ifNoneMatch: request.headers['if-none-match'] } : {}) })
    const answer = served.get(path)
    if (answer === undefined) return await reply.code(404).send('not here')
    if (answer.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.delayMs))
    const etag = answer.headers?.etag
    if (etag !== undefined && request.headers['if-none-match'] === etag) return await reply.code(304).headers({ ...answer.headers }).send()
    return await reply.code(answer.status ?? 200).headers({ 'content-type': 'application/json', ...answer.headers }).send(answer.body)
  })
  await issuer.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await issuer.close() })
  const port = (issuer.server.address() as AddressInfo).port
  return { base: `http://127.0.0.1:${port}`, port, served, seen, count: (path) => seen.filter((s) => s.path === path).length, get mostAtOnce () { return mostAtOnce } }
}

function badge (issuer: string, extra: Json = {}): Json {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'Northwind Phlebotomy Board' },
    validFrom: '2024-04-01T00:00:00Z',
    validUntil: '2031-03-31T00:00:00Z',
    name: 'Phlebotomy Technician',
    credentialSubject: {
      type: ['AchievementSubject'],
      achievement: { id: 'https://northwind.example/achievements/cpt', type: ['Achievement'], name: 'Phlebotomy Technician', description: 'Certified.', criteria: { narrative: 'Passed the exam.' } }
    },
    ...extra
  }
}

async function sign (unsigned: Json, verificationMethod: string, controller: string): Promise<Json> {
  const keyPair = await Ed25519Multikey.from({ id: verificationMethod, controller, type: 'Multikey', ...key })
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date: new Date('2024-04-01T00:00:00Z') })
  return await vc.issue({ credential: structuredClone(unsigned), suite, documentLoader: staticDocumentLoader })
}

const controllerDocument = (id: string, methodId: string): Json => ({
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
  id,
  verificationMethod: [{ id: methodId, type: 'Multikey', controller: id, publicKeyMultibase: key.publicKeyMultibase }],
  assertionMethod: [methodId]
})

async function statusList (url: string, issuer: string, methodId: string, revoked: number[], purpose = 'revocation', validUntil = '2031-01-01T00:00:00Z'): Promise<string> {
  const bits = revoked.reduce<Uint8Array>((list, index) => withBitSet(list, index), emptyBitstring(131_072))
  return JSON.stringify(await sign({
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer,
    validFrom: '2024-01-01T00:00:00Z',
    validUntil,
    credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: purpose, encodedList: encodeList(bits) }
  }, methodId, issuer))
}

const statusEntry = (list: string, index: number): Json => ({
  credentialStatus: { id: `${list}#${index}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(index), statusListCredential: list }
})

/** A debug-level pino logger whose lines the test can read. */
function capturedLogger (): { logger: ReturnType<typeof pino>, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>); done() } })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

const verify = async (app: Awaited<ReturnType<typeof build>>, credential: unknown): Promise<{ statusCode: number, body: { status: string, checks: Array<{ id: string, result: string, message: string }>, notice?: string } }> => {
  const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
  return { statusCode: response.statusCode, body: response.json() }
}
const checkOf = (body: { checks: Array<{ id: string, result: string, message: string }> }, id: string): { result: string, message: string } | undefined => body.checks.find((c) => c.id === id)

t.test('did:web identifiers map to their DID document URLs (host, path, percent-encoded port)', async (t) => {
  t.equal(didWebDocumentUrl('did:web:example.com', false)?.href, 'https://example.com/.well-known/did.json')
  t.equal(didWebDocumentUrl('did:web:example.com:user:alice', false)?.href, 'https://example.com/user/alice/did.json')
  t.equal(didWebDocumentUrl('did:web:example.com%3A8443', false)?.href, 'https://example.com:8443/.well-known/did.json')
  t.equal(didWebDocumentUrl('did:web:127.0.0.1%3A8080', false)?.href, 'https://127.0.0.1:8080/.well-known/did.json', 'loopback over https without the switch')
  t.equal(didWebDocumentUrl('did:web:127.0.0.1%3A8080', true)?.href, 'http://127.0.0.1:8080/.well-known/did.json', 'and over http with it')
  for (const bad of ['did:web:', 'did:web:example.com:..:etc', 'did:web:example.com%2Fevil', 'did:web:user%40example.com', 'did:key:z6Mk']) t.equal(didWebDocumentUrl(bad, false), undefined, `${bad} refused`)
})

t.test('a foreign did:web badge: valid when its issuer is recognised, unverified_issuer when not, revoked when its list says so; two verifications fetch the key and list once', async (t) => {
  const issuer = await startIssuer(t)
  const did = `did:web:127.0.0.1%3A${issuer.port}`
  const method = `${did}#key-1`
  const list = `${issuer.base}/status/1`
  issuer.served.set('/.well-known/did.json', { body: JSON.stringify(controllerDocument(did, method)), headers: { 'cache-control': 'max-age=300', etag: '"did-1"' } })
  issuer.served.set('/status/1', { body: await statusList(list, did, method, [5]), headers: { 'cache-control': 'max-age=300', etag: '"list-1"' } })
  const good = await sign(badge(did, statusEntry(list, 7)), method, did)
  const revoked = await sign(badge(did, { ...statusEntry(list, 5), id: 'urn:uuid:11111111-2222-4333-8444-555555555555' }), method, did)

  const { logger, lines } = capturedLogger()
  const trusting = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: did }, logger })
  // Warm the app (Data Integrity thread, JSON-LD contexts) on an offline did:key badge, so the timing below is the network's share.
  const didKey = `did:key:${key.publicKeyMultibase}`
  await verify(trusting, await sign(badge(didKey), didKey, didKey))
  let started = performance.now()
  const first = await verify(trusting, good)
  const coldMs = performance.now() - started
  t.equal(first.body.status, 'valid', JSON.stringify(first.body.checks))
  t.equal(first.statusCode, 200)
  t.match(checkOf(first.body, 'key_binding')?.message, `(${issuer.base}/.well-known/did.json)`, 'the binding names the document that published the key')
  t.equal(checkOf(first.body, 'status')?.result, 'passed')
  started = performance.now()
  const second = await verify(trusting, good)
  t.comment(`a never-seen foreign verification (DID document, status list and its proof, over loopback): ${coldMs.toFixed(0)} ms; the same again from the cache: ${(performance.now() - started).toFixed(0)} ms`)
  t.equal(second.body.status, 'valid')
  t.equal(issuer.count('/.well-known/did.json'), 1, 'the DID document was fetched once for two verifications (and the list\'s own proof)')
  t.equal(issuer.count('/status/1'), 1, 'the status list was fetched once')
  t.ok(lines.some((l) => l.level === 20 && l.msg === 'outbound cache hit' && l.url === list), 'the cache hit is in the log at debug')

  const gone = await verify(trusting, revoked)
  t.equal(gone.body.status, 'revoked', 'index 5 is set on the issuer\'s list')
  t.equal(gone.statusCode, 422)

  const stranger = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  const unrecognised = await verify(stranger, good)
  t.equal(unrecognised.body.status, 'unverified_issuer', 'the key is the issuer\'s own, but nothing says who the issuer is')
  t.equal(checkOf(unrecognised.body, 'status')?.result, 'passed')
  t.equal((await verify(stranger, revoked)).body.status, 'revoked', 'revocation needs no recognition')
})

t.test('a foreign https controller document and the issuer\'s JWK set verify; a key the document does not list under assertionMethod does not', async (t) => {
  const issuer = await startIssuer(t)
  const id = `${issuer.base}/issuers/1`
  const method = `${id}#key-1`
  issuer.served.set('/issuers/1', { body: JSON.stringify(controllerDocument(id, method)) })
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: id } })
  const signed = await sign(badge(id), method, id)
  t.equal((await verify(app, signed)).body.status, 'valid', 'a Multikey in the issuer\'s controller document')

  // VC-JWT with a bare kid: the key is looked for in the issuer's own /.well-known/jwks.json, never where the token says.
  const jwtKeys = generateKeyPairSync('ed25519')
  const publicJwk = jwtKeys.publicKey.export({ format: 'jwk' })
  issuer.served.set('/.well-known/jwks.json', { body: JSON.stringify({ keys: [{ ...publicJwk, kid: 'k1', alg: 'EdDSA' }] }) })
  const unsigned = badge(id)
  const jwt = await new SignJWT({ ...unsigned, iss: id, jti: unsigned.id as string, nbf: Date.parse('2024-04-01T00:00:00Z') / 1000 })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'vc+jwt', jku: 'https://attacker.example/jwks.json' })
    .sign(jwtKeys.privateKey)
  const jwtAnswer = await verify(app, jwt)
  t.equal(jwtAnswer.body.status, 'valid', JSON.stringify(jwtAnswer.body.checks))

  issuer.served.set('/issuers/2', { body: JSON.stringify({ ...controllerDocument(`${issuer.base}/issuers/2`, `${issuer.base}/issuers/2#key-1`), assertionMethod: [] }) })
  const unlisted = await verify(app, await sign(badge(`${issuer.base}/issuers/2`), `${issuer.base}/issuers/2#key-1`, `${issuer.base}/issuers/2`))
  t.equal(unlisted.body.status, 'invalid')
  t.match(checkOf(unlisted.body, 'proof')?.message, 'does not list')

  // A document that lists someone else's method as its own: the method's controller must be the listing document.
  issuer.served.set('/issuers/3', { body: JSON.stringify({ ...controllerDocument(`${issuer.base}/issuers/3`, `${issuer.base}/issuers/3#key-1`), verificationMethod: [{ id: `${issuer.base}/issuers/3#key-1`, type: 'Multikey', controller: 'https://elsewhere.example/issuer', publicKeyMultibase: key.publicKeyMultibase }] }) })
  const adopted = await verify(app, await sign(badge(`${issuer.base}/issuers/3`), `${issuer.base}/issuers/3#key-1`, `${issuer.base}/issuers/3`))
  t.equal(adopted.body.status, 'invalid')
  t.match(checkOf(adopted.body, 'proof')?.message, 'names "https://elsewhere.example/issuer" as its controller')
})

t.test('an unreachable, slow or huge key or list is indeterminate, never valid', async (t) => {
  const issuer = await startIssuer(t)
  const did = `did:web:127.0.0.1%3A${issuer.port}`
  const method = `${did}#key-1`
  const list = `${issuer.base}/status/1`
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: did } })
  const signed = await sign(badge(did, statusEntry(list, 7)), method, did)

  const noKey = await verify(app, signed)
  t.equal(noKey.body.status, 'indeterminate', 'no DID document (404)')
  t.match(checkOf(noKey.body, 'proof')?.message, `could not be retrieved: ${issuer.base}/.well-known/did.json answered HTTP 404`)

  issuer.served.set('/.well-known/did.json', { body: JSON.stringify(controllerDocument(did, method)), headers: { 'cache-control': 'max-age=300' } })
  const noList = await verify(app, signed)
  t.equal(noList.body.status, 'indeterminate', 'the key verifies, but the list does not answer')
  t.equal(checkOf(noList.body, 'proof')?.result, 'passed')
  t.match(checkOf(noList.body, 'status')?.message, `Revocation could not be checked: ${list} answered HTTP 404`)

  issuer.served.set('/status/1', { body: await statusList(list, did, method, []), delayMs: 4_500 })
  const started = Date.now()
  const slow = await verify(app, signed)
  t.equal(slow.body.status, 'indeterminate', 'a list slower than its deadline')
  t.match(checkOf(slow.body, 'status')?.message, 'no answer within 4 s')
  t.ok(Date.now() - started < 4_800, `cut at the deadline (${Date.now() - started} ms)`)

  issuer.served.set('/status/1', { body: JSON.stringify({ padding: 'x'.repeat(600 * 1024) }) })
  const huge = await verify(app, signed)
  t.equal(huge.body.status, 'indeterminate', 'a list over its size cap')
  t.match(checkOf(huge.body, 'status')?.message, 'the answer is larger than 512 KiB')

  const closed = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: 'did:web:127.0.0.1%3A9' } })
  const refused = await verify(closed, await sign(badge('did:web:127.0.0.1%3A9'), 'did:web:127.0.0.1%3A9#key-1', 'did:web:127.0.0.1%3A9'))
  t.equal(refused.body.status, 'indeterminate', 'nothing listening')
  t.match(checkOf(refused.body, 'proof')?.message, 'could not be retrieved')

  const production = await build(t, { env: { TRUSTED_ISSUERS: did } })
  const noSwitch = await verify(production, signed)
  t.equal(noSwitch.body.status, 'indeterminate', 'without the switch, loopback is not reached')
  t.match(checkOf(noSwitch.body, 'proof')?.message, 'private or local network')
})

t.test('the cache follows Cache-Control and ETag: no request while fresh, a 304 revalidation after, a changed list seen after its lifetime', async (t) => {
  const issuer = await startIssuer(t)
  let now = 0
  const cache = new HttpCache({ allowLoopback: true, now: () => now })
  const limits = { timeoutMs: 2_000, maxBytes: 64 * 1024, accept: 'application/json' }
  issuer.served.set('/list', { body: '{"v":1}', headers: { 'cache-control': 'max-age=60', etag: '"v1"' } })
  t.equal((await cache.get(`${issuer.base}/list`, limits)).from, 'network')
  now = 59_000
  t.equal((await cache.get(`${issuer.base}/list`, limits)).from, 'cache', 'fresh for its max-age: no request')
  t.equal(issuer.count('/list'), 1)
  now = 61_000
  const revalidated = await cache.get(`${issuer.base}/list`, limits)
  t.equal(revalidated.from, 'revalidated', 'past max-age: asked again, 304, the stored body reused')
  t.equal(revalidated.body.toString(), '{"v":1}')
  t.same(issuer.seen.at(-1), { path: '/list', ifNoneMatch: '"v1"' }, 'with If-None-Match')
  now = 100_000
  t.equal((await cache.get(`${issuer.base}/list`, limits)).from, 'cache', 'the 304 renewed its lifetime')
  issuer.served.set('/list', { body: '{"v":2}', headers: { 'cache-control': 'max-age=60', etag: '"v2"' } })
  t.equal((await cache.get(`${issuer.base}/list`, limits)).body.toString(), '{"v":1}', 'a change inside the lifetime is not seen yet')
  now = 200_000
  t.equal((await cache.get(`${issuer.base}/list`, limits)).body.toString(), '{"v":2}', 'and is seen after it')

  issuer.served.set('/private', { body: '{}', headers: { 'cache-control': 'no-store, max-age=600' } })
  issuer.served.set('/no-cache', { body: '{}', headers: { 'cache-control': 'no-cache', etag: '"n"' } })
  issuer.served.set('/ceiling', { body: '{}', headers: { 'cache-control': 'max-age=31536000' } })
  for (const path of ['/private', '/no-cache', '/ceiling']) await cache.get(`${issuer.base}${path}`, limits)
  now += 1_000
  for (const path of ['/private', '/no-cache', '/ceiling']) await cache.get(`${issuer.base}${path}`, limits)
  t.equal(issuer.count('/private'), 2, 'no-store: never kept')
  t.same(issuer.seen.filter((s) => s.path === '/no-cache').map((s) => s.ifNoneMatch), [undefined, '"n"'], 'no-cache: kept, but revalidated before each use')
  t.equal(issuer.count('/ceiling'), 1)
  now += 3_600_000
  await cache.get(`${issuer.base}/ceiling`, limits)
  t.equal(issuer.count('/ceiling'), 2, 'a year of max-age is cut to the one-hour ceiling')

  // Fail closed: an entry whose revalidation fails is not served stale.
  issuer.served.delete('/list')
  now += 3_600_000
  await t.rejects(cache.get(`${issuer.base}/list`, limits), { name: 'OutboundFetchError', reason: 'http-status' })
  issuer.served.set('/moved', { body: '', status: 302, headers: { location: `${issuer.base}/list` } })
  await t.rejects(cache.get(`${issuer.base}/moved`, limits), { name: 'OutboundFetchError', reason: 'redirect' }, 'redirects are not followed')
})

t.test('one verification makes at most 8 requests to other servers; cache hits are free', async (t) => {
  const issuer = await startIssuer(t)
  const resolvers = foreignResolvers(new HttpCache({ allowLoopback: true }), true)()
  for (let i = 0; i < 8; i++) await t.rejects(resolvers.fetchStatusDocument(`${issuer.base}/missing/${i}`), { name: 'ForeignUnavailable', message: /answered HTTP 404/ })
  await t.rejects(resolvers.fetchStatusDocument(`${issuer.base}/missing/9`), { name: 'ForeignUnavailable', message: /already made 8 requests to other servers, its limit/ })
  t.equal(issuer.seen.length, 8, 'the ninth was never sent')
  t.equal(resolvers.requests, 8)
})

t.test('a foreign status list must be the issuer\'s, of the entry\'s purpose, cover the index and be current', async (t) => {
  const issuer = await startIssuer(t)
  const did = `did:web:127.0.0.1%3A${issuer.port}`
  const method = `${did}#key-1`
  const other = `${issuer.base}/issuers/other`
  issuer.served.set('/.well-known/did.json', { body: JSON.stringify(controllerDocument(did, method)) })
  issuer.served.set('/issuers/other', { body: JSON.stringify(controllerDocument(other, `${other}#key-1`)) })
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: did } })
  const cases: Array<[string, () => Promise<string>, number, string, string, string]> = [
    ['a suspension list behind a revocation entry', async () => await statusList(`${issuer.base}/lists/purpose`, did, method, [], 'suspension'), 7, 'failed', 'invalid', 'does not match the list\'s (suspension)'],
    ['an index past the end of the list', async () => await statusList(`${issuer.base}/lists/range`, did, method, []), 131_072, 'failed', 'invalid', '"statusListIndex" 131072 is outside the status list'],
    ['a list signed by another issuer', async () => await statusList(`${issuer.base}/lists/other`, other, `${other}#key-1`, []), 7, 'failed', 'invalid', `is issued by "${other}", not by the credential's issuer`],
    ['an expired list', async () => await statusList(`${issuer.base}/lists/expired`, did, method, [], 'revocation', '2025-01-01T00:00:00Z'), 7, 'unknown', 'indeterminate', 'expired on 2025-01-01T00:00:00Z'],
    ['a list whose signature does not verify', async () => JSON.stringify({ ...JSON.parse(await statusList(`${issuer.base}/lists/tampered`, did, method, [])) as Json, validUntil: '2032-01-01T00:00:00Z' }), 7, 'unknown', 'indeterminate', 'does not carry a proof by its issuer that verifies']
  ]
  for (const [label, list, index, result, status, message] of cases) {
    const path = `/lists/${label.includes('suspension') ? 'purpose' : label.includes('index') ? 'range' : label.includes('another') ? 'other' : label.includes('expired') ? 'expired' : 'tampered'}`
    issuer.served.set(path, { body: await list() })
    const answer = await verify(app, await sign(badge(did, statusEntry(`${issuer.base}${path}`, index)), method, did))
    t.equal(checkOf(answer.body, 'status')?.result, result, `${label}: the status check is ${result}`)
    t.equal(answer.body.status, status, `${label}: ${status}`)
    t.match(checkOf(answer.body, 'status')?.message, message, `${label}: says why`)
  }
})

t.test('the deprecated 1EdTech revocation list: revoked when it lists the credential, indeterminate when it is not the issuer\'s', async (t) => {
  const issuer = await startIssuer(t)
  const did = `did:web:127.0.0.1%3A${issuer.port}`
  const method = `${did}#key-1`
  const list = `${issuer.base}/revocations/1`
  issuer.served.set('/.well-known/did.json', { body: JSON.stringify(controllerDocument(did, method)) })
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: did } })
  // The method's term is defined by the OB 3.0 extensions context.
  const withExtensions = (extra: Json): Json => { const b = badge(did, extra); return { ...b, '@context': [...b['@context'] as string[], 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'] } }
  const entry = { credentialStatus: { id: list, type: '1EdTechRevocationList' } }
  const kept = await sign(withExtensions(entry), method, did)
  const revoked = await sign(withExtensions({ ...entry, id: 'urn:uuid:9e8d7c6b-5a49-4382-a716-151413121110' }), method, did)
  issuer.served.set('/revocations/1', { body: JSON.stringify({ id: list, issuer: did, revokedCredentials: [{ id: 'urn:uuid:9e8d7c6b-5a49-4382-a716-151413121110', revocationReason: 'Issued in error.' }] }) })
  const keptAnswer = await verify(app, kept)
  t.equal(keptAnswer.body.status, 'valid', JSON.stringify(keptAnswer.body.checks))
  const revokedAnswer = await verify(app, revoked)
  t.equal(revokedAnswer.body.status, 'revoked')
  t.match(checkOf(revokedAnswer.body, 'status')?.message, 'Issued in error.')
  issuer.served.set('/revocations/1', { body: JSON.stringify({ id: list, issuer: 'did:web:elsewhere.example', revokedCredentials: [] }) })
  const foreignList = await verify(app, await sign(withExtensions({ ...entry, id: 'urn:uuid:00000000-0000-4000-8000-000000000001' }), method, did))
  t.equal(foreignList.body.status, 'indeterminate', 'a list in someone else\'s name vouches for nothing')
  t.match(checkOf(foreignList.body, 'status')?.message, 'is issued by "did:web:elsewhere.example", not by the credential\'s issuer')
})

t.test('a VCDM 1.1 badge on a StatusList2021 list (the older name of the same bitstring) is read the same way', async (t) => {
  const issuer = await startIssuer(t)
  const did = `did:web:127.0.0.1%3A${issuer.port}`
  const method = `${did}#key-1`
  const list = `${issuer.base}/status/2021`
  const contexts = ['https://www.w3.org/2018/credentials/v1', 'https://w3id.org/vc/status-list/2021/v1', 'https://w3id.org/security/suites/ed25519-2020/v1']
  const sign2020 = async (unsigned: Json): Promise<Json> => {
    const keyPair = await Ed25519Multikey.from({ id: method, controller: did, type: 'Multikey', ...key })
    const suite = new Ed25519Signature2020({ signer: keyPair.signer(), date: new Date('2024-04-01T00:00:00Z') })
    return await vc.issue({ credential: structuredClone(unsigned), suite, documentLoader: staticDocumentLoader })
  }
  issuer.served.set('/.well-known/did.json', { body: JSON.stringify(controllerDocument(did, method)) })
  issuer.served.set('/status/2021', {
    body: JSON.stringify(await sign2020({
      '@context': contexts,
      id: list,
      type: ['VerifiableCredential', 'StatusList2021Credential'],
      issuer: did,
      issuanceDate: '2024-01-01T00:00:00Z',
      credentialSubject: { id: `${list}#list`, type: 'StatusList2021', statusPurpose: 'revocation', encodedList: encodeList(withBitSet(emptyBitstring(131_072), 3)) }
    }))
  })
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: did } })
  const signed = async (index: number): Promise<Json> => {
    const { validFrom: _, validUntil: __, ...b } = badge(did)
    return await sign2020({
      ...b,
      '@context': [contexts[0], 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json', ...contexts.slice(1)],
      id: `urn:uuid:00000000-0000-4000-8000-00000000000${index}`,
      issuanceDate: '2024-04-01T00:00:00Z',
      expirationDate: '2031-03-31T00:00:00Z',
      credentialStatus: { id: `${list}#${index}`, type: 'StatusList2021Entry', statusPurpose: 'revocation', statusListIndex: String(index), statusListCredential: list }
    })
  }
  const clear = await verify(app, await signed(4))
  t.equal(clear.body.status, 'valid', JSON.stringify(clear.body.checks))
  t.equal((await verify(app, await signed(3))).body.status, 'revoked')
})

t.test('at most 4 requests are in flight to one host; the same URL asked twice at once is one request', async (t) => {
  const issuer = await startIssuer(t)
  for (let i = 0; i < 10; i++) issuer.served.set(`/doc/${i}`, { body: '{}', delayMs: 150 })
  const cache = new HttpCache({ allowLoopback: true })
  const limits = { timeoutMs: 3_000, maxBytes: 1024, accept: 'application/json' }
  await Promise.all([...Array(10).keys()].map(async (i) => await cache.get(`${issuer.base}/doc/${i}`, limits)))
  t.equal(issuer.mostAtOnce, 4, 'ten documents, four at a time')
  await Promise.all([1, 2, 3].map(async () => await cache.get(`${issuer.base}/doc/0`, limits)))
  t.equal(issuer.count('/doc/0'), 2, 'three simultaneous asks for an unfresh document: one more request')
})

t.test('a JWK set on another origin than the issuer\'s does not bind its key to the issuer', async (t) => {
  const issuer = await startIssuer(t)
  const elsewhere = await startIssuer(t)
  const id = `${issuer.base}/issuers/1`
  const jwtKeys = generateKeyPairSync('ed25519')
  elsewhere.served.set('/jwks.json', { body: JSON.stringify({ keys: [{ ...jwtKeys.publicKey.export({ format: 'jwk' }), kid: 'k1' }] }) })
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: id } })
  const unsigned = badge(id)
  const jwt = await new SignJWT({ ...unsigned, iss: id, jti: unsigned.id as string, nbf: Date.parse('2024-04-01T00:00:00Z') / 1000 })
    .setProtectedHeader({ alg: 'EdDSA', kid: `${elsewhere.base}/jwks.json#k1`, typ: 'vc+jwt' })
    .sign(jwtKeys.privateKey)
  const answer = await verify(app, jwt)
  t.equal(checkOf(answer.body, 'proof')?.result, 'passed', 'the signature is good')
  t.equal(checkOf(answer.body, 'key_binding')?.result, 'failed')
  t.match(checkOf(answer.body, 'key_binding')?.message, `belongs to "${elsewhere.base}", not to the issuer "${id}"`)
  t.equal(answer.body.status, 'invalid')
})
