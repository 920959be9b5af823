import t from 'tap'
import { prepareService } from '../src/boot.js'
import { recognisedIssuer } from '../src/capabilities/registry/lookup.js'
import { canonicalOrigin, originOf } from '../src/capabilities/registry/matching.js'
import { seedRecognisedIssuers } from '../src/capabilities/registry/service.js'
import { build, buildSecondInstance, type TestApp } from './helpers/build-app.js'
import { waitFor } from './helpers/notifications.js'

/**
 * The registry of recognised issuers: staff add, list, read and remove
 * entries (scope registry:admin, audited); TRUSTED_ISSUERS seeds it at boot;
 * each app keeps it in memory and drops it when any instance changes it.
 */

const DID_KEY = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'
const OTHER_DID_KEY = 'did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG'

type Call = { statusCode: number, headers: Record<string, unknown>, json: () => any }
const call = async (app: TestApp, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, authorization = app.auth.authorization): Promise<Call> =>
  await app.app.inject({ method, url: `/api/v1${url}`, headers: { authorization }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) })

async function auditOf (app: TestApp, subjectId: string): Promise<Array<{ actor: string, action: string, before: unknown, after: unknown, request_id: string | null }>> {
  return await app.sql`select actor, action, before, after, request_id from audit_events where subject_type = 'recognised_issuer' and subject_id = ${subjectId} order by id`
}

t.test('staff add, read, list and remove recognised issuers; every change is audited', async (t) => {
  const app = await build(t, { clock: () => new Date('2026-12-04T10:00:00Z') })
  const added = await call(app, 'POST', '/registry/issuers', { issuerId: DID_KEY, name: '  Regional Board of Medical Assisting ', note: 'Key confirmed by phone.' })
  t.equal(added.statusCode, 201, JSON.stringify(added.json()))
  const entry = added.json()
  t.same(entry, { id: entry.id, issuerId: DID_KEY, origin: null, name: 'Regional Board of Medical Assisting', note: 'Key confirmed by phone.', createdAt: '2026-12-04T10:00:00.000Z', createdBy: 'bootstrap', removedAt: null, removedBy: null }, 'the entry as added, its name trimmed')
  t.equal(added.headers.location, `/api/v1/registry/issuers/${entry.id as string}`)
  t.same((await call(app, 'GET', `/registry/issuers/${entry.id as string}`)).json(), entry, 'read back')

  const origin = await call(app, 'POST', '/registry/issuers', { origin: 'https://Badges.Example.org:443/', name: 'Example CE' })
  t.equal(origin.statusCode, 201)
  t.equal(origin.json().origin, 'https://badges.example.org', 'an origin is stored as the URL standard serialises it')
  t.equal(origin.json().issuerId, null)

  const listed = await call(app, 'GET', '/registry/issuers')
  t.same(listed.json().items.map((e: { id: string }) => e.id), [entry.id, origin.json().id], 'listed in the order added')
  t.equal(listed.json().next, null)

  const removed = await call(app, 'DELETE', `/registry/issuers/${entry.id as string}`)
  t.equal(removed.statusCode, 200)
  t.same({ removedAt: removed.json().removedAt, removedBy: removed.json().removedBy }, { removedAt: '2026-12-04T10:00:00.000Z', removedBy: 'bootstrap' })
  t.equal((await call(app, 'GET', `/registry/issuers/${entry.id as string}`)).json().removedAt, '2026-12-04T10:00:00.000Z', 'a removed entry stays readable')
  t.same((await call(app, 'GET', '/registry/issuers')).json().items.map((e: { id: string }) => e.id), [origin.json().id], 'the list leaves removed entries out')
  t.same((await call(app, 'GET', '/registry/issuers?includeRemoved=true')).json().items.map((e: { id: string }) => e.id), [entry.id, origin.json().id], '...unless asked')

  const again = await call(app, 'DELETE', `/registry/issuers/${entry.id as string}`)
  t.equal(again.statusCode, 409, 'removing twice is a conflict')
  t.match(again.json(), { type: 'urn:tessera:problem:conflict', detail: /already removed on 2026-12-04T10:00:00.000Z by bootstrap/ })
  const unknown = await call(app, 'DELETE', '/registry/issuers/AAAAAAAAAAAA')
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal((await call(app, 'GET', '/registry/issuers/AAAAAAAAAAAA')).statusCode, 404)

  const trail = await auditOf(app, entry.id)
  t.same(trail.map((e) => [e.actor, e.action]), [['bootstrap', 'recognised_issuer.added'], ['bootstrap', 'recognised_issuer.removed']], 'added and removed, by whom')
  t.same(trail[0]!.after, { issuerId: DID_KEY, name: 'Regional Board of Medical Assisting', note: 'Key confirmed by phone.' })
  t.same(trail[1]!.before, trail[0]!.after, 'the removal records what was removed')
  t.ok(trail.every((e) => e.request_id !== null), 'tied to the request')

  const readded = await call(app, 'POST', '/registry/issuers', { issuerId: DID_KEY, name: 'Regional Board (renamed)' })
  t.equal(readded.statusCode, 201, 'a removed issuer id can be added again (to rename it, for instance)')
  t.not(readded.json().id, entry.id)
})

t.test('the list pages with `next`', async (t) => {
  const app = await build(t)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await call(app, 'POST', '/registry/issuers', { issuerId: `https://ce${i}.example.org/issuer`, name: `CE ${i}` })).json().id)
  const seen: string[] = []
  let url = '/registry/issuers?limit=2'
  for (let pages = 0; pages < 5; pages++) {
    const page = (await call(app, 'GET', url)).json()
    seen.push(...page.items.map((e: { id: string }) => e.id))
    if (page.next === null) break
    url = `/registry/issuers?limit=2&after=${page.next as string}`
  }
  t.same(seen, ids, 'every entry once, in order')
})

t.test('only keys with registry:admin reach the registry; a scoped key is named in the trail', async (t) => {
  const app = await build(t)
  const makeKey = async (scopes: string[]): Promise<{ id: string, key: string }> => (await call(app, 'POST', '/api-keys', { name: scopes.join(' '), scopes })).json()
  const other = await makeKey(['audit:read', 'keys:admin', 'webhooks:admin'])
  for (const [method, url, body] of [['POST', '/registry/issuers', { issuerId: DID_KEY, name: 'X' }], ['GET', '/registry/issuers'], ['GET', '/registry/issuers/AAAAAAAAAAAA'], ['DELETE', '/registry/issuers/AAAAAAAAAAAA']] as const) {
    const refused = await call(app, method, url, body, `Bearer ${other.key}`)
    t.equal(refused.statusCode, 403, `${method} ${url}`)
    t.match(refused.json().detail, /lacks the "registry:admin" scope/)
  }
  t.equal((await app.sql`select count(*)::int as n from recognised_issuers`)[0]!.n, 0, 'nothing was added')

  const registrar = await makeKey(['registry:admin'])
  const added = await call(app, 'POST', '/registry/issuers', { issuerId: DID_KEY, name: 'X' }, `Bearer ${registrar.key}`)
  t.equal(added.statusCode, 201)
  t.equal(added.json().createdBy, registrar.id)
  t.same((await auditOf(app, added.json().id)).map((e) => e.actor), [registrar.id])
})

t.test('a second entry for the same issuer id or origin is a 409 naming the first', async (t) => {
  const app = await build(t)
  const first = (await call(app, 'POST', '/registry/issuers', { issuerId: DID_KEY, name: 'First' })).json()
  const duplicate = await call(app, 'POST', '/registry/issuers', { issuerId: DID_KEY, name: 'Second' })
  t.equal(duplicate.statusCode, 409)
  t.match(duplicate.json(), { type: 'urn:tessera:problem:issuer_already_recognised', existing: { id: first.id, url: `/api/v1/registry/issuers/${first.id as string}` }, detail: `"issuerId" "${DID_KEY}" is already recognised, as "First" (entry ${first.id as string}); remove that entry first to change it.` })

  const origin = (await call(app, 'POST', '/registry/issuers', { origin: 'https://badges.example.org', name: 'Example' })).json()
  const sameOrigin = await call(app, 'POST', '/registry/issuers', { origin: 'https://BADGES.example.org/', name: 'Example again' })
  t.equal(sameOrigin.statusCode, 409, 'the same origin spelt differently')
  t.equal(sameOrigin.json().existing.id, origin.id)
  t.equal((await call(app, 'POST', '/registry/issuers', { issuerId: 'https://badges.example.org', name: 'One issuer there' })).statusCode, 201, 'an exact id is not the origin entry')
  t.equal((await app.sql`select count(*)::int as n from audit_events where subject_type = 'recognised_issuer'`)[0]!.n, 3, 'refused additions leave no audit event')

  const racing = await Promise.all([1, 2, 3].map(async (n) => await call(app, 'POST', '/registry/issuers', { issuerId: OTHER_DID_KEY, name: `Racer ${n}` })))
  t.same(racing.map((r) => r.statusCode).sort(), [201, 409, 409], 'three adds at once: one wins, the others are told')
})

t.test('bad input is a 400 problem that says what is wrong', async (t) => {
  const app = await build(t)
  const cases: Array<[string, unknown, RegExp]> = [
    ['neither matcher', { name: 'X' }, /exactly one of "issuerId" .* or "origin"/],
    ['both matchers', { issuerId: DID_KEY, origin: 'https://badges.example.org', name: 'X' }, /exactly one of "issuerId"/],
    ['a relative issuer id', { issuerId: 'badges.example.org/issuer', name: 'X' }, /"issuerId" must be an absolute issuer id \(a URL or a DID/],
    ['an issuer id with spaces', { issuerId: 'did:key: z6Mk', name: 'X' }, /"issuerId" must be an absolute issuer id/],
    ['an http origin', { origin: 'http://badges.example.org', name: 'X' }, /"origin" must be an https origin such as/],
    ['an origin with a path', { origin: 'https://badges.example.org/issuers/1', name: 'X' }, /"origin" must be an https origin \(scheme, host and optional port, nothing after them\).*send it as "issuerId"/],
    ['an origin with a query', { origin: 'https://badges.example.org/?a=1', name: 'X' }, /nothing after them/],
    ['an origin with credentials', { origin: 'https://user@badges.example.org', name: 'X' }, /nothing after them/],
    ['a DID as origin', { origin: DID_KEY, name: 'X' }, /"origin" must be an https origin/],
    ['a blank name', { issuerId: DID_KEY, name: '   ' }, /"name" must not be blank/],
    ['no name', { issuerId: DID_KEY }, /"name"/],
    ['an unknown field', { issuerId: DID_KEY, name: 'X', trusted: true }, /trusted/],
    ['a long name', { issuerId: DID_KEY, name: 'x'.repeat(201) }, /"name"/]
  ]
  for (const [what, body, message] of cases) {
    const response = await call(app, 'POST', '/registry/issuers', body)
    t.equal(response.statusCode, 400, what)
    t.equal(response.json().type, 'urn:tessera:problem:validation_failed', what)
    t.match(response.json().detail, message, `${what}: ${response.json().detail as string}`)
  }
  t.equal((await call(app, 'GET', '/registry/issuers?limit=0')).statusCode, 400)
  t.equal((await call(app, 'GET', '/registry/issuers?after=abc')).statusCode, 400)
  t.equal((await app.sql`select count(*)::int as n from recognised_issuers`)[0]!.n, 0)
})

t.test('the matching rule: exact ids as written; an origin covers https ids and did:web under it, nothing else', async (t) => {
  t.same(canonicalOrigin('https://Example.ORG:443'), { origin: 'https://example.org' })
  t.same(canonicalOrigin('https://example.org:8443/'), { origin: 'https://example.org:8443' })
  t.equal(originOf('https://example.org/issuers/1'), 'https://example.org')
  t.equal(originOf('did:web:example.org'), 'https://example.org')
  t.equal(originOf('did:web:example.org%3A8443:issuers:1'), 'https://example.org:8443')
  t.equal(originOf('did:web:example.org%40evil.test'), undefined, 'a did:web domain that is not a host name')
  t.equal(originOf('http://example.org/issuers/1'), undefined)
  t.equal(originOf(DID_KEY), undefined)

  const app = await build(t)
  const exact = (await call(app, 'POST', '/registry/issuers', { issuerId: 'https://example.org/issuers/special', name: 'Special' })).json()
  const origin = (await call(app, 'POST', '/registry/issuers', { origin: 'https://example.org', name: 'Example' })).json()
  const key = (await call(app, 'POST', '/registry/issuers', { issuerId: DID_KEY, name: 'Board' })).json()
  const expectations: Array<[string, string | undefined]> = [
    ['https://example.org/issuers/special', exact.id],
    ['https://example.org/issuers/1', origin.id],
    ['https://EXAMPLE.org:443/issuers/2', origin.id],
    ['https://example.org', origin.id],
    ['did:web:example.org', origin.id],
    ['did:web:example.org:issuers:3', origin.id],
    [DID_KEY, key.id],
    [`${DID_KEY}#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK`, undefined],
    ['http://example.org/issuers/1', undefined],
    ['https://sub.example.org/issuers/1', undefined],
    ['https://example.org.evil.test/issuers/1', undefined],
    ['https://example.org:8443/issuers/1', undefined],
    ['did:web:example.org%3A8443', undefined],
    [OTHER_DID_KEY, undefined]
  ]
  for (const [issuerId, entryId] of expectations) {
    t.equal((await app.app.recognisedIssuers.find(issuerId))?.entryId, entryId, `cached: ${issuerId}`)
    t.equal((await recognisedIssuer(app.sql, issuerId))?.entryId, entryId, `one query: ${issuerId}`)
  }
  t.same(await app.app.recognisedIssuers.find(DID_KEY), { entryId: key.id, name: 'Board' }, 'the entry and the name it goes by')
  await call(app, 'DELETE', `/registry/issuers/${exact.id as string}`)
  t.equal((await app.app.recognisedIssuers.find('https://example.org/issuers/special'))?.entryId, origin.id, 'with the exact entry removed, the origin entry recognises the id (the app dropped its copy at once)')
})

t.test('TRUSTED_ISSUERS seeds the registry once: a second boot, two boots at once, and a removal all hold', async (t) => {
  const seed = `${DID_KEY}, https://ce.example.org/issuer`
  const logs: string[] = []
  const app = await build(t, { env: { TRUSTED_ISSUERS: seed }, bootLog: { info: (m) => { logs.push(m) }, warn: (m) => { logs.push(m) } } })
  const entries = async (): Promise<Array<{ id: string, matcher: string, created_by: string, removed_at: Date | null }>> =>
    await app.sql`select id, matcher, created_by, removed_at from recognised_issuers order by seq`
  const first = await entries()
  t.same(first.map((e) => [e.matcher, e.created_by]), [[DID_KEY, 'config'], ['https://ce.example.org/issuer', 'config']], 'each listed id, added by "config"')
  t.match(logs.join('\n'), /recognised issuers added from TRUSTED_ISSUERS: did:key:/)
  t.same((await app.sql`select actor, action, details from audit_events where subject_type = 'recognised_issuer' order by id`).map((e) => [e.actor, e.action, e.details]), [['config', 'recognised_issuer.added', { source: 'TRUSTED_ISSUERS' }], ['config', 'recognised_issuer.added', { source: 'TRUSTED_ISSUERS' }]])
  t.equal((await app.app.recognisedIssuers.find(DID_KEY))?.entryId, first[0]!.id, 'and recognised')

  await buildSecondInstance(t, app) // boots again (prepareService) on the same database
  t.same(await entries(), first, 'a second boot adds nothing')

  const both = await Promise.all([seedRecognisedIssuers(app.sql, [OTHER_DID_KEY]), seedRecognisedIssuers(app.sql, [OTHER_DID_KEY])])
  t.same(both.map((r) => r.added.length).sort(), [0, 1], 'two instances seeding at once: one adds, the other finds it there')
  t.equal((await entries()).filter((e) => e.matcher === OTHER_DID_KEY).length, 1)

  t.equal((await call(app, 'DELETE', `/registry/issuers/${first[0]!.id}`)).statusCode, 200)
  logs.length = 0
  await prepareService(app.config, app.sql, { info: (m) => { logs.push(m) }, warn: (m) => { logs.push(m) } })
  t.same((await entries()).filter((e) => e.matcher === DID_KEY).map((e) => e.removed_at !== null), [true], 'an id staff removed is not seeded back')
  t.match(logs.join('\n'), new RegExp(`TRUSTED_ISSUERS lists ${DID_KEY}, which bootstrap removed .* it stays removed`), 'the boot says so')
  t.equal((await app.sql`select count(*)::int as n from audit_events where subject_type = 'recognised_issuer'`)[0]!.n, 4, 'three seeded, one removed: nothing else')
})

t.test('a second instance sees an entry added or removed on the first through the change feed, not by re-reading', async (t) => {
  const a = await build(t)
  const b = await buildSecondInstance(t, a)
  t.equal(await b.app.recognisedIssuers.find(DID_KEY), undefined, 'b reads the empty registry and keeps it')
  // A row written without an announcement is not seen: b answers from its copy.
  await b.sql`insert into recognised_issuers (id, kind, matcher, name, created_by) values ('silent0000000', 'issuer-id', ${OTHER_DID_KEY}, 'Silent', 'test')`
  t.equal(await b.app.recognisedIssuers.find(OTHER_DID_KEY), undefined, 'b holds its copy until told')

  const added = (await call(a, 'POST', '/registry/issuers', { issuerId: DID_KEY, name: 'Board' })).json()
  const seen = await waitFor('b to hear of the addition', async () => await b.app.recognisedIssuers.find(DID_KEY), 5000)
  t.same(seen, { entryId: added.id, name: 'Board' }, 'b recognises the issuer added on a')

  await b.app.recognisedIssuers.find(DID_KEY)
  t.equal((await call(b, 'DELETE', `/registry/issuers/${added.id as string}`)).statusCode, 200)
  t.equal(await b.app.recognisedIssuers.find(DID_KEY), undefined, 'the instance that removed it stops recognising it at once')
  await waitFor('a to hear of the removal', async () => await a.app.recognisedIssuers.find(DID_KEY) === undefined ? true : undefined, 5000)
  t.pass('a stops recognising the removed issuer')
})
