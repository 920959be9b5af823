import t from 'tap'
import { decodeList, getBit } from '../src/capabilities/status-lists/bitstring.js'
import { resignExpiringStatusLists } from '../src/capabilities/status-lists/refresh-task.js'
import { build, createAchievement, issue, type TestApp } from './helpers/build-app.js'

const recipient = (n: number): { name: string, email: string } => ({ name: `Holder ${n}`, email: `holder${n}@example.com` })

async function counts (app: TestApp): Promise<{ credentials: number, badges: number, entries: number, audit: number }> {
  const [row] = await app.sql<[{ credentials: string, badges: string, entries: string, audit: string }]>`
    select (select count(*) from credentials) as credentials, (select count(*) from badges) as badges,
           (select count(*) from status_list_entries) as entries, (select count(*) from audit_events where action = 'credential.issued') as audit`
  return { credentials: Number(row.credentials), badges: Number(row.badges), entries: Number(row.entries), audit: Number(row.audit) }
}

t.test('a failure after the status index is claimed leaves nothing behind, and the next issue succeeds', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  await issue(app, { achievementId: achievement.id, recipient: recipient(1) })
  const before = await counts(app)

  // A real PostgreSQL failure at the last insert of the transaction, after the
  // claim, the signatures, the badge and the credential rows.
  await app.sql.unsafe(`
    create function fail_audit() returns trigger language plpgsql as $$ begin raise exception 'disk full (test)'; end $$;
    create trigger fail_audit before insert on audit_events for each row execute function fail_audit();`)
  const failed = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: recipient(2) } })
  t.equal(failed.statusCode, 500)
  t.match(failed.headers['content-type'], /^application\/problem\+json/)
  t.same(await counts(app), before, 'no credential, badge, claimed index or audit event was kept')
  const [list] = await app.sql<[{ allocated: number }]>`select allocated from status_lists`
  t.equal(list.allocated, 1, 'the list still counts one entry')

  await app.sql.unsafe('drop trigger fail_audit on audit_events')
  const next = await issue(app, { achievementId: achievement.id, recipient: recipient(3) })
  t.same(await counts(app), { credentials: 2, badges: 2, entries: 2, audit: 2 })
  const verdict = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: next.credential } })
  t.equal(verdict.json().status, 'valid')
})

t.test('a full list is closed and the next credential goes to a new list', async (t) => {
  const app = await build(t, { statusLists: { capacity: 3 } })
  const achievement = await createAchievement(app)
  const issued = []
  for (let n = 0; n < 5; n++) issued.push(await issue(app, { achievementId: achievement.id, recipient: recipient(n) }))
  const listUrls = issued.map((c) => c.credential.credentialStatus.statusListCredential as string)
  t.equal(new Set(listUrls.slice(0, 3)).size, 1, 'the first three share a list')
  t.equal(new Set(listUrls.slice(3)).size, 1, 'the next two share another')
  t.not(listUrls[3], listUrls[0], 'the fourth went to a new list')
  const lists = await app.sql<Array<{ state: string, allocated: number }>>`select state, allocated from status_lists order by created_at, allocated desc`
  t.same(lists.map((l) => [l.state, l.allocated]), [['full', 3], ['open', 2]])
  const indexes = issued.map((c) => `${c.credential.credentialStatus.statusListCredential as string}#${c.credential.credentialStatus.statusListIndex as string}`)
  t.equal(new Set(indexes).size, 5, 'no two credentials share an index')

  // Revoking one on the closed list still works, and shows on that list only.
  const revoke = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued[1]!.id}/revoke`, headers: app.auth, payload: { reason: 'test' } })
  t.equal(revoke.statusCode, 200)
  const served = (await app.app.inject({ method: 'GET', url: listUrls[0]! })).json()
  t.ok(getBit(decodeList(served.credentialSubject.encodedList), Number(issued[1]!.credential.credentialStatus.statusListIndex)))
})

t.test('when every draw hits a taken index, issuing fails with a clear 503 and stores nothing', async (t) => {
  const app = await build(t, { statusLists: { maxDraws: 5, drawIndex: () => 42 } })
  const achievement = await createAchievement(app)
  const first = await issue(app, { achievementId: achievement.id, recipient: recipient(1) })
  t.equal(first.credential.credentialStatus.statusListIndex, '42')
  const before = await counts(app)
  const second = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: recipient(2) } })
  t.equal(second.statusCode, 503)
  t.equal(second.json().type, 'urn:tessera:problem:status_index_unavailable')
  t.match(second.json().detail, /5 draws/)
  t.same(await counts(app), before)
})

t.test('a policy that cannot work is refused when the app is built', async (t) => {
  await t.rejects(build(t, { statusLists: { size: 1024 } }), /at least 131072/)
  await t.rejects(build(t, { statusLists: { capacity: 0 } }), /capacity/)
})

t.test('serving a list never writes; the refresh task re-signs lists near their validUntil', async (t) => {
  let now = new Date('2026-11-24T12:00:00Z')
  const app = await build(t, { clock: () => now })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: recipient(1) })
  const listUrl = issued.credential.credentialStatus.statusListCredential as string
  const first = await app.app.inject({ method: 'GET', url: listUrl })
  t.equal(first.json().validUntil, '2026-12-24T12:00:00Z', 'valid for 30 days')

  now = new Date('2026-12-14T12:00:00Z') // 10 days left: inside the 15-day refresh window
  const served = await app.app.inject({ method: 'GET', url: listUrl })
  t.equal(served.headers.etag, first.headers.etag, 'a GET did not re-sign')
  t.equal(served.body, first.body)

  t.equal(await resignExpiringStatusLists({ sql: app.sql, keyRing: app.keyRing, urls: app.app.urls, now, changes: app.app.changes }), 1)
  const refreshed = await app.app.inject({ method: 'GET', url: listUrl })
  t.not(refreshed.headers.etag, first.headers.etag)
  t.equal(refreshed.json().validUntil, '2027-01-13T12:00:00Z')
  t.equal(refreshed.json().credentialSubject.encodedList, first.json().credentialSubject.encodedList, 'same bits')
  t.equal(await resignExpiringStatusLists({ sql: app.sql, keyRing: app.keyRing, urls: app.app.urls, now, changes: app.app.changes }), 0, 'nothing left to do')

  const check = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
  t.equal(check.json().status, 'valid', 'the credential still verifies against the re-signed list')
})

t.test('concurrent issuing never gives two credentials one index, and every claim is counted', async (t) => {
  const app = await build(t, { statusLists: { capacity: 8 } })
  const achievement = await createAchievement(app)
  const issued = await Promise.all(Array.from({ length: 20 }, async (_, n) => await issue(app, { achievementId: achievement.id, recipient: recipient(n) })))
  const indexes = issued.map((c) => `${c.credential.credentialStatus.statusListCredential as string}#${c.credential.credentialStatus.statusListIndex as string}`)
  t.equal(new Set(indexes).size, 20)
  const [row] = await app.sql<[{ allocated: string, entries: string, lists: string }]>`
    select (select sum(allocated) from status_lists) as allocated, (select count(*) from status_list_entries) as entries, (select count(*) from status_lists) as lists`
  t.equal(Number(row.allocated), 20)
  t.equal(Number(row.entries), 20)
  // Claims in flight together may overshoot a list's capacity (it is counted at
  // commit); the size is the hard limit. Issuers that found the first list full
  // may already have opened the next one. The next issue goes to the open list
  // with room, opening one only when none is open.
  const openBefore = await app.sql<Array<{ id: string }>>`select id from status_lists where state = 'open'`
  t.ok(openBefore.length <= 1, 'at most one open list per issuer and purpose')
  const next = await issue(app, { achievementId: achievement.id, recipient: recipient(99) })
  const [open] = await app.sql<[{ id: string }]>`select id from status_lists where state = 'open'`
  t.equal(next.credential.credentialStatus.statusListCredential, app.app.urls.statusList(open.id))
  const lists = Number((await app.sql`select count(*) from status_lists`)[0]!.count)
  if (openBefore.length === 0) t.equal(lists, Number(row.lists) + 1, 'a new list was opened for it')
  else t.equal(lists, Number(row.lists), 'it went to the list the concurrent issuers had opened')
})
