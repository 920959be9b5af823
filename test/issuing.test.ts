import t from 'tap'
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import jsonld from 'jsonld'
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose'
import { validateOpenBadgeSchema } from '../src/capabilities/credentials/ob-schema.js'
import { staticDocumentLoader } from '../src/infrastructure/jsonld/document-loader.js'
import { decodeList, getBit } from '../src/capabilities/status-lists/bitstring.js'
import { BASE_URL, build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'
import { publishedDocumentLoader } from './helpers/independent-checks.js'

t.test('an issued credential passes the 1EdTech schema, JSON-LD safe mode, and an independent proof check', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, {
    achievementId: achievement.id,
    recipient: { name: 'Jane Q. Assistant', email: 'Jane@Example.org' },
    validFrom: '2026-03-31T00:00:00Z'
  })
  const credential = issued.credential

  t.equal(issued.url, `${BASE_URL}/credentials/${issued.id}`)
  t.equal(credential.id, issued.url, 'the credential id is its public URL')
  t.same(credential['@context'], ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json', 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'])
  t.same(credential.type, ['VerifiableCredential', 'OpenBadgeCredential'])
  t.same(credential.refreshService, { id: issued.url, type: '1EdTechCredentialRefresh' }, 'the credential URL is its refresh service')
  t.equal(issued.version, 1)
  t.equal(credential.validUntil, '2031-03-31T00:00:00Z', 'validUntil defaults to validFrom + 60 months')
  t.equal(credential.issuer.type[0], 'Profile')
  t.equal(credential.credentialSubject.achievement.id, achievement.url)
  t.equal(credential.credentialSubject.name, 'Jane Q. Assistant')
  t.notMatch(JSON.stringify(credential), /example\.org/i, 'the email never appears in the credential')
  t.ok(Array.isArray(credential.proof), 'proof is an array')
  t.equal(credential.proof[0].cryptosuite, 'eddsa-rdfc-2022')

  const schema = validateOpenBadgeSchema(credential)
  t.ok(schema.valid, `1EdTech schema: ${schema.errors.join('; ')}`)

  await t.resolves(jsonld.expand(credential, { documentLoader: staticDocumentLoader, safe: true }), 'safe-mode expansion succeeds')

  const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 })
  const result = await vc.verifyCredential({
    credential,
    suite,
    documentLoader: publishedDocumentLoader(app),
    now: new Date('2027-01-01T00:00:00Z'),
    checkStatus: async () => ({ verified: true })
  })
  t.ok(result.verified, `the proof verifies with @digitalbazaar/vc: ${JSON.stringify(result.error ?? result.results?.[0]?.error)}`)

  const tampered = structuredClone(credential)
  tampered.credentialSubject.name = 'Someone Else'
  const bad = await vc.verifyCredential({ credential: tampered, suite, documentLoader: publishedDocumentLoader(app), now: new Date('2027-01-01T00:00:00Z'), checkStatus: async () => ({ verified: true }) })
  t.notOk(bad.verified, 'a changed name breaks the proof')
})

t.test('the VC-JWT form verifies with jose against the published JWK', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Sam Lee', email: 'sam@example.com' } })

  const fetched = await app.app.inject({ method: 'GET', url: new URL(issued.url).pathname, headers: { accept: 'application/vc+jwt' } })
  t.equal(fetched.statusCode, 200)
  t.match(fetched.headers['content-type'], /^application\/vc\+jwt/)
  t.equal(fetched.body, issued.jwt)

  const header = decodeProtectedHeader(issued.jwt)
  t.same(Object.keys(header).sort(), ['alg', 'kid', 'typ'])
  t.equal(header.alg, 'RS256')
  t.match(header.kid, new RegExp(`^${BASE_URL}/keys/`))
  const jwkResponse = await app.app.inject({ method: 'GET', url: new URL(header.kid!).pathname })
  t.equal(jwkResponse.statusCode, 200)
  const jwk = jwkResponse.json<JWK>()
  t.notOk('d' in jwk, 'the published JWK has no private part')
  const jwks = (await app.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: JWK[] }>()
  t.ok(jwks.keys.some((k) => k.kid === header.kid), 'the key is in the JWKS')

  const { payload } = await compactVerify(issued.jwt, await importJWK(jwk, 'RS256'))
  const claims = JSON.parse(new TextDecoder().decode(payload))
  t.equal(claims.iss, issued.credential.issuer.id)
  t.equal(claims.jti, issued.credential.id)
  t.equal(claims.nbf, Date.parse(issued.credential.validFrom) / 1000)
  t.equal(claims.exp, Date.parse(issued.credential.validUntil) / 1000)
  t.same(claims.credentialSubject, issued.credential.credentialSubject, 'the payload is the same credential')
  t.notOk('proof' in claims, 'the JWT payload carries no embedded proof')
  await t.resolves(jsonld.expand(claims, { documentLoader: staticDocumentLoader, safe: true }), 'the JWT payload passes safe mode')
})

t.test('the public URLs serve the credential, issuer profile, achievement and status list', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  const path = new URL(issued.url).pathname

  for (const accept of ['application/ld+json', 'application/vc+ld+json', 'application/json']) {
    const response = await app.app.inject({ method: 'GET', url: path, headers: { accept } })
    t.equal(response.statusCode, 200, accept)
    t.match(response.headers['content-type'], accept)
    t.same(response.json(), issued.credential, `${accept} returns the signed credential unchanged`)
  }
  const refused = await app.app.inject({ method: 'GET', url: path, headers: { accept: 'image/png' } })
  t.equal(refused.statusCode, 406)
  t.match(refused.headers['content-type'], /application\/problem\+json/)

  const profile = (await app.app.inject({ method: 'GET', url: new URL(issued.credential.issuer.id).pathname })).json()
  t.equal(profile.id, issued.credential.issuer.id)
  t.same(profile.type, ['Profile'])
  t.equal(profile.name, 'American Association of Medical Assistants')
  t.equal(profile.assertionMethod[0].id, issued.credential.proof[0].verificationMethod, 'the signing key is listed in assertionMethod')
  t.equal(profile.assertionMethod[0].controller, profile.id)
  t.equal(profile.assertionMethod[0].type, 'Multikey')

  const publicAchievement = (await app.app.inject({ method: 'GET', url: new URL(achievement.url).pathname })).json()
  t.equal(publicAchievement.id, achievement.url)
  t.equal(publicAchievement.name, CMA_ACHIEVEMENT.name)
  await t.resolves(jsonld.expand(publicAchievement, { documentLoader: staticDocumentLoader, safe: true }))

  const status = issued.credential.credentialStatus
  t.equal(status.type, 'BitstringStatusListEntry')
  t.equal(status.statusPurpose, 'revocation')
  const listResponse = await app.app.inject({ method: 'GET', url: new URL(status.statusListCredential).pathname })
  t.equal(listResponse.statusCode, 200)
  t.ok(listResponse.headers.etag, 'the list has an ETag')
  const list = listResponse.json()
  t.same(list.type, ['VerifiableCredential', 'BitstringStatusListCredential'])
  t.equal(list.issuer, issued.credential.issuer.id)
  t.ok(list.validUntil, 'the list says until when it may be relied on')
  const bits = decodeList(list.credentialSubject.encodedList)
  t.ok(bits.length * 8 >= 131072, 'at least 131,072 entries')
  t.equal(getBit(bits, Number(status.statusListIndex)), false, 'a new credential is not revoked')
  const listResult = await vc.verifyCredential({ credential: list, suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }), documentLoader: publishedDocumentLoader(app) })
  t.ok(listResult.verified, 'the status list credential is signed by the issuer')

  const notModified = await app.app.inject({ method: 'GET', url: new URL(status.statusListCredential).pathname, headers: { 'if-none-match': listResponse.headers.etag as string } })
  t.equal(notModified.statusCode, 304)
})

t.test('credentials issued in parallel get distinct status indexes', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await Promise.all(Array.from({ length: 40 }, async (_, i) =>
    await issue(app, { achievementId: achievement.id, recipient: { name: `Person ${i}`, email: `p${i}@example.com` } })))
  const entries = issued.map((c) => `${c.credential.credentialStatus.statusListCredential as string}#${c.credential.credentialStatus.statusListIndex as string}`)
  t.equal(new Set(entries).size, 40, 'no two credentials share a status entry')
  const [{ count }] = await app.sql<[{ count: string }]>`select count(*) from status_lists`
  t.equal(Number(count), 1, 'one list serves them all')
})

t.test('validity period: explicit dates, awardedDate, and an achievement without expiry', async (t) => {
  const app = await build(t)
  const cma = await createAchievement(app)
  const explicit = await issue(app, {
    achievementId: cma.id,
    recipient: { name: 'Lee Park', email: 'lee@example.com' },
    validFrom: '2024-01-31T12:00:00.789Z',
    validUntil: '2029-01-31T12:00:00Z',
    awardedDate: '2014-06-01T00:00:00Z'
  })
  t.equal(explicit.credential.validFrom, '2024-01-31T12:00:00Z', 'milliseconds are dropped (JWT times are whole seconds)')
  t.equal(explicit.credential.validUntil, '2029-01-31T12:00:00Z')
  t.equal(explicit.credential.awardedDate, '2014-06-01T00:00:00Z')

  const endOfMonth = await issue(app, { achievementId: cma.id, recipient: { name: 'Kim', email: 'kim@example.com' }, validFrom: '2024-02-29T00:00:00Z' })
  t.equal(endOfMonth.credential.validUntil, '2029-02-28T00:00:00Z', '60 months after 29 February is the last day of February')

  const forever = await createAchievement(app, { name: 'Volunteer', description: 'Helped.', criteria: { narrative: 'Helped at the annual conference.' } })
  const open = await issue(app, { achievementId: forever.id, recipient: { name: 'Ola', email: 'ola@example.com' } })
  t.notOk('validUntil' in open.credential, 'no validityMonths: no validUntil')
})
