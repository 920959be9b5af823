import t from 'tap'
import { decodeList, getBit } from '../src/capabilities/status-lists/bitstring.js'
import { build, createAchievement, issue, type TestApp } from './helpers/build-app.js'

async function fetchList (app: TestApp, url: string): Promise<{ etag: string, bits: Buffer, list: any }> {
  const response = await app.app.inject({ method: 'GET', url: new URL(url).pathname })
  const list = response.json()
  return { etag: response.headers.etag as string, bits: decodeList(list.credentialSubject.encodedList), list }
}

t.test('revoking sets the bit, re-signs the list, and records who, when and why', async (t) => {
  const fixed = new Date('2026-11-24T12:00:00Z')
  const app = await build(t, { clock: () => fixed })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jo', email: 'jo@example.com' } })
  const status = issued.credential.credentialStatus
  const before = await fetchList(app, status.statusListCredential)

  const response = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'Issued to the wrong person' } })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { id: issued.id, url: issued.url, revoked: true, revokedAt: fixed.toISOString(), revokedBy: 'bootstrap', reason: 'Issued to the wrong person' })

  const after = await fetchList(app, status.statusListCredential)
  t.ok(getBit(after.bits, Number(status.statusListIndex)), 'the bit is set')
  t.not(after.etag, before.etag, 'the ETag changes, so caches revalidating see it at once')
  t.not(after.list.proof[0].proofValue, before.list.proof[0].proofValue, 'the list was re-signed')
  t.equal(after.bits.filter((b) => b !== 0).length, 1, 'only that bit is set')

  const record = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${issued.id}`, headers: app.auth })).json()
  t.same(record.revocation, { revokedAt: fixed.toISOString(), revokedBy: 'bootstrap', reason: 'Issued to the wrong person' })
  const audit = await app.sql`select actor, action, details from audit_events where subject_id = ${issued.id} order by id`
  t.same(audit.map((e) => e.action), ['credential.issued', 'credential.revoked'])
})

t.test('revoking again returns the first outcome and changes nothing', async (t) => {
  let now = new Date('2026-11-24T12:00:00Z')
  const app = await build(t, { clock: () => now })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jo', email: 'jo@example.com' } })
  const first = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'first' } })
  const listAfterFirst = await fetchList(app, issued.credential.credentialStatus.statusListCredential)
  now = new Date('2026-11-25T12:00:00Z')
  const second = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'second' } })
  t.equal(second.statusCode, 200)
  t.same(second.json(), first.json(), 'same outcome: the first reason and time')
  const listAfterSecond = await fetchList(app, issued.credential.credentialStatus.statusListCredential)
  t.equal(listAfterSecond.etag, listAfterFirst.etag, 'the list did not change')
  const [{ count }] = await app.sql<[{ count: string }]>`select count(*) from audit_events where action = 'credential.revoked'`
  t.equal(Number(count), 1, 'one audit event')
})

t.test('a revocation needs a reason', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jo', email: 'jo@example.com' } })
  for (const payload of [{}, { reason: '' }, { reason: '   ' }, { reason: 'ok', extra: 1 }]) {
    const response = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload })
    t.equal(response.statusCode, 400, JSON.stringify(payload))
    t.equal(response.json().type, 'urn:tessera:problem:validation_failed')
  }
  const record = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${issued.id}`, headers: app.auth })).json()
  t.equal(record.revocation, null, 'still not revoked')
})

t.test('concurrent revocations on one list never lose an update', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await Promise.all(Array.from({ length: 24 }, async (_, i) =>
    await issue(app, { achievementId: achievement.id, recipient: { name: `P${i}`, email: `p${i}@example.com` } })))
  const listUrls = new Set(issued.map((c) => c.credential.credentialStatus.statusListCredential))
  t.equal(listUrls.size, 1, 'all on one list')

  const toRevoke = issued.slice(0, 16)
  const responses = await Promise.all(toRevoke.map(async (c) =>
    await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${c.id}/revoke`, headers: app.auth, payload: { reason: 'test' } })))
  t.ok(responses.every((r) => r.statusCode === 200), 'every revocation succeeded')

  const { bits, list } = await fetchList(app, [...listUrls][0]!)
  for (const c of issued) {
    const expected = toRevoke.includes(c)
    t.equal(getBit(bits, Number(c.credential.credentialStatus.statusListIndex)), expected, `${c.id} ${expected ? 'revoked' : 'untouched'}`)
  }
  const [{ version }] = await app.sql<[{ version: number }]>`select version from status_lists`
  t.equal(version, 1 + 16, 'one new version per revocation')
  t.ok(list.proof[0].proofValue, 'the served list is signed')
})
