import t from 'tap'
import { build, createAchievement } from './helpers/build-app.js'

const PROBLEM = /^application\/problem\+json/

t.test('staff routes refuse requests without a valid bearer key', async (t) => {
  const app = await build(t)
  const cases: Array<[string, Record<string, string>]> = [
    ['no header', {}],
    ['wrong scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['wrong key', { authorization: 'Bearer not-the-right-key-0123456789abcdefghijkl' }],
    ['empty bearer', { authorization: 'Bearer ' }]
  ]
  for (const [label, headers] of cases) {
    for (const [method, url] of [['GET', '/api/v1/achievements'], ['POST', '/api/v1/credentials'], ['POST', '/api/v1/credentials/abc/revoke']] as const) {
      const response = await app.app.inject({ method, url, headers, payload: method === 'POST' ? {} : undefined })
      t.equal(response.statusCode, 401, `${label}: ${method} ${url}`)
      t.match(response.headers['content-type'], PROBLEM)
      t.equal(response.json().type, 'urn:tessera:problem:unauthorized')
      t.match(response.headers['www-authenticate'], /^Bearer/)
    }
  }
})

t.test('the staff API is closed when no admin key is configured', async (t) => {
  const app = await build(t)
  const closed = await (await import('../src/app.js')).buildApp({
    config: { ...app.config, adminApiKey: undefined },
    sql: app.sql,
    keyRing: app.keyRing,
    logger: false
  })
  t.teardown(async () => { await closed.close() })
  const response = await closed.inject({ method: 'GET', url: '/api/v1/achievements', headers: { authorization: 'Bearer anything-at-all-0123456789abcdefghijk' } })
  t.equal(response.statusCode, 401)
})

t.test('bad achievement definitions get a 400 problem naming the field', async (t) => {
  const app = await build(t)
  const valid = { name: 'CMA (AAMA)', description: 'd', criteria: { narrative: 'n' } }
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing name', { description: 'd', criteria: { narrative: 'n' } }, /"name"/],
    ['blank name', { ...valid, name: '   ' }, /"name"/],
    ['empty criteria', { ...valid, criteria: {} }, /"criteria"/],
    ['criteria id not a URL', { ...valid, criteria: { id: 'not a url' } }, /"criteria\.id"/],
    ['unknown achievementType', { ...valid, achievementType: 'Trophy' }, /"achievementType"/],
    ['validityMonths zero', { ...valid, validityMonths: 0 }, /"validityMonths"/],
    ['validityMonths as a string', { ...valid, validityMonths: '60' }, /"validityMonths"/],
    ['unknown property', { ...valid, colour: 'blue' }, /"colour"/],
    ['an array body', [valid], /request body/],
    ['a string body', 'hello', /request body/]
  ]
  for (const [label, payload, message] of cases) {
    const response = await app.app.inject({ method: 'POST', url: '/api/v1/achievements', headers: { ...app.auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
    t.equal(response.statusCode, 400, label)
    t.match(response.headers['content-type'], PROBLEM, label)
    const problem = response.json()
    t.equal(problem.type, 'urn:tessera:problem:validation_failed', label)
    t.match(problem.detail, message, `${label}: ${problem.detail as string}`)
  }
  const unknownIssuer = await app.app.inject({ method: 'POST', url: '/api/v1/achievements', headers: app.auth, payload: { ...valid, issuerId: 'nobody' } })
  t.equal(unknownIssuer.statusCode, 400)
  t.match(unknownIssuer.json().detail, /"issuerId"/)
  const [{ count }] = await app.sql<[{ count: string }]>`select count(*) from achievements`
  t.equal(Number(count), 0, 'nothing was stored')
})

t.test('bad issue requests get 4xx problems and store nothing', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const valid = { achievementId: achievement.id, recipient: { name: 'Jane', email: 'jane@example.com' } }
  const cases: Array<[string, unknown, number, string, RegExp]> = [
    ['missing recipient', { achievementId: achievement.id }, 400, 'validation_failed', /"recipient"/],
    ['bad email', { ...valid, recipient: { name: 'Jane', email: 'jane' } }, 400, 'validation_failed', /"recipient\.email"/],
    ['blank name', { ...valid, recipient: { name: ' ', email: 'jane@example.com' } }, 400, 'validation_failed', /"recipient\.name"/],
    ['bad date', { ...valid, validFrom: 'yesterday' }, 400, 'validation_failed', /"validFrom"/],
    ['unknown property', { ...valid, sendEmail: true }, 400, 'validation_failed', /"sendEmail"/],
    ['unknown achievement', { ...valid, achievementId: 'nope' }, 422, 'unknown_achievement', /"achievementId"/],
    ['validUntil before validFrom', { ...valid, validFrom: '2026-01-01T00:00:00Z', validUntil: '2025-01-01T00:00:00Z' }, 422, 'invalid_validity_period', /"validUntil" must be after "validFrom"/]
  ]
  for (const [label, payload, status, code, message] of cases) {
    const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: payload as object })
    t.equal(response.statusCode, status, label)
    t.match(response.headers['content-type'], PROBLEM, label)
    t.equal(response.json().type, `urn:tessera:problem:${code}`, label)
    t.match(response.json().detail, message, label)
  }
  const malformed = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: { ...app.auth, 'content-type': 'application/json' }, payload: '{"achievementId": ' })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().type, 'urn:tessera:problem:malformed_json')
  const wrongType = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: { ...app.auth, 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(wrongType.statusCode, 415)
  t.equal(wrongType.json().type, 'urn:tessera:problem:unsupported_media_type')
  const huge = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: { ...app.auth, 'content-type': 'application/json' }, payload: JSON.stringify({ ...valid, pad: 'x'.repeat(2 * 1024 * 1024) }) })
  t.equal(huge.statusCode, 413)
  t.equal(huge.json().type, 'urn:tessera:problem:payload_too_large')
  const [{ count }] = await app.sql<[{ count: string }]>`select count(*) from credentials`
  t.equal(Number(count), 0, 'nothing was stored')
})

t.test('unknown ids and routes get 404 problems', async (t) => {
  const app = await build(t)
  for (const url of ['/credentials/unknown', '/achievements/unknown', '/issuers/nobody', '/status-lists/unknown', '/keys/unknown', '/no/such/route', '/credentials/bad%20id']) {
    const response = await app.app.inject({ method: 'GET', url })
    t.ok([400, 404].includes(response.statusCode), `${url}: ${response.statusCode}`)
    t.match(response.headers['content-type'], PROBLEM, url)
  }
  for (const url of ['/api/v1/credentials/unknown', '/api/v1/achievements/unknown']) {
    const response = await app.app.inject({ method: 'GET', url, headers: app.auth })
    t.equal(response.statusCode, 404, url)
    t.equal(response.json().type, 'urn:tessera:problem:not_found')
  }
  const revoke = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/unknown/revoke', headers: app.auth, payload: { reason: 'x' } })
  t.equal(revoke.statusCode, 404)
})

t.test('health and readiness', async (t) => {
  const app = await build(t)
  t.same((await app.app.inject({ method: 'GET', url: '/health' })).json(), { status: 'ok' })
  const ready = await app.app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.equal(ready.json().database, 'ok')
})

t.test('staff can list and read achievements', async (t) => {
  const app = await build(t)
  const first = await createAchievement(app)
  const second = await createAchievement(app, { name: 'Second', description: 'd', criteria: { id: 'https://example.org/criteria' }, image: { id: 'data:image/png;base64,iVBORw0KGgo=', caption: 'A badge' } })
  const page1 = (await app.app.inject({ method: 'GET', url: '/api/v1/achievements?limit=1', headers: app.auth })).json()
  t.equal(page1.items.length, 1)
  t.equal(page1.items[0].id, first.id)
  t.equal(page1.next, first.id)
  const page2 = (await app.app.inject({ method: 'GET', url: `/api/v1/achievements?limit=1&after=${page1.next as string}`, headers: app.auth })).json()
  t.equal(page2.items[0].id, second.id)
  const one = (await app.app.inject({ method: 'GET', url: `/api/v1/achievements/${second.id}`, headers: app.auth })).json()
  t.same(one.achievement.image, { id: 'data:image/png;base64,iVBORw0KGgo=', type: 'Image', caption: 'A badge' })
  const badLimit = await app.app.inject({ method: 'GET', url: '/api/v1/achievements?limit=100000', headers: app.auth })
  t.equal(badLimit.statusCode, 400)
})
