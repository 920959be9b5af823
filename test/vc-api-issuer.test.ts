import t from 'tap'
import { ADMIN_KEY, BASE_URL, build, createAchievement, type TestApp } from './helpers/build-app.js'
import { assertIndependentlyValid } from './helpers/independent-checks.js'

/**
 * The W3C VC API issuer routes for staff systems: POST /credentials/issue
 * (an unsigned OpenBadgeCredential, or the service's own issue request) and
 * POST /credentials/status (revocation through the status list), on a real
 * database with real signatures, checked by the service's verifier and by
 * the independent checks.
 */

const NOW = new Date('2026-12-05T08:00:00Z')
const OB_CONTEXTS = ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json']

function openBadge (achievementUrl: string, recipient: { name: string, email: string }, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    '@context': OB_CONTEXTS,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    validFrom: '2026-12-04T00:00:00Z',
    credentialSubject: {
      type: ['AchievementSubject'],
      name: recipient.name,
      identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: false, identityHash: recipient.email }],
      achievement: { id: achievementUrl }
    },
    ...extra
  }
}

async function makeKey (app: TestApp, scopes: string[]): Promise<string> {
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: `VC API ${scopes.join(' ')}`, scopes } })
  if (response.statusCode !== 201) throw new Error(response.body)
  return response.json().key
}

const bearer = (key: string): { authorization: string } => ({ authorization: `Bearer ${key}` })

async function post (app: TestApp, url: string, payload: unknown, key = ADMIN_KEY, headers: Record<string, string> = {}): Promise<{ statusCode: number, headers: Record<string, unknown>, body: string, json: () => any }> {
  return await app.app.inject({ method: 'POST', url, headers: { ...bearer(key), ...headers }, payload: payload as Record<string, unknown> })
}

async function verify (app: TestApp, credential: unknown): Promise<Record<string, any>> {
  return (await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })).json()
}

async function jwtOf (app: TestApp, url: string): Promise<string> {
  const response = await app.app.inject({ method: 'GET', url: url.slice(BASE_URL.length), headers: { accept: 'application/vc+jwt' } })
  if (response.statusCode !== 200) throw new Error(response.body)
  return response.body
}

t.test('an unsigned OpenBadgeCredential is issued through the service, verifies, and is the service\'s own credential', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const issuer = await makeKey(app, ['credentials:issue'])
  const response = await post(app, '/credentials/issue', { credential: openBadge(achievement.url, { name: 'Ana Ruiz', email: 'Ana@Example.com' }), options: { notify: false } }, issuer)
  t.equal(response.statusCode, 201, response.body)
  t.match(response.headers['content-type'], /^application\/json/)
  const { verifiableCredential: vc } = response.json()
  t.same(Object.keys(response.json()), ['verifiableCredential'], 'IssueCredentialResponse: the credential alone')
  t.equal(response.headers.location, vc.id, 'Location: the credential\'s URL')
  t.match(vc.id, new RegExp(`^${BASE_URL}/credentials/[A-Za-z0-9_-]+$`))
  t.match(vc.credentialSubject.id, /^urn:uuid:[0-9a-f-]{36}$/, 'the subject has the holder\'s urn:uuid')
  t.equal(vc.credentialSubject.name, 'Ana Ruiz')
  t.equal(vc.credentialSubject.achievement.id, achievement.url)
  t.equal(vc.credentialSubject.identifier[0].hashed, true, 'the email is signed hashed and salted')
  t.notMatch(JSON.stringify(vc), /ana@example\.com/i, 'never in the clear')
  t.equal(vc.validFrom, '2026-12-04T00:00:00Z')
  t.equal(vc.validUntil, '2031-12-04T00:00:00Z', 'the achievement\'s validity, as the service issues it')
  t.equal([vc.proof].flat()[0].cryptosuite, 'eddsa-rdfc-2022', 'a Data Integrity proof')
  t.equal(vc.credentialStatus.type, 'BitstringStatusListEntry')

  t.equal((await verify(app, vc)).status, 'valid', 'the service\'s verifier: valid')
  await assertIndependentlyValid(t, app, vc, await jwtOf(app, vc.id), NOW)

  // The service's own record: stored, audited, announced, the key named as the actor.
  const id = vc.id.split('/').pop()
  const record = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${id as string}`, headers: app.auth })).json()
  t.equal(record.recipientEmail, 'ana@example.com')
  t.same(record.credential, vc, 'the stored version is the one returned')
  const [audit] = await app.sql<Array<{ actor: string }>>`select actor from audit_events where action = 'credential.issued' and subject_id = ${id as string}`
  t.ok(audit !== undefined && audit.actor !== 'bootstrap', 'audited, under the scoped key')
})

t.test('the service\'s own issue request is taken as `credential`; the duplicate rule and Idempotency-Key apply', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const body = { credential: { achievementId: achievement.id, recipient: { name: 'Bo Lin', email: 'bo@example.com' }, validFrom: '2026-12-01' }, options: { notify: false, certificateNumber: 'CMA-42' } }
  const response = await post(app, '/credentials/issue', body, ADMIN_KEY, { 'idempotency-key': 'vc-api-1' })
  t.equal(response.statusCode, 201, response.body)
  const vc = response.json().verifiableCredential
  t.equal(vc.validFrom, '2026-12-01T00:00:00Z', 'a date alone is the start of that day, as /api/v1/credentials has it')
  t.match(vc.credentialSubject.id, /^urn:uuid:/)
  t.equal((await verify(app, vc)).status, 'valid')
  await assertIndependentlyValid(t, app, vc, await jwtOf(app, vc.id), NOW)
  const record = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${vc.id.split('/').pop() as string}`, headers: app.auth })).json()
  t.equal(record.certificateNumber, 'CMA-42', 'options.certificateNumber is kept')

  const retried = await post(app, '/credentials/issue', body, ADMIN_KEY, { 'idempotency-key': 'vc-api-1' })
  t.equal(retried.statusCode, 201, 'the retry is answered from the first')
  t.equal(retried.json().verifiableCredential.id, vc.id, 'the same credential, not a second one')
  const duplicate = await post(app, '/credentials/issue', body)
  t.equal(duplicate.statusCode, 409)
  t.equal(duplicate.json().type, 'urn:tessera:problem:duplicate_credential')
  t.equal(duplicate.json().existing.url, vc.id)

  const sameHolder = await post(app, '/credentials/issue', { credential: openBadge(achievement.url, { name: 'Bo Lin', email: 'bo@example.com' }) })
  t.equal(sameHolder.statusCode, 409, 'the Open Badges shape meets the same rule')
})

t.test('a key without credentials:issue is refused, as is no key', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const reader = await makeKey(app, ['credentials:read', 'credentials:revoke'])
  const body = { credential: openBadge(achievement.url, { name: 'Cy Park', email: 'cy@example.com' }) }
  const refused = await post(app, '/credentials/issue', body, reader)
  t.equal(refused.statusCode, 403)
  t.match(refused.headers['content-type'], /^application\/problem\+json/)
  t.equal(refused.json().type, 'urn:tessera:problem:forbidden')
  t.match(refused.json().detail, /"credentials:issue"/)
  const anonymous = await app.app.inject({ method: 'POST', url: '/credentials/issue', payload: body })
  t.equal(anonymous.statusCode, 401)
  t.match(anonymous.headers['www-authenticate'], /^Bearer/)
  const revokedKey = await makeKey(app, ['credentials:issue', 'credentials:revoke'])
  await app.app.inject({ method: 'POST', url: `/api/v1/api-keys/${revokedKey.split('_')[1] as string}/revoke`, headers: app.auth })
  for (const [url, payload] of [['/credentials/issue', body], ['/credentials/status', { credentialId: 'AAAAAAAAAAAA', credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] }]] as const) {
    const revoked = await post(app, url, payload, revokedKey)
    t.equal(revoked.statusCode, 401, `${url}: a revoked key`)
    t.match(revoked.json().detail, /was revoked on/)
  }
  const [count] = await app.sql<Array<{ n: number }>>`select count(*)::int as n from credentials`
  t.equal(count!.n, 0, 'nothing was issued')
})

t.test('what the service would not sign as sent is refused with a problem naming the field, never a 500', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const other = await createAchievement(app, { name: 'Other', description: 'Another achievement.', criteria: { narrative: 'n' } })
  const achievementDoc = (await app.app.inject({ method: 'GET', url: `/achievements/${achievement.id}`, headers: { accept: 'application/ld+json' } })).json()
  const recipient = { name: 'Di Park', email: 'di@example.com' }
  const ob = (extra: Record<string, unknown> = {}): Record<string, any> => openBadge(achievement.url, recipient, extra)
  const subject = (change: Record<string, unknown>): Record<string, any> => { const c = ob(); c.credentialSubject = { ...c.credentialSubject, ...change }; return c }
  const issuerId = achievementDoc.creator.id as string

  const cases: Array<[string, unknown, number, string, RegExp]> = [
    ['no body', undefined, 400, 'malformed_json', /empty/],
    ['no credential', { options: {} }, 400, 'validation_failed', /credential/],
    ['a credential that is not an object', { credential: 'x' }, 400, 'validation_failed', /credential/],
    ['an id', { credential: ob({ id: 'urn:uuid:0b7e4e8a-1d68-4b8e-9d1f-5c6f0d5d2a11' }) }, 400, 'validation_failed', /"credential\.id".*Idempotency-Key/],
    ['a different issuer', { credential: ob({ issuer: 'did:example:someone-else' }) }, 400, 'validation_failed', /"credential\.issuer" must be the achievement's issuer/],
    ['a different issuer name', { credential: ob({ issuer: { id: issuerId, type: ['Profile'], name: 'Someone Else' } }) }, 400, 'validation_failed', /"credential\.issuer\.name" differs/],
    ['a credentialStatus', { credential: ob({ credentialStatus: { type: 'BitstringStatusListEntry' } }) }, 400, 'validation_failed', /credentialStatus/],
    ['a proof', { credential: ob({ proof: { type: 'DataIntegrityProof' } }) }, 400, 'validation_failed', /proof/],
    ['evidence', { credential: ob({ evidence: [] }) }, 400, 'validation_failed', /evidence/],
    ['a foreign context', { credential: ob({ '@context': [...OB_CONTEXTS, 'https://example.org/my-context'] }) }, 400, 'validation_failed', /@context/],
    ['contexts out of order', { credential: ob({ '@context': [...OB_CONTEXTS].reverse() }) }, 400, 'validation_failed', /"credential\.@context"/],
    ['a type the service does not sign', { credential: ob({ type: ['VerifiableCredential', 'OpenBadgeCredential', 'DegreeCredential'] }) }, 400, 'validation_failed', /"credential\.type".*"DegreeCredential"/],
    ['no OpenBadgeCredential type', { credential: ob({ type: ['VerifiableCredential'] }) }, 400, 'validation_failed', /"credential\.type"/],
    ['a name other than the achievement\'s', { credential: ob({ name: 'Something else' }) }, 400, 'validation_failed', /"credential\.name" must be the achievement's name/],
    ['a subject id', { credential: subject({ id: 'did:example:holder' }) }, 400, 'validation_failed', /"credential\.credentialSubject\.id"/],
    ['a hashed identifier', { credential: subject({ identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, identityHash: 'sha256$00', salt: 'x' }] }) }, 400, 'validation_failed', /identifier/],
    ['a phone identifier', { credential: subject({ identifier: [{ type: 'IdentityObject', identityType: 'phone', hashed: false, identityHash: '+15555550100' }] }) }, 400, 'validation_failed', /identityType/],
    ['no recipient name', { credential: subject({ name: undefined }) }, 400, 'validation_failed', /name/],
    ['an achievement property that differs', { credential: subject({ achievement: { ...achievementDoc, '@context': undefined, name: 'Renamed' } }) }, 400, 'validation_failed', /"credential\.credentialSubject\.achievement\.name" differs/],
    ['an achievement property the service does not sign', { credential: subject({ achievement: { id: achievement.url, alignment: [] } }) }, 400, 'validation_failed', /"credential\.credentialSubject\.achievement\.alignment" is not part/],
    ['another service\'s achievement', { credential: subject({ achievement: { id: 'https://elsewhere.example/achievements/abc' } }) }, 422, 'unknown_achievement', /"credential\.credentialSubject\.achievement\.id"/],
    ['no such achievement', { credential: subject({ achievement: { id: `${BASE_URL}/achievements/AAAAAAAAAAAA` } }) }, 422, 'unknown_achievement', /names no achievement/],
    ['a credential URL as achievement', { credential: subject({ achievement: { id: `${BASE_URL}/credentials/AAAAAAAAAAAA` } }) }, 422, 'unknown_achievement', /achievement/],
    ['fractions of a second', { credential: ob({ validFrom: '2026-12-04T00:00:00.5Z' }) }, 400, 'validation_failed', /"credential\.validFrom" must be a whole second/],
    ['a date without a time', { credential: ob({ validFrom: '2026-12-04' }) }, 400, 'validation_failed', /validFrom/],
    ['validUntil before validFrom', { credential: ob({ validUntil: '2026-01-01T00:00:00Z' }) }, 422, 'invalid_validity_period', /validUntil/],
    ['options.credentialId', { credential: ob(), options: { credentialId: 'urn:uuid:1' } }, 400, 'validation_failed', /"options\.credentialId" is not supported/],
    ['options.mandatoryPointers', { credential: ob(), options: { mandatoryPointers: ['/issuer'] } }, 400, 'validation_failed', /"options\.mandatoryPointers" is not supported/],
    ['an unknown option', { credential: ob(), options: { format: 'jwt' } }, 400, 'validation_failed', /format/],
    ['the service\'s request with an unknown field', { credential: { achievementId: achievement.id, recipient, colour: 'blue' } }, 400, 'validation_failed', /colour/],
    ['the service\'s request for an unknown achievement', { credential: { achievementId: 'AAAAAAAAAAAA', recipient } }, 422, 'unknown_achievement', /achievementId/]
  ]
  for (const [name, payload, status, code, detail] of cases) {
    const response = await app.app.inject({ method: 'POST', url: '/credentials/issue', headers: { ...app.auth, ...(payload === undefined ? { 'content-type': 'application/json' } : {}) }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) })
    t.equal(response.statusCode, status, `${name}: ${status} (${response.body.slice(0, 300)})`)
    t.match(response.headers['content-type'], /^application\/problem\+json/, `${name}: a problem`)
    t.equal(response.json().type, `urn:tessera:problem:${code}`, `${name}: ${code}`)
    t.match(response.json().detail, detail, `${name}: the detail names it`)
  }
  const problem = (await post(app, '/credentials/issue', { credential: ob({ issuer: 'did:example:x' }) })).json()
  t.same(problem.errors, [{ in: 'body', path: '/credential/issuer', message: problem.detail }], 'errors[].path is the field, as a JSON Pointer')

  // What the service signs, sent as published, is accepted: the issuer Profile and the whole Achievement.
  const { '@context': _context, ...published } = achievementDoc
  const asPublished = openBadge(achievement.url, recipient, { name: achievementDoc.name, issuer: achievementDoc.creator, awardedDate: '2026-11-30T00:00:00Z', validUntil: '2027-12-04T00:00:00Z', '@context': [...OB_CONTEXTS, 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'] })
  asPublished.credentialSubject.achievement = { ...published, type: 'Achievement' }
  const full = await post(app, '/credentials/issue', { credential: asPublished })
  t.equal(full.statusCode, 201, full.body)
  const vc = full.json().verifiableCredential
  t.equal(vc.awardedDate, '2026-11-30T00:00:00Z')
  t.equal(vc.validUntil, '2027-12-04T00:00:00Z')
  t.same(vc.issuer, achievementDoc.creator)
  t.equal((await verify(app, vc)).status, 'valid')
  const [count] = await app.sql<Array<{ n: number }>>`select count(*)::int as n from credentials`
  t.equal(count!.n, 1, 'only the accepted request issued anything')
  t.ok(other.id !== achievement.id)
})

t.test('POST /credentials/status revokes through the status list; it cannot un-revoke; scope and input are checked', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const issueOne = async (name: string, email: string): Promise<Record<string, any>> => (await post(app, '/credentials/issue', { credential: openBadge(achievement.url, { name, email }), options: { notify: false } })).json().verifiableCredential
  const first = await issueOne('Ed Wu', 'ed@example.com')
  const second = await issueOne('Fay Ng', 'fay@example.com')
  const third = await issueOne('Gil Ro', 'gil@example.com')
  t.equal((await verify(app, first)).status, 'valid')

  const issuerOnly = await makeKey(app, ['credentials:issue', 'credentials:read'])
  const revoker = await makeKey(app, ['credentials:revoke'])
  const forbidden = await post(app, '/credentials/status', { credentialId: first.id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] }, issuerOnly)
  t.equal(forbidden.statusCode, 403)
  t.match(forbidden.json().detail, /"credentials:revoke"/)
  t.equal((await verify(app, first)).status, 'valid', 'nothing changed')

  // The CCG draft's shape, by URL.
  const revoked = await post(app, '/credentials/status', { credentialId: first.id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] }, revoker)
  t.equal(revoked.statusCode, 200, revoked.body)
  t.match(revoked.json(), { credentialId: first.id, changed: true, revokedAt: NOW.toISOString(), credentialStatus: [{ id: first.credentialStatus.id, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', status: true }] })
  const result = await verify(app, first)
  t.equal(result.status, 'revoked', 'the verifier sees it revoked')
  t.equal(result.revoked, true)
  const [audit] = await app.sql<Array<{ reason: string }>>`select reason from audit_events where action = 'credential.revoked' and subject_id = ${first.id.split('/').pop() as string}`
  t.match(audit?.reason, /W3C VC API/, 'audited with the default reason')

  const again = await post(app, '/credentials/status', { credentialId: first.id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: '1' }] }, revoker)
  t.equal(again.statusCode, 200)
  t.equal(again.json().changed, false, 'revoking again changes nothing')

  const unrevoke = await post(app, '/credentials/status', { credentialId: first.id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: false }] }, revoker)
  t.equal(unrevoke.statusCode, 409)
  t.equal(unrevoke.json().type, 'urn:tessera:problem:credential_revoked')
  t.match(unrevoke.json().detail, /revocation is permanent/)

  // VCALM's shape, by short id, with a reason and the entry named.
  const secondId = second.id.split('/').pop() as string
  const notRevoked = await post(app, '/credentials/status', { credentialId: secondId, credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation' }, status: false }, revoker)
  t.equal(notRevoked.statusCode, 200, 'false of a live credential: already so')
  t.match(notRevoked.json(), { changed: false, revokedAt: null, credentialStatus: [{ status: false }] })
  const byId = await post(app, '/credentials/status', { credentialId: secondId, credentialStatus: { type: 'BitstringStatusList', statusPurpose: 'revocation', statusListCredential: second.credentialStatus.statusListCredential, statusListIndex: second.credentialStatus.statusListIndex }, status: true, reason: 'Exam result annulled' }, revoker)
  t.equal(byId.statusCode, 200, byId.body)
  t.equal(byId.json().credentialId, second.id)
  t.equal((await verify(app, second)).status, 'revoked')
  t.equal((await verify(app, third)).status, 'valid', 'the others stay valid')

  const thirdId = third.id.split('/').pop() as string
  const bad: Array<[string, unknown, number, RegExp]> = [
    ['no status', { credentialId: thirdId, credentialStatus: [{ type: 'BitstringStatusListEntry' }] }, 400, /"credentialStatus\.0\.status" is required/],
    ['contradicting statuses', { credentialId: thirdId, credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }], status: false }, 400, /contradicts/],
    ['suspension', { credentialId: thirdId, credentialStatus: [{ type: 'BitstringStatusListEntry', statusPurpose: 'suspension', status: true }] }, 400, /statusPurpose/],
    ['another status type', { credentialId: thirdId, credentialStatus: [{ type: 'RevocationList2020Status', status: '1' }] }, 400, /type/],
    ['a status word', { credentialId: thirdId, credentialStatus: [{ type: 'BitstringStatusListEntry', status: 'revoked' }] }, 400, /status/],
    ['another entry', { credentialId: thirdId, credentialStatus: [{ type: 'BitstringStatusListEntry', status: true, statusListIndex: '-1' }] }, 400, /"credentialStatus\.0\.statusListIndex" is not this credential's status entry/],
    ['no credentialId', { credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] }, 400, /credentialId/],
    ['two entries', { credentialId: thirdId, credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }, { type: 'BitstringStatusListEntry', status: true }] }, 400, /credentialStatus/],
    ['another service\'s credential', { credentialId: 'https://elsewhere.example/credentials/abc', credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] }, 404, /"credentialId" names no credential/],
    ['no such credential', { credentialId: 'AAAAAAAAAAAA', credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] }, 404, /was not found/]
  ]
  for (const [name, payload, status, detail] of bad) {
    const response = await post(app, '/credentials/status', payload, revoker)
    t.equal(response.statusCode, status, `${name}: ${status} (${response.body.slice(0, 300)})`)
    t.match(response.headers['content-type'], /^application\/problem\+json/, `${name}: a problem`)
    t.match(response.json().detail, detail, `${name}: the detail says why`)
  }
  t.equal((await verify(app, third)).status, 'valid', 'no refused request changed anything')
})

t.test('both routes are in the OpenAPI document under the VC API tag, with their scopes', async (t) => {
  const app = await build(t)
  const doc = (await app.app.inject({ method: 'GET', url: '/openapi.json' })).json()
  for (const [path, scope] of [['/credentials/issue', 'credentials:issue'], ['/credentials/status', 'credentials:revoke']] as const) {
    const operation = doc.paths[path]?.post
    t.ok(operation, `${path} documented`)
    t.same(operation.tags, ['W3C VC API issuer'])
    t.equal(operation['x-scope'], scope)
    t.same(operation.security, [{ bearer: [] }])
    t.ok(operation.requestBody.content['application/json'].schema, `${path}: request schema`)
  }
  t.ok(doc.paths['/credentials/issue'].post.responses['201'].content['application/json'].schema.properties.verifiableCredential, 'IssueCredentialResponse')
})
