import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Sql } from 'postgres'
import t, { type Test } from 'tap'
import { installErrorHandling } from '../../src/errors.js'
import { publicUrls } from '../../src/public-urls.js'
import { verificationRoutes } from '../../src/verification/routes.js'

const EXAMPLES = new URL('../../../shared/spec/examples/', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, EXAMPLES), 'utf8')
const now = new Date('2026-07-01T12:00:00Z')

/**
 * The routes on a bare Fastify with the app's error handling. `sql` is a
 * stand-in that answers the one query the stored-credential route makes;
 * foreign credentials never reach the database.
 */
async function build (t: Test, stored: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } } })
  const sql = (async (_strings: TemplateStringsArray, id: string) => stored[id] === undefined ? [] : [{ document: stored[id] }]) as unknown as Sql
  app.decorate('sql', sql)
  app.decorate('urls', publicUrls('https://badges.test.example'))
  app.decorate('clock', () => now)
  installErrorHandling(app)
  await app.register(verificationRoutes)
  t.teardown(async () => await app.close())
  return app
}

t.test('POST /credentials/verify answers 200 with the result document for a valid credential', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: JSON.parse(read('valid/validator/simple.json')) } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.verified, true)
  t.equal(body.status, 'valid')
  t.equal(body.checkedAt, now.toISOString())
})

t.test('POST /credentials/verify answers 422 with the same document for an expired credential', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: JSON.parse(read('invalid/simple-err-expired.json')) } })
  t.equal(res.statusCode, 422)
  t.match(res.json(), { verified: false, status: 'expired', expired: true, notice: 'This Teamwork badge expired on 1 January 2010.' })
})

t.test('options.at moves the validity evaluation time (its validity period is the single instant 2010-01-01)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: JSON.parse(read('invalid/simple-err-expired.json')), options: { at: '2010-01-01T00:00:00Z' } } })
  t.equal(res.statusCode, 200)
})

t.test('a compact JWT string is verified; a tampered one with three parts is a 422', async (t) => {
  const app = await build(t)
  const good = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: read('valid/jwt/simple-vcdm2-rs256-jwk.jwt').trim() } })
  t.equal(good.statusCode, 200)
  const bad = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: read('derived/tampered-payload-vcdm2-rs256.jwt').trim() } })
  t.equal(bad.statusCode, 422)
  t.equal(bad.json().status, 'invalid')
})

t.test('malformed requests are 400 problem documents', async (t) => {
  const app = await build(t)
  const jwt = read('valid/jwt/simple-vcdm2-rs256-jwk.jwt').trim()
  const cases: Array<[string, string]> = [
    ['not JSON', '{"verifiableCredential": '],
    ['a JSON array', '[]'],
    ['a missing field', '{}'],
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
  const app = await build(t, { abc: read('invalid/simple-err-expired.json') })
  const res = await app.inject({ method: 'GET', url: '/credentials/abc/verification' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 'expired')
  const missing = await app.inject({ method: 'GET', url: '/credentials/nope/verification' })
  t.equal(missing.statusCode, 404)
  t.match(missing.headers['content-type'], 'application/problem+json')
})
