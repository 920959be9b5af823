import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'

t.test('staff find credentials by achievement, email, status and expiry window, page by page', async (t) => {
  let now = new Date('2026-01-01T00:00:00Z')
  // Each call is a second later, so issue order is a total order.
  const app = await build(t, { clock: () => { now = new Date(now.getTime() + 1000); return now } })
  const cma = await createAchievement(app)
  const other = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Other' })
  // Expiries 60 months after validFrom: 2026-02-15 (expiring soon), 2025-12-01 (expired), 2030-06-01, and one revoked.
  const soon = await issue(app, { achievementId: cma.id, recipient: { name: 'Soon', email: 'soon@example.com' }, validFrom: '2021-02-15T00:00:00Z' })
  const expired = await issue(app, { achievementId: cma.id, recipient: { name: 'Gone', email: 'gone@example.com' }, validFrom: '2020-12-01T00:00:00Z' })
  const later = await issue(app, { achievementId: other.id, recipient: { name: 'Later', email: 'Soon@Example.com' }, validFrom: '2025-06-01T00:00:00Z' })
  const revoked = await issue(app, { achievementId: cma.id, recipient: { name: 'Rev', email: 'rev@example.com' } })
  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${revoked.id}/revoke`, headers: app.auth, payload: { reason: 'test' } })
  now = new Date('2026-01-02T00:00:00Z')
  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${later.id}/reissue`, headers: app.auth, payload: { reason: 'correction', recipient: { name: 'Later Fixed' } } })

  const ids = async (query: string): Promise<string[]> => {
    const response = await app.app.inject({ method: 'GET', url: `/api/v1/credentials?${query}`, headers: app.auth })
    t.equal(response.statusCode, 200, query)
    return response.json().items.map((i: { id: string }) => i.id)
  }
  t.same(await ids(`achievementId=${cma.id}`), [soon.id, expired.id, revoked.id])
  t.same(await ids('email=SOON@example.com'), [soon.id, later.id], 'email is compared case-insensitively')
  t.same(await ids('status=valid'), [soon.id, later.id])
  t.same(await ids('status=expired'), [expired.id])
  t.same(await ids('status=revoked'), [revoked.id])
  t.same(await ids('status=superseded'), [later.id], 'corrected credentials')
  t.same(await ids('status=valid&expiresAfter=2026-01-02T00:00:00Z&expiresBefore=2026-04-02T00:00:00Z'), [soon.id], 'expiring in the next 90 days')

  const item = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials?email=soon@example.com&achievementId=${other.id}`, headers: app.auth })).json().items[0]
  t.match(item, { id: later.id, recipientName: 'Later Fixed', version: 2, status: 'valid', validUntil: '2030-06-01T00:00:00.000Z' })

  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: { items: Array<{ id: string }>, next: string | null } = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials?limit=2${cursor === null ? '' : `&after=${cursor}`}`, headers: app.auth })).json()
    seen.push(...page.items.map((i) => i.id))
    cursor = page.next
  } while (cursor !== null)
  t.same(seen, [soon.id, expired.id, later.id, revoked.id], 'every credential once, in issue order')

  for (const bad of ['status=lost', 'expiresBefore=tomorrow', 'limit=0', 'colour=red']) {
    const response = await app.app.inject({ method: 'GET', url: `/api/v1/credentials?${bad}`, headers: app.auth })
    t.equal(response.statusCode, 400, bad)
  }
  t.equal((await app.app.inject({ method: 'GET', url: '/api/v1/credentials' })).statusCode, 401)
})
