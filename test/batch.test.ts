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

t.test('a batch larger than a chunk: lists fill and roll over mid-chunk, every index is distinct and counted, every row is written', async (t) => {
  // Capacity 7: each chunk of 50 fills several lists, so claimStatusEntries closes lists as it goes.
  const app = await build(t, { statusLists: { capacity: 7 } })
  const achievement = await createAchievement(app)
  const items = Array.from({ length: 120 }, (_, i) => ({ achievementId: achievement.id, recipient: { name: `Holder ${i}`, email: `holder${i}@example.com` } }))
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { items } })
  t.equal(response.statusCode, 207)
  const body = response.json()
  t.same(body.summary, { total: 120, created: 120, failed: 0 })
  t.same(body.results.map((r: { credential: { credentialSubject: { name: string } } }) => r.credential.credentialSubject.name), items.map((item) => item.recipient.name), 'answers in input order')
  const entries = new Set(body.results.map((r: { credential: { credentialStatus: { statusListCredential: string, statusListIndex: string } } }) => `${r.credential.credentialStatus.statusListCredential} ${r.credential.credentialStatus.statusListIndex}`))
  t.equal(entries.size, 120, 'no two credentials share a status entry')
  const lists = await app.sql<Array<{ allocated: number, capacity: number, state: string, used: number }>>`
    select l.allocated, l.capacity, l.state, (select count(*)::int from status_list_entries e where e.status_list_id = l.id) as used
    from status_lists l`
  // Two chunks in flight may both claim on one list before either closes it (a few over capacity, never over size).
  t.ok(lists.length >= 10, `the lists rolled over (${lists.length} lists)`)
  t.ok(lists.every((l) => l.allocated === l.used), 'every claimed index is counted on its list')
  t.ok(lists.every((l) => l.state === 'open' || l.allocated >= l.capacity), 'only a list at its capacity is closed')
  t.equal(lists.filter((l) => l.state === 'open').length, 1, 'one list is left open')
  const [rows] = await app.sql<[{ credentials: number, versions: number, events: number, jobs: number, audits: number }]>`
    select (select count(*)::int from credentials) as credentials, (select count(*)::int from credential_versions) as versions,
      (select count(*)::int from events where type = 'credential.issued') as events,
      (select count(*)::int from pgboss.job j join events e on e.id = (j.data->>'eventId')::uuid where j.name = 'email-send') as jobs,
      (select count(*)::int from audit_events where action = 'credential.issued') as audits`
  t.same(rows, { credentials: 120, versions: 120, events: 120, jobs: 120, audits: 120 }, 'each credential has its version, event, email job (written with the event) and audit event')
  for (const index of [0, 49, 50, 119]) {
    const verified = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: body.results[index].credential } })
    t.equal(verified.json().status, 'valid', `item ${index} verifies`)
    const jwt = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: body.results[index].jwt } })
    t.equal(jwt.json().status, 'valid', `item ${index}'s VC-JWT verifies`)
  }
  const revoked = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${body.results[77].id}/revoke`, headers: app.auth, payload: { reason: 'test' } })
  t.equal(revoked.statusCode, 200)
  const afterRevoke = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: body.results[77].credential } })
  t.equal(afterRevoke.json().status, 'revoked', 'a batch-issued credential revokes like any other')
})

t.test('a batch meets credentials held from before it, and holders named twice across chunks', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const before = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: { name: 'Held', email: 'held@example.com' } } })
  t.equal(before.statusCode, 201)
  const items = Array.from({ length: 60 }, (_, i) => ({ achievementId: achievement.id, recipient: { name: `Holder ${i}`, email: `holder${i}@example.com` } }))
  items[10] = { achievementId: achievement.id, recipient: { name: 'Held again', email: 'HELD@example.com' } }
  items[55] = { achievementId: achievement.id, recipient: { name: 'Holder 3 again', email: 'holder3@example.com' } }
  const body = (await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { items } })).json()
  t.same(body.summary, { total: 60, created: 58, failed: 2 })
  t.equal(body.results[10].type, 'urn:tessera:problem:duplicate_credential')
  t.equal(body.results[10].existing.id, before.json().id, 'names the credential held before the batch')
  t.equal(body.results[55].type, 'urn:tessera:problem:duplicate_credential', 'the same holder in a later chunk')
  t.equal(body.results[55].existing.id, body.results[3].id)
})

t.test('when a chunk fails as a whole, its items are issued one by one and each still gets its answer', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  // A real fault in the database that only a multi-row insert meets.
  await app.sql.unsafe(`
    create function refuse_multi_row() returns trigger language plpgsql as $$
    begin
      if (select count(*) from inserted) > 1 then raise exception 'multi-row insert refused by the test'; end if;
      return null;
    end $$;
    create trigger refuse_multi_row after insert on credentials referencing new table as inserted
      for each statement execute function refuse_multi_row();`)
  const items = Array.from({ length: 5 }, (_, i) => ({ achievementId: achievement.id, recipient: { name: `Holder ${i}`, email: `holder${i}@example.com` } }))
  items.push({ ...items[1]! })
  const body = (await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { items } })).json()
  t.same(body.summary, { total: 6, created: 5, failed: 1 })
  t.equal(body.results[5].type, 'urn:tessera:problem:duplicate_credential', 'the one-by-one path still refuses the repeated holder')
  const [{ n }] = await app.sql<[{ n: number }]>`select count(*)::int as n from credentials`
  t.equal(n, 5)
  const [lists] = await app.sql<[{ allocated: number, used: number }]>`select sum(allocated)::int as allocated, (select count(*)::int from status_list_entries) as used from status_lists`
  t.same(lists, { allocated: 5, used: 5 }, 'the failed chunk\'s claims rolled back with it')
})
