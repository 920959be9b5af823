import { generateKeyPairSync } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { CompactSign } from 'jose'
import t, { type Test } from 'tap'
import { recipientMatches } from '../../src/capabilities/verification/ob2/recipient.js'
import { build } from '../helpers/build-app.js'

/**
 * Open Badges 2.0 assertions from another issuer, hosted and signed: a real
 * loopback "issuer" (a Fastify app in this file, reached under
 * OUTBOUND_ALLOW_LOOPBACK) serves assertions, a BadgeClass, an Issuer
 * profile, CryptographicKeys and a revocation list; the service verifies
 * through POST /credentials/verify and the /verify page, into the same
 * result document as an Open Badges 3.0 credential.
 */

type Json = Record<string, unknown>
const OB2 = 'https://w3id.org/openbadges/v2'

async function startIssuer (t: Test): Promise<{ base: string, served: Map<string, Json>, count: (path: string) => number }> {
  const served = new Map<string, Json>()
  const seen: string[] = []
  const issuer = Fastify()
  issuer.get('/*', async (request, reply) => {
    seen.push(request.url)
    const document = served.get(request.url)
    if (document === undefined) return await reply.code(404).send('not here')
    return await reply.header('content-type', 'application/ld+json').send(JSON.stringify(document))
  })
  await issuer.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await issuer.close() })
  return { base: `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`, served, count: (path) => seen.filter((p) => p === path).length }
}

const issuerKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
const pem = (pair: typeof issuerKey): string => pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()

/** An issuer with its BadgeClass, keys and revocation list, served at `base`. */
function publish (base: string, served: Map<string, Json>): void {
  served.set('/issuer', { '@context': OB2, type: 'Issuer', id: `${base}/issuer`, name: 'Previous Provider', url: base, email: 'badges@previous.example', publicKey: `${base}/keys/1`, revocationList: `${base}/revocations` })
  served.set('/badges/cpt', { '@context': OB2, type: 'BadgeClass', id: `${base}/badges/cpt`, name: 'Phlebotomy Technician', description: 'Certified.', image: `${base}/badges/cpt.png`, criteria: { narrative: 'Passed the exam.' }, issuer: `${base}/issuer` })
  served.set('/keys/1', { '@context': OB2, type: 'CryptographicKey', id: `${base}/keys/1`, owner: `${base}/issuer`, publicKeyPem: pem(issuerKey) })
  // A key whose document claims the issuer, but which the issuer does not list.
  served.set('/keys/stranger', { '@context': OB2, type: 'CryptographicKey', id: `${base}/keys/stranger`, owner: `${base}/issuer`, publicKeyPem: pem(strangerKey) })
  served.set('/revocations', { '@context': OB2, type: 'RevocationList', id: `${base}/revocations`, issuer: `${base}/issuer`, revokedAssertions: [{ id: `${base}/assertions/listed`, revocationReason: 'Issued in error' }, 'urn:uuid:7d2c3a4e-0000-4000-8000-00000000000b'] })
}

function assertion (base: string, path: string, extra: Json = {}): Json {
  return {
    '@context': OB2,
    type: 'Assertion',
    id: `${base}${path}`,
    recipient: { type: 'email', hashed: true, salt: 'deadsea', identity: 'sha256$a79e3d0da8032ddd37b14216934a2565e2db365e201b4d5ba2a44f35839499cd' },
    badge: `${base}/badges/cpt`,
    verification: { type: 'HostedBadge' },
    issuedOn: '2024-04-01T00:00:00Z',
    expires: '2031-03-31T00:00:00Z',
    ...extra
  }
}

async function signed (base: string, id: string, creator: string, key = issuerKey, extra: Json = {}): Promise<string> {
  const payload = { ...assertion(base, '', extra), id, verification: { type: 'SignedBadge', creator } }
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'RS256' }).sign(key.privateKey)
}

type Body = { status: string, verified: boolean, revoked: boolean, expired: boolean, checks: Array<{ id: string, result: string, message: string, reason?: string }>, warnings: string[], notice?: string, credential: Json, recognisedIssuer?: Json }
const verify = async (app: Awaited<ReturnType<typeof build>>, credential: unknown): Promise<{ statusCode: number, body: Body }> => {
  const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
  return { statusCode: response.statusCode, body: response.json() }
}
const check = (body: Body, id: string): Body['checks'][number] | undefined => body.checks.find((c) => c.id === id)

async function setup (t: Test, recognised = true): Promise<{ app: Awaited<ReturnType<typeof build>>, base: string, served: Map<string, Json>, count: (path: string) => number }> {
  const issuer = await startIssuer(t)
  publish(issuer.base, issuer.served)
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', ...(recognised ? { TRUSTED_ISSUERS: `${issuer.base}/issuer` } : {}) } })
  return { app, ...issuer }
}

t.test('a hosted assertion its recognised issuer serves at its id is valid, with a note that the format is Open Badges 2.0', async (t) => {
  const { app, base, served, count } = await setup(t)
  served.set('/assertions/1', assertion(base, '/assertions/1'))
  const { statusCode, body } = await verify(app, assertion(base, '/assertions/1'))
  t.equal(statusCode, 200, JSON.stringify(body.checks))
  t.equal(body.status, 'valid')
  t.same(body.checks.map((c) => [c.id, c.result]), [['format', 'passed'], ['schema', 'passed'], ['proof', 'passed'], ['signed_data', 'passed'], ['key_binding', 'passed'], ['validity_period', 'passed'], ['status', 'passed']])
  t.match(body.warnings[0], /Open Badges 2\.0 assertion, the format before Open Badges 3\.0/)
  t.match(body.warnings[1], /hashed email \(sha256, salted\).*not checked/)
  t.match(body.credential, { id: `${base}/assertions/1`, issuer: { id: `${base}/issuer`, name: 'Previous Provider' }, achievement: { name: 'Phlebotomy Technician' }, validUntil: '2031-03-31T00:00:00Z' })
  t.equal(count('/assertions/1'), 1, 'the assertion is read once')
  t.equal(count('/revocations'), 1, 'the issuer\'s revocation list is read')
})

t.test('the same hosted assertion from an issuer the deployment does not recognise is unverified_issuer', async (t) => {
  const { app, base, served } = await setup(t, false)
  served.set('/assertions/1', assertion(base, '/assertions/1'))
  const { statusCode, body } = await verify(app, assertion(base, '/assertions/1'))
  t.equal(statusCode, 422)
  t.equal(body.status, 'unverified_issuer')
  t.match(check(body, 'key_binding'), { result: 'unknown', reason: 'self_asserted', message: /does not recognise that issuer/ })
})

t.test('hosted: expired, revoked by the hosted copy, revoked by the revocation list', async (t) => {
  const { app, base, served } = await setup(t)
  served.set('/assertions/old', assertion(base, '/assertions/old', { expires: '2025-01-01T00:00:00Z' }))
  const expired = await verify(app, assertion(base, '/assertions/old', { expires: '2025-01-01T00:00:00Z' }))
  t.equal(expired.body.status, 'expired')
  t.match(check(expired.body, 'validity_period'), { result: 'failed', reason: 'expired' })

  // The copy given predates the revocation; the issuer's copy now says revoked.
  served.set('/assertions/flag', assertion(base, '/assertions/flag', { revoked: true, revocationReason: 'Exam voided' }))
  const flagged = await verify(app, assertion(base, '/assertions/flag'))
  t.equal(flagged.body.status, 'revoked')
  t.equal(flagged.body.revoked, true)
  t.match(check(flagged.body, 'status'), { result: 'failed', reason: 'revoked', message: /marks this assertion revoked \(Exam voided\)/ })

  served.set('/assertions/listed', assertion(base, '/assertions/listed'))
  const listed = await verify(app, assertion(base, '/assertions/listed'))
  t.equal(listed.body.status, 'revoked')
  t.match(check(listed.body, 'status'), { result: 'failed', reason: 'revoked', message: /revocation list names this assertion \(Issued in error\)/ })
})

t.test('hosted: an id that is not the URL it is served at, or a copy that differs from the hosted one, is invalid at proof', async (t) => {
  const { app, base, served } = await setup(t)
  served.set('/assertions/alias', assertion(base, '/assertions/1'))
  const moved = await verify(app, assertion(base, '/assertions/alias'))
  t.equal(moved.body.status, 'invalid')
  t.match(check(moved.body, 'proof'), { result: 'failed', message: /must be the URL it is fetched from/ })

  served.set('/assertions/2', assertion(base, '/assertions/2'))
  const altered = await verify(app, assertion(base, '/assertions/2', { expires: '2040-01-01T00:00:00Z' }))
  t.equal(altered.body.status, 'invalid')
  t.match(check(altered.body, 'proof'), { result: 'failed', message: /not the one its issuer hosts/ })
})

t.test('signed: valid with the issuer\'s key; tampered fails at proof; a key the issuer does not list fails at key_binding; revocation list', async (t) => {
  const { app, base } = await setup(t)
  const good = await signed(base, 'urn:uuid:7d2c3a4e-0000-4000-8000-00000000000a', `${base}/keys/1`)
  const valid = await verify(app, good)
  t.equal(valid.statusCode, 200, JSON.stringify(valid.body.checks))
  t.equal(valid.body.status, 'valid')
  t.match(check(valid.body, 'proof'), { result: 'passed', message: /JWS signature verifies/ })

  const [header, payload, signature] = good.split('.')
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Json
  const tampered = `${header!}.${Buffer.from(JSON.stringify({ ...claims, expires: '2040-01-01T00:00:00Z' })).toString('base64url')}.${signature!}`
  const altered = await verify(app, tampered)
  t.equal(altered.body.status, 'invalid')
  t.match(check(altered.body, 'proof'), { result: 'failed', message: /does not verify/ })

  const foreignKey = await verify(app, await signed(base, 'urn:uuid:7d2c3a4e-0000-4000-8000-00000000000c', `${base}/keys/stranger`, strangerKey))
  t.equal(foreignKey.body.status, 'invalid')
  t.match(check(foreignKey.body, 'proof'), { result: 'passed' })
  t.match(check(foreignKey.body, 'key_binding'), { result: 'failed', message: /does not list the key/ })

  const revoked = await verify(app, await signed(base, 'urn:uuid:7d2c3a4e-0000-4000-8000-00000000000b', `${base}/keys/1`))
  t.equal(revoked.body.status, 'revoked')

  const decoded = await verify(app, claims)
  t.equal(decoded.body.status, 'invalid', 'a signed assertion pasted as its decoded JSON is refused')
  t.match(check(decoded.body, 'format'), { result: 'failed', message: /must be given as its JWS/ })
})

t.test('unreachable: a hosted assertion, a BadgeClass or a key that cannot be had is indeterminate, never valid', async (t) => {
  const { app, base, served } = await setup(t)
  const gone = await verify(app, assertion(base, '/assertions/nowhere'))
  t.equal(gone.body.status, 'indeterminate')
  t.match(check(gone.body, 'proof'), { result: 'unknown', message: /HTTP 404/ })

  served.set('/assertions/3', assertion(base, '/assertions/3', { badge: 'http://127.0.0.1:9/badge' }))
  const noBadge = await verify(app, assertion(base, '/assertions/3', { badge: 'http://127.0.0.1:9/badge' }))
  t.equal(noBadge.body.status, 'indeterminate')
  t.match(check(noBadge.body, 'schema'), { result: 'unknown' })

  const noKey = await verify(app, await signed(base, 'urn:uuid:7d2c3a4e-0000-4000-8000-00000000000d', `${base}/keys/missing`))
  t.equal(noKey.body.status, 'indeterminate')
  t.match(check(noKey.body, 'proof'), { result: 'unknown' })

  const offline = await build(t, { env: { TRUSTED_ISSUERS: `${base}/issuer` } })
  served.set('/assertions/1', assertion(base, '/assertions/1'))
  const refused = await verify(offline, assertion(base, '/assertions/1'))
  t.equal(refused.body.status, 'indeterminate', 'without OUTBOUND_ALLOW_LOOPBACK the loopback issuer is not reached')
})

t.test('the /verify page: a pasted link to a hosted Open Badges 2.0 assertion', async (t) => {
  const { app, base, served } = await setup(t)
  served.set('/assertions/1', assertion(base, '/assertions/1'))
  served.set('/assertions/old', assertion(base, '/assertions/old', { expires: '2025-01-01T00:00:00Z' }))
  const paste = async (text: string): Promise<{ statusCode: number, body: string }> => {
    const boundary = 'XBOUNDARY'
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n${text}\r\n--${boundary}--\r\n`
    return await app.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })
  }
  const valid = await paste(`${base}/assertions/1`)
  t.equal(valid.statusCode, 200)
  t.match(valid.body, /Open Badges 2\.0 assertion/)
  const expired = await paste(`${base}/assertions/old`)
  t.equal(expired.statusCode, 422)
  t.match(expired.body, /expired/)
  // The same assertion answered at another path: a hosted assertion's id must be the URL it was fetched from.
  served.set('/share/abc', assertion(base, '/assertions/1'))
  const elsewhere = await paste(`${base}/share/abc`)
  t.equal(elsewhere.statusCode, 422, 'pasted from a URL that is not its id: not verified')
  t.match(elsewhere.body, /What this document claims/)
})

t.test('a recipient identity matches its salted sha256 or md5 hash, case-insensitively for emails', async (t) => {
  const recipient = assertion('https://x.example', '/a').recipient
  t.equal(recipientMatches(recipient, 'Ana@Example.com'), true)
  t.equal(recipientMatches(recipient, 'someone@example.com'), false)
  t.equal(recipientMatches({ type: 'email', hashed: true, salt: 's', identity: 'md5$4d6d9a8e19b52eed6b29dfa0cfd1d4d3' }, 'x'), false)
  t.equal(recipientMatches({ type: 'email', hashed: false, identity: 'ana@example.com' }, 'ANA@example.com'), true)
})
