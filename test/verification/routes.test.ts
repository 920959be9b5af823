import { readFileSync } from 'node:fs'
import t from 'tap'
import { build, createAchievement, issue } from '../helpers/build-app.js'

// The verify routes on the real app (real PostgreSQL, the app's own validator
// and error handling), fed the 1EdTech reference examples. Malformed-request
// cases on our own credentials live in test/verify-issued.test.ts.
const EXAMPLES = new URL('../fixtures/ob3/examples/', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, EXAMPLES), 'utf8')
const now = new Date('2026-07-01T12:00:00Z')
// The deployment trusts the example issuers, whose keys are self-asserted.
const env = { TRUSTED_ISSUERS: 'https://example.com/issuers/876543,https://1edtech.edu/issuers/565049' }

t.test('POST /credentials/verify answers 200 with the result document for a valid credential', async (t) => {
  const { app } = await build(t, { clock: () => now, env })
  const res = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: JSON.parse(read('valid/validator/simple.json')) } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.verified, true)
  t.equal(body.status, 'valid')
  t.equal(body.checkedAt, now.toISOString())
})

t.test('POST /credentials/verify answers 422 unverified_issuer for a genuine credential whose issuer is not trusted', async (t) => {
  const { app } = await build(t, { clock: () => now })
  const res = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: JSON.parse(read('valid/validator/simple.json')) } })
  t.equal(res.statusCode, 422)
  t.match(res.json(), { verified: false, status: 'unverified_issuer' })
})

t.test('options.checks, challenge and domain as W3C VC API clients send them are accepted and echoed', async (t) => {
  const { app } = await build(t, { clock: () => now, env })
  const payload = { verifiableCredential: JSON.parse(read('valid/validator/simple.json')), options: { checks: ['proof', 'credentialStatus'], challenge: 'c-123', domain: 'example.org' } }
  const res = await app.inject({ method: 'POST', url: '/credentials/verify', payload })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(body.options, { checks: ['proof', 'credentialStatus'], challenge: 'c-123', domain: 'example.org' })
  t.same(body.checks.map((c: { id: string }) => c.id), ['format', 'schema', 'proof', 'signed_data', 'key_binding', 'validity_period', 'status'], 'every check ran, the asked ones included')
  t.match(body.warnings.join(' '), '"challenge" and "domain"')
  const bad = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { ...payload, options: { checks: ['telepathy'] } } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().detail, '"telepathy"')
})

t.test('POST /credentials/verify answers 422 with the same document for an expired credential', async (t) => {
  const { app } = await build(t, { clock: () => now, env })
  const res = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: JSON.parse(read('invalid/simple-err-expired.json')) } })
  t.equal(res.statusCode, 422)
  t.match(res.json(), { verified: false, status: 'expired', expired: true, notice: 'This Teamwork badge expired on 1 January 2010.' })
})

t.test('options.at moves the validity evaluation time (its validity period is the single instant 2010-01-01)', async (t) => {
  const { app } = await build(t, { clock: () => now, env })
  const res = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: JSON.parse(read('invalid/simple-err-expired.json')), options: { at: '2010-01-01T00:00:00Z' } } })
  t.equal(res.statusCode, 200)
})

t.test('a compact JWT string is verified; a tampered one with three parts is a 422', async (t) => {
  const { app } = await build(t, { clock: () => now, env })
  const good = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: read('valid/jwt/simple-vcdm2-rs256-jwk.jwt').trim() } })
  t.equal(good.statusCode, 200)
  const bad = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: read('derived/tampered-payload-vcdm2-rs256.jwt').trim() } })
  t.equal(bad.statusCode, 422)
  t.equal(bad.json().status, 'invalid')
})

t.test('malformed requests are 400 problem documents that say what is wrong', async (t) => {
  const { app } = await build(t, { clock: () => now, env })
  const jwt = read('valid/jwt/simple-vcdm2-rs256-jwk.jwt').trim()
  const cases: Array<[string, string]> = [
    ['an unknown field', JSON.stringify({ verifiableCredential: {}, extra: 1 })],
    ['a truncated JWT', JSON.stringify({ verifiableCredential: jwt.split('.').slice(0, 2).join('.') })],
    ['a bad options.at', JSON.stringify({ verifiableCredential: jwt, options: { at: 'yesterday' } })]
  ]
  for (const [what, payload] of cases) {
    const res = await app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 400, what)
    t.match(res.headers['content-type'], 'application/problem+json', what)
  }
  const truncated = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: jwt.split('.').slice(0, 2).join('.') } })
  t.match(truncated.json().detail, '"verifiableCredential" must be')
})

t.test('GET /credentials/:id/verification verifies the stored document and is 200 even when not valid', async (t) => {
  let clock = new Date('2026-07-01T12:00:00Z')
  const app = await build(t, { clock: () => clock })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jo', email: 'jo@example.com' }, validFrom: '2021-01-01T00:00:00Z', validUntil: '2026-01-01T00:00:00Z' })
  const res = await app.app.inject({ method: 'GET', url: `/credentials/${issued.id}/verification` })
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 'expired')
  t.match(res.json().notice, 'expired on 1 January 2026')
  clock = new Date('2025-06-01T00:00:00Z')
  t.equal((await app.app.inject({ method: 'GET', url: `/credentials/${issued.id}/verification` })).json().status, 'valid', 'the same document is valid while in its period')
  const missing = await app.app.inject({ method: 'GET', url: '/credentials/nope/verification' })
  t.equal(missing.statusCode, 404)
  t.match(missing.headers['content-type'], 'application/problem+json')
})
