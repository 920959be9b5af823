import Fastify from 'fastify'
import t from 'tap'
import { installErrorHandling } from '../src/infrastructure/http/error-handling.js'
import { build, createAchievement, issue } from './helpers/build-app.js'

// Input that used to reach PostgreSQL, the signer or a recursive walk and come
// back as a 500: each is now a 400 problem naming the field, and nothing is stored.

const PROBLEM = /^application\/problem\+json/
const NUL = '\u0000'
const LONE_HIGH = '\ud800'
const LONE_LOW = '\udc00'

const counts = async (sql: any): Promise<Record<string, number>> => {
  const [row] = await sql`select (select count(*) from achievements)::int as achievements, (select count(*) from credentials)::int as credentials, (select count(*) from audit_events)::int as audit`
  return row
}

t.test('NUL and unpaired surrogates in any stored or signed string are a 400 naming the field', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const before = await counts(app.sql)
  const goodAchievement = { name: 'CMA (AAMA)', description: 'd', criteria: { narrative: 'n' }, image: { id: 'data:image/png;base64,iVBORw0KGgo=', caption: 'c' } }
  const goodIssue = { achievementId: achievement.id, recipient: { name: 'Jane', email: 'jane@example.org' } }
  const cases: Array<[string, string, unknown, string]> = []
  for (const [label, bad] of [['NUL', `a${NUL}b`], ['lone high surrogate', `a${LONE_HIGH}b`], ['lone low surrogate', `${LONE_LOW}b`]] as const) {
    cases.push(
      [`${label} in an achievement name`, '/api/v1/achievements', { ...goodAchievement, name: bad }, '"name"'],
      [`${label} in a description`, '/api/v1/achievements', { ...goodAchievement, description: bad }, '"description"'],
      [`${label} in criteria`, '/api/v1/achievements', { ...goodAchievement, criteria: { narrative: bad } }, '"criteria.narrative"'],
      [`${label} in an image caption`, '/api/v1/achievements', { ...goodAchievement, image: { id: 'data:image/png;base64,iVBORw0KGgo=', caption: bad } }, '"image.caption"'],
      [`${label} in a recipient name`, '/api/v1/credentials', { ...goodIssue, recipient: { name: bad, email: 'jane@example.org' } }, '"recipient.name"'],
      [`${label} in a revocation reason`, `/api/v1/credentials/${issued.id}/revoke`, { reason: bad }, '"reason"']
    )
  }
  for (const [label, url, body, field] of cases) {
    const response = await app.app.inject({ method: 'POST', url, headers: { ...app.auth, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    t.equal(response.statusCode, 400, label)
    t.match(response.headers['content-type'], PROBLEM, label)
    t.equal(response.json().type, 'urn:tessera:problem:validation_failed', label)
    t.match(response.json().detail, field, `${label}: the message names ${field}`)
  }
  t.same(await counts(app.sql), before, 'nothing was stored by any refused request')
  const stillGood = await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${issued.id}`, headers: app.auth })
  t.equal(stillGood.json().revocation, null, 'the credential was not revoked')
  const paired = await app.app.inject({ method: 'POST', url: '/api/v1/achievements', headers: app.auth, payload: { ...goodAchievement, name: 'Badge 🏅 (paired surrogates are fine)' } })
  t.equal(paired.statusCode, 201, 'a real emoji is not a lone surrogate')
})

t.test('dates outside 1900-2200 are a 400, not a 500', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const before = await counts(app.sql)
  for (const [field, value] of [['validFrom', '0000-01-01T00:00:00Z'], ['validFrom', '9999-12-31T00:00:00Z'], ['validUntil', '9999-12-31T23:59:59Z'], ['awardedDate', '1899-12-31T23:59:59Z']] as const) {
    const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: { name: 'Jane', email: 'jane@example.org' }, [field]: value } })
    t.equal(response.statusCode, 400, `${field} ${value}`)
    t.equal(response.json().detail, `"${field}" must be a date between 1900 and 2200.`)
  }
  const at = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: {}, options: { at: '9999-01-01T00:00:00Z' } } })
  t.equal(at.statusCode, 400, 'options.at too')
  t.same(await counts(app.sql), before)
})

t.test('a body nested 10,000 levels deep is a 400 on every JSON route, with no stack overflow', async (t) => {
  const app = await build(t)
  const before = await counts(app.sql)
  const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)
  for (const [url, payload, headers] of [
    ['/credentials/verify', `{"verifiableCredential":{"credentialSubject":${deep}}}`, {}],
    ['/api/v1/credentials', `{"achievementId":"x","recipient":${deep}}`, app.auth],
    ['/api/v1/achievements', `{"name":"n","description":"d","criteria":${deep}}`, app.auth]
  ] as const) {
    const response = await app.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload })
    t.equal(response.statusCode, 400, url)
    t.match(response.json().detail, 'nested more than 64 levels', url)
  }
  t.same(await counts(app.sql), before)
  const empty = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(empty.json().type, 'urn:tessera:problem:malformed_json', 'an empty body is still malformed_json')
  const proto = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'application/json' }, payload: '{"verifiableCredential":{},"__proto__":{"x":1}}' })
  t.equal(proto.statusCode, 400, '__proto__ is still refused')
})

t.test('an unmapped client error keeps its status and gets a matching problem type', async (t) => {
  const app = Fastify({ logger: false })
  installErrorHandling(app)
  const fail = (statusCode: number) => async () => { throw Object.assign(new Error(`status ${statusCode}`), { statusCode }) }
  app.get('/429', fail(429))
  app.get('/405', fail(405))
  app.get('/418', fail(418))
  app.get('/408', fail(408))
  t.teardown(async () => { await app.close() })
  for (const [status, code] of [[429, 'too_many_requests'], [405, 'method_not_allowed'], [408, 'request_timeout'], [418, 'client_error']] as const) {
    const response = await app.inject({ method: 'GET', url: `/${status}` })
    t.equal(response.statusCode, status, `${status} stays ${status}`)
    t.match(response.headers['content-type'], PROBLEM)
    t.equal(response.json().type, `urn:tessera:problem:${code}`)
    t.equal(response.json().status, status, 'the body says the same status')
  }
})
