import t from 'tap'
import type { InjectOptions } from 'fastify'
import { build, CMA_ACHIEVEMENT, createAchievement } from './helpers/build-app.js'

t.test('a JSON batch with good and bad items answers 207 in input order; bad items sink nothing', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const items = [
    { achievementId: achievement.id, recipient: { name: 'One', email: 'one@example.com' } },
    { achievementId: achievement.id, recipient: { name: 'Two', email: 'not-an-email' } },
    { achievementId: 'NoSuchAchievement', recipient: { name: 'Three', email: 'three@example.com' } },
    { achievementId: achievement.id, recipient: { name: 'Four', email: 'four@example.com' }, validFrom: '2026-01-01T00:00:00Z', validUntil: '2025-01-01T00:00:00Z' },
    { achievementId: achievement.id, recipient: { name: 'One again', email: 'ONE@example.com' } },
    'not an object',
    { achievementId: achievement.id, recipient: { name: 'Five', email: 'five@example.com' } }
  ]
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { items } })
  t.equal(response.statusCode, 207)
  const body = response.json()
  t.same(body.summary, { total: 7, created: 2, failed: 5 })
  const kinds = body.results.map((r: { type?: string, version?: number }) => r.type?.replace('urn:tessera:problem:', '') ?? `created v${r.version}`)
  t.same(kinds, ['created v1', 'validation_failed', 'unknown_achievement', 'invalid_validity_period', 'duplicate_credential', 'validation_failed', 'created v1'])
  t.match(body.results[1].detail, /recipient\.email/)
  t.equal(body.results[2].status, 422)
  t.equal(body.results[4].existing.id, body.results[0].id, 'the duplicate names the credential issued earlier in the same batch')
  t.equal(body.results[0].credential.credentialSubject.name, 'One')
  const verified = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: body.results[6].credential } })
  t.equal(verified.json().status, 'valid')
  const [{ count }] = await app.sql<[{ count: string }]>`select count(*) from credentials`
  t.equal(Number(count), 2)
  const audit = await app.sql`select count(*)::int as n, count(distinct request_id)::int as requests from audit_events where action = 'credential.issued'`
  t.same(audit[0], { n: 2, requests: 1 }, 'each issue is audited, tied to the one batch request')
})

t.test('a CSV batch from a spreadsheet export', async (t) => {
  const app = await build(t)
  const cma = await createAchievement(app)
  const other = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Other' })
  const csv = '\uFEFFname,email,achievementId,validFrom\r\n' +
    `"Ruiz, Ana",ana@example.com,${cma.id},2026-01-15T00:00:00Z\r\n` +
    `Bo Li,bo@example,${cma.id},\r\n` +
    `Cy Doe,cy@example.com,${other.id},\r\n` +
    `,nameless@example.com,${cma.id},\r\n`
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: { ...app.auth, 'content-type': 'text/csv' }, payload: csv })
  t.equal(response.statusCode, 207)
  const { results, summary } = response.json()
  t.same(summary, { total: 4, created: 2, failed: 2 })
  t.equal(results[0].credential.credentialSubject.name, 'Ruiz, Ana', 'quoted cells keep their commas')
  t.equal(results[0].credential.validFrom, '2026-01-15T00:00:00Z', 'optional date columns are read')
  t.equal(results[1].type, 'urn:tessera:problem:validation_failed')
  t.match(results[1].detail, /email/)
  t.equal(results[2].credential.credentialSubject.achievement.name, 'Other')
  t.match(results[3].detail, /name/, 'an empty required cell is that row\'s problem')
})

t.test('a batch that cannot be read at all is one 400, and nothing is issued', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const csv = (text: string) => ({ method: 'POST' as const, url: '/api/v1/credentials/batch', headers: { ...app.auth, 'content-type': 'text/csv' }, payload: text })
  const cases: Array<[string, InjectOptions, RegExp]> = [
    ['missing column', csv(`name,achievementId\nA,${achievement.id}\n`), /lacks the columns "email"/],
    ['unknown column', csv(`name,email,achievementId,phone\nA,a@example.com,${achievement.id},555\n`), /unknown columns: "phone"/],
    ['ragged row', csv('name,email,achievementId\nA,a@example.com\n'), /cannot be read/],
    ['header only', csv('name,email,achievementId\n'), /no rows/],
    ['too many rows', csv('name,email,achievementId\n' + Array.from({ length: 1001 }, (_, i) => `N${i},n${i}@example.com,${achievement.id}`).join('\n')), /at most 1000/],
    ['no items', { method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { items: [] } }, /items/],
    ['too many items', { method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { items: Array.from({ length: 1001 }, () => ({})) } }, /items/]
  ]
  for (const [name, request, detail] of cases) {
    const response = await app.app.inject(request)
    t.equal(response.statusCode, 400, name)
    t.match(response.json().detail, detail, name)
  }
  const noAuth = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', payload: { items: [{}] } })
  t.equal(noAuth.statusCode, 401)
  const [{ count }] = await app.sql<[{ count: string }]>`select count(*) from credentials`
  t.equal(Number(count), 0)
})
