import { CompactSign, exportJWK, generateKeyPair, decodeProtectedHeader } from 'jose'
import t from 'tap'
import { noSources, type VerificationSources } from '../../src/capabilities/verification/sources.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { assertIndependentlyValid } from '../helpers/independent-checks.js'

/**
 * Issue 27: every credential's subject carries an id (before any wallet, a
 * stable per-holder urn:uuid), copied to the VC-JWT's `sub`; the JWS is also
 * served as text/plain, and every answer of the credential URL varies on Accept.
 */

const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const payloadOf = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'))
const post = async (app: TestApp, url: string, payload: unknown) => await app.app.inject({ method: 'POST', url, headers: app.auth, payload: payload as Record<string, unknown> })

t.test('a holder has one stable urn:uuid subject id across badges and versions; the VC-JWT says it as sub', async (t) => {
  const app = await build(t)
  const cma = await createAchievement(app)
  const other = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Phlebotomy Technician' })
  const first = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'Jane@Example.org' }, validFrom: '2026-03-31T00:00:00Z' })
  const second = await issue(app, { achievementId: other.id, recipient: { name: 'Jane Q. Assistant', email: 'JANE@example.org' }, validFrom: '2026-03-31T00:00:00Z' })
  const stranger = await issue(app, { achievementId: cma.id, recipient: { name: 'John Roe', email: 'john@example.org' }, validFrom: '2026-03-31T00:00:00Z' })

  const subjectId = first.credential.credentialSubject.id as string
  t.match(subjectId, UUID_URN, 'the subject id is a urn:uuid')
  t.equal(second.credential.credentialSubject.id, subjectId, 'the same holder (email compared as normalised) has the same subject id')
  t.not(stranger.credential.credentialSubject.id, subjectId, 'another holder has another')
  await assertIndependentlyValid(t, app, first.credential, first.jwt, new Date('2027-01-01T00:00:00Z'))

  // OB 3.0 §8.2.4.1, to the letter: the payload is the credential (no embedded proof: the JWS is its proof) with the claims that mirror it.
  const payload = payloadOf(first.jwt)
  t.equal(payload.sub, subjectId, 'sub is the credentialSubject id')
  t.equal(payload.jti, first.credential.id, 'jti is the credential id')
  t.equal(payload.iss, first.credential.issuer.id, 'iss is the issuer id')
  t.equal(payload.nbf, Date.parse(first.credential.validFrom) / 1000, 'nbf is validFrom')
  t.equal(payload.exp, Date.parse(first.credential.validUntil) / 1000, 'exp is validUntil')
  t.equal(payload.proof, undefined, 'no embedded proof in the JWT payload')
  t.same(payload.credentialSubject, (({ proof, ...rest }) => rest)(first.credential).credentialSubject, 'the payload carries the same subject as the Data Integrity document')
  t.same(Object.keys(decodeProtectedHeader(first.jwt)).sort(), ['alg', 'kid', 'typ'])

  // A correction (new email) keeps the person's id; a recertification too.
  const corrected = await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { email: 'jane.new@example.org' } })
  t.equal(corrected.statusCode, 201, corrected.body)
  t.equal(corrected.json().credential.credentialSubject.id, subjectId, 'a correction keeps the subject id')
  t.equal(payloadOf(corrected.json().jwt as string).sub, subjectId)
  const renewed = await post(app, `/api/v1/credentials/${first.id}/recertify`, { method: 'exam' })
  t.equal(renewed.statusCode, 201, renewed.body)
  t.equal(renewed.json().credential.credentialSubject.id, subjectId, 'a recertification keeps the subject id')
})

t.test('the credential URL serves the JWS as text/plain, and every answer varies on Accept (406 and 404 included)', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const path = new URL(issued.url).pathname
  const get = async (url: string, accept: string) => await app.app.inject({ method: 'GET', url, headers: { accept } })

  const plain = await get(path, 'text/plain')
  t.equal(plain.statusCode, 200)
  t.match(plain.headers['content-type'], /^text\/plain; charset=utf-8/)
  t.equal(plain.body, issued.jwt, 'the compact JWS, byte for byte')
  t.match(String(plain.headers.vary), /\bAccept\b/)
  const jwt = await get(path, 'application/vc+jwt')
  t.not(jwt.headers.etag, plain.headers.etag, 'each representation has its own ETag')
  t.equal((await get(`${path}/versions/1`, 'text/plain')).body, issued.jwt, 'a version too')

  for (const [what, response] of [
    ['JSON-LD', await get(path, 'application/ld+json')],
    ['the page', await get(path, 'text/html')],
    ['406', await get(path, 'image/png')],
    ['404', await get('/credentials/AAAAAAAAAAAAAAAAAAAAAA', 'application/ld+json')]
  ] as const) {
    t.match(String(response.headers.vary), /\bAccept\b/, `${what} (${response.statusCode}) says Vary: Accept`)
    t.equal(String(response.headers.vary).split(',').filter((name) => name.trim().toLowerCase() === 'accept').length, 1, `${what}: once`)
  }
  t.equal((await get(path, 'image/png')).statusCode, 406)
})

t.test('a VC-JWT whose sub names another subject is invalid; one without sub is not refused for it', async (t) => {
  const trusting: VerificationSources = { ...noSources, recognisedIssuer: async (id) => ({ entryId: 'test-entry', name: id }) }
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  const credential = {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:7f5d6c2e-6a8b-4c7e-9f0a-2b3c4d5e6f70',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: 'https://issuer.example/', type: ['Profile'], name: 'Example' },
    validFrom: '2026-01-01T00:00:00Z',
    name: 'Example badge',
    credentialSubject: { id: 'did:example:holder', type: ['AchievementSubject'], achievement: { id: 'https://issuer.example/a/1', type: ['Achievement'], name: 'A', description: 'A', criteria: { narrative: 'A' } } }
  }
  const sign = async (claims: Record<string, unknown>) => await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...credential, iss: credential.issuer.id, jti: credential.id, nbf: 1767225600, ...claims })))
    .setProtectedHeader({ alg: 'ES256', jwk }).sign(privateKey)
  const now = new Date('2026-07-01T00:00:00Z')
  const wrong = await verifyCredential(await sign({ sub: 'did:example:someone-else' }), { now, sources: trusting })
  t.equal(wrong.status, 'invalid')
  t.match(wrong.checks.find((c) => c.id === 'key_binding')?.message, '"sub" (did:example:someone-else) is not the credentialSubject\'s id (did:example:holder)')
  const right = await verifyCredential(await sign({ sub: 'did:example:holder' }), { now, sources: trusting })
  t.notMatch(right.checks.map((c) => c.message).join(' '), '"sub"', 'a matching sub raises nothing')
  const none = await verifyCredential(await sign({}), { now, sources: trusting })
  t.notMatch(none.checks.map((c) => c.message).join(' '), '"sub"', 'no sub raises nothing (1EdTech\'s valid samples have none)')
})
