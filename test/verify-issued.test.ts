import t, { type Test } from 'tap'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { signDataIntegrity } from '../src/infrastructure/signing/sign.js'
import { build, createAchievement, issue, type TestApp } from './helpers/build-app.js'

const NOW = new Date('2026-11-24T12:00:00Z')

async function verify (app: TestApp, verifiableCredential: unknown, options?: Record<string, unknown>) {
  const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential, ...(options !== undefined ? { options } : {}) } as object })
  return { statusCode: response.statusCode, body: response.json() }
}

const checkResult = (body: any, id: string): string => body.checks.find((c: { id: string }) => c.id === id)?.result

async function setup (t: Test) {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const issued = await issue(app, {
    achievementId: achievement.id,
    recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' },
    validFrom: '2026-03-31T00:00:00Z'
  })
  return { app, issued }
}

t.test('a freshly issued credential is valid in both forms', async (t) => {
  const { app, issued } = await setup(t)
  for (const [form, vc] of [['JSON-LD', issued.credential], ['VC-JWT', issued.jwt], ['enveloped', { '@context': ['https://www.w3.org/ns/credentials/v2'], type: 'EnvelopedVerifiableCredential', id: `data:application/vc+jwt,${issued.jwt}` }]] as const) {
    const { statusCode, body } = await verify(app, vc)
    t.equal(statusCode, 200, form)
    t.equal(body.status, 'valid', form)
    t.equal(body.verified, true, form)
    t.equal(body.expired, false)
    t.equal(body.revoked, false)
    t.same(body.errors, [])
    t.notOk('notice' in body && body.notice !== undefined, `${form}: no notice when valid`)
    for (const id of ['format', 'schema', 'proof', 'key_binding', 'validity_period', 'status']) {
      t.equal(checkResult(body, id), 'passed', `${form}: ${id} passed`)
    }
    t.equal(body.credential.id, issued.url)
    t.equal(body.credential.achievement.name, 'CMA (AAMA)')
    t.equal(body.credential.recipient.name, 'Jane Q. Assistant')
    t.equal(body.credential.validUntil, '2031-03-31T00:00:00Z')
  }
  const page = await app.app.inject({ method: 'GET', url: `${new URL(issued.url).pathname}/verification` })
  t.equal(page.statusCode, 200)
  t.equal(page.json().status, 'valid')
})

t.test('changing one character anywhere makes it invalid with the proof check failed', async (t) => {
  const { app, issued } = await setup(t)
  const tamperedName = structuredClone(issued.credential)
  tamperedName.credentialSubject.name = 'Jane Q. Assistanu'
  const tamperedDate = structuredClone(issued.credential)
  tamperedDate.validUntil = '2041-03-31T00:00:00Z'
  for (const [label, vc] of [['name', tamperedName], ['validUntil', tamperedDate]] as const) {
    const { statusCode, body } = await verify(app, vc)
    t.equal(statusCode, 422, label)
    t.equal(body.status, 'invalid', label)
    t.equal(body.verified, false)
    t.equal(checkResult(body, 'proof'), 'failed', `${label}: proof failed`)
    t.ok(body.notice, 'a notice explains it')
    t.ok(body.errors.length > 0, 'errors are listed')
  }
  const [header, payload, signature] = issued.jwt.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
  claims.credentialSubject.name = 'Someone Else'
  const forgedJwt = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`
  const jwtResult = await verify(app, forgedJwt)
  t.equal(jwtResult.statusCode, 422)
  t.equal(jwtResult.body.status, 'invalid')
  t.equal(checkResult(jwtResult.body, 'proof'), 'failed')
  const flipped = issued.jwt.slice(0, -2) + (issued.jwt.endsWith('AA') ? 'BB' : 'AA')
  t.equal((await verify(app, flipped)).body.status, 'invalid', 'a changed signature character is invalid')
})

t.test('options.at outside the validity period gives expired or not_yet_valid', async (t) => {
  const { app, issued } = await setup(t)
  for (const vc of [issued.credential, issued.jwt]) {
    const expired = await verify(app, vc, { at: '2031-04-02T00:00:00Z' })
    t.equal(expired.statusCode, 422)
    t.equal(expired.body.status, 'expired')
    t.equal(expired.body.expired, true)
    t.equal(checkResult(expired.body, 'proof'), 'passed', 'genuine, only expired')
    t.equal(checkResult(expired.body, 'validity_period'), 'failed')
    t.match(expired.body.notice, 'This CMA (AAMA) certification expired on 31 March 2031.')

    const early = await verify(app, vc, { at: '2026-01-01T00:00:00Z' })
    t.equal(early.statusCode, 422)
    t.equal(early.body.status, 'not_yet_valid')
    t.equal(early.body.expired, false)

    const during = await verify(app, vc, { at: '2029-06-01T00:00:00Z' })
    t.equal(during.statusCode, 200)
    t.equal(during.body.status, 'valid')
  }
})

t.test('a revoked credential is revoked in both forms, even when asked about a past moment', async (t) => {
  const { app, issued } = await setup(t)
  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'Exam result annulled' } })
  for (const vc of [issued.credential, issued.jwt]) {
    const { statusCode, body } = await verify(app, vc)
    t.equal(statusCode, 422)
    t.equal(body.status, 'revoked')
    t.equal(body.revoked, true)
    t.equal(checkResult(body, 'status'), 'failed')
    t.equal(checkResult(body, 'proof'), 'passed')
    t.match(body.notice, /revoked/)
    t.notMatch(body.notice, /annulled/, 'the private reason is not published')
    const past = await verify(app, vc, { at: '2027-01-01T00:00:00Z' })
    t.equal(past.body.status, 'revoked', 'revoked before that moment')
    const both = await verify(app, vc, { at: '2032-01-01T00:00:00Z' })
    t.equal(both.body.status, 'revoked', 'revoked outranks expired')
    t.equal(both.body.expired, true)
    t.equal(both.body.revoked, true)
  }
  const page = await app.app.inject({ method: 'GET', url: `${new URL(issued.url).pathname}/verification` })
  t.equal(page.statusCode, 200, 'the status page is always 200')
  t.equal(page.json().status, 'revoked')
})

t.test('a credential naming this issuer but signed with another key is invalid', async (t) => {
  const { app, issued } = await setup(t)
  const intruder = await Ed25519Multikey.generate()
  const issuerId = issued.credential.issuer.id as string
  const verificationMethod = `${issuerId}#${intruder.publicKeyMultibase}`
  const intruderKey = await Ed25519Multikey.from({ ...(await intruder.export({ publicKey: true, secretKey: true })), id: verificationMethod, controller: issuerId })
  const { proof: _proof, ...unsigned } = issued.credential
  const forged = await signDataIntegrity({ ...unsigned, id: issued.url } as any, { keyId: 'x', verificationMethod, keyPair: intruderKey }, NOW)
  const { statusCode, body } = await verify(app, forged)
  t.equal(statusCode, 422)
  t.equal(body.status, 'invalid')
  t.equal(checkResult(body, 'key_binding'), 'failed')
})

t.test('malformed verify requests get a 4xx problem', async (t) => {
  const { app } = await setup(t)
  const cases: Array<[string, string, number]> = [
    ['not JSON', '{"verifiableCredential": ', 400],
    ['a JSON array', '[{"verifiableCredential": {}}]', 400],
    ['no credential', '{}', 400],
    ['a number', '{"verifiableCredential": 42}', 400],
    ['a truncated JWT', '{"verifiableCredential": "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0"}', 400],
    ['bad options.at', '{"verifiableCredential": {}, "options": {"at": "soon"}}', 400],
    ['an unknown option', '{"verifiableCredential": {}, "options": {"strict": true}}', 400],
    ['a 5 MB body', JSON.stringify({ verifiableCredential: { pad: 'x'.repeat(5 * 1024 * 1024) } }), 413]
  ]
  for (const [label, payload, status] of cases) {
    const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'application/json' }, payload })
    t.equal(response.statusCode, status, label)
    t.match(response.headers['content-type'], /^application\/problem\+json/, label)
    t.ok(response.json().detail, `${label}: a human message`)
  }
  const empty = await verify(app, {})
  t.equal(empty.statusCode, 422, 'an empty object is examined and found invalid')
  t.equal(empty.body.status, 'invalid')
  t.equal(checkResult(empty.body, 'format'), 'failed')
})
