import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'

t.test('the audit trail is append-only: PostgreSQL refuses UPDATE, DELETE and TRUNCATE', async (t) => {
  const app = await build(t)
  await createAchievement(app)
  const before = await app.sql`select * from audit_events order by id`
  t.equal(before.length, 1)
  for (const statement of ["update audit_events set actor = 'someone else'", 'delete from audit_events', 'truncate audit_events']) {
    await t.rejects(app.sql.unsafe(statement), { message: /audit_events is append-only/, code: '42501' }, statement)
  }
  t.same(await app.sql`select * from audit_events order by id`, before, 'nothing changed')
})

t.test('staff read the audit trail: newest first, filtered, page by page', async (t) => {
  const app = await build(t)
  const cma = await createAchievement(app)
  await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Second' })
  const issued = await issue(app, { achievementId: cma.id, recipient: { name: 'Jo', email: 'jo@example.com' } })
  const revoke = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'Issued in error' } })
  t.equal(revoke.statusCode, 200)

  const list = async (query: string) => {
    const response = await app.app.inject({ method: 'GET', url: `/api/v1/audit-events${query}`, headers: app.auth })
    t.equal(response.statusCode, 200, query)
    return response.json()
  }
  const all = await list('')
  t.same(all.items.map((e: { action: string }) => e.action), ['credential.revoked', 'credential.issued', 'achievement.created', 'achievement.created'])
  t.equal(all.next, null)
  const revoked = all.items[0]
  t.match(revoked, { actor: 'bootstrap', actorName: 'ADMIN_API_KEY (bootstrap)', subject: { type: 'credential', id: issued.id }, version: 1, reason: 'Issued in error', before: { revoked: false }, after: { revoked: true, revokedVersions: [1] } })
  t.type(revoked.requestId, 'string')
  t.match(revoked.occurredAt, /^\d{4}-\d\d-\d\dT/)

  t.same((await list(`?subjectType=credential&subjectId=${issued.id}`)).items.map((e: { action: string }) => e.action), ['credential.revoked', 'credential.issued'])
  t.same((await list('?action=achievement.created')).items.length, 2)
  t.same((await list('?actor=nobody')).items, [])

  await app.sql`insert into audit_events (occurred_at, actor, action, subject_type, subject_id) values ('2020-05-01T00:00:00Z', 'admin', 'old.event', 'thing', 'x')`
  t.same((await list('?since=2020-01-01T00:00:00Z&until=2021-01-01T00:00:00Z')).items.map((e: { action: string }) => e.action), ['old.event'])
  t.equal((await list('?until=2021-01-01T00:00:00Z')).items.length, 1)

  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: { items: Array<{ id: string }>, next: string | null } = await list(`?limit=2${cursor === null ? '' : `&after=${cursor}`}`)
    seen.push(...page.items.map((e) => e.id))
    cursor = page.next
  } while (cursor !== null)
  t.equal(seen.length, 5)
  t.equal(new Set(seen).size, 5, 'no event twice')

  for (const bad of ['?after=abc', '?since=yesterday', '?limit=501', '?colour=red']) {
    const response = await app.app.inject({ method: 'GET', url: `/api/v1/audit-events${bad}`, headers: app.auth })
    t.equal(response.statusCode, 400, bad)
    t.match(response.headers['content-type'], /^application\/problem\+json/)
  }
  t.equal((await app.app.inject({ method: 'GET', url: '/api/v1/audit-events' })).statusCode, 401)
})
