import type { LightMyRequestResponse } from 'fastify'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { build, type TestApp } from '../helpers/build-app.js'
import { consoleCsrf, consoleStaff, enrol } from '../helpers/console.js'
import { FAST_JOBS, startReceiver, waitFor } from '../helpers/notifications.js'
import { SoftwareAuthenticator } from '../helpers/passkey-authenticator.js'
import { CookieJar, getPage } from '../helpers/portal.js'

type Staff = Awaited<ReturnType<typeof consoleStaff>>

/** A form with repeated fields (ticked checkboxes), as a browser posts it, with the CSRF token of the page that shows it. */
async function submitMany (app: TestApp, staff: Staff, pageUrl: string, action: string, fields: Array<[string, string]>): Promise<LightMyRequestResponse> {
  const shown = await staff.page(pageUrl)
  const body = new URLSearchParams([['_csrf', consoleCsrf(shown.body)], ...fields]).toString()
  return staff.jar.take(await app.app.inject({ method: 'POST', url: action, headers: { 'content-type': 'application/x-www-form-urlencoded', ...staff.jar.header() }, payload: body }))
}

/** The value shown once on an admin-once page (an enrolment link, a key, a signing secret). */
const shownOnce = (html: string): string => {
  const match = /id="shown-once" readonly value="([^"]+)"/.exec(html)
  if (match?.[1] === undefined) throw new Error('nothing shown once on the page')
  return match[1].replaceAll('&#39;', '\'').replaceAll('&quot;', '"').replaceAll('&amp;', '&')
}

const auditOf = async (app: TestApp, subjectType: string, subjectId: string): Promise<Array<{ actor: string, action: string, before: any, after: any, details: any }>> =>
  await app.sql`select actor, action, before, after, details from audit_events where subject_type = ${subjectType} and subject_id = ${subjectId} order by id` as never

t.test('an administrator adds a staff user, changes their role, makes a new enrolment link and disables them; each step audited as the administrator', async (t) => {
  const app = await build(t)
  const admin = await consoleStaff(app, 'admin', { name: 'Ada Admin' })
  const actor = `staff:${admin.user.id}`

  const index = await admin.page('/console/admin')
  t.equal(index.statusCode, 200)
  for (const href of ['/console/admin/staff', '/console/admin/keys', '/console/admin/webhooks', '/console/admin/registry']) t.match(index.body, `href="${href}"`, `the index links to ${href}`)
  t.match(index.body, /<a href="\/console\/admin" aria-current="page">Administration<\/a>/, 'the navigation marks the section')

  const created = await admin.submit('/console/admin/staff', '/console/admin/staff', { name: 'Rita Registrar', email: 'Rita@AAMA.example', role: 'registrar' })
  t.equal(created.statusCode, 200)
  t.match(created.body, /give this link to the person; it works once for 72 hours/i)
  const link = shownOnce(created.body)
  t.match(link, `${app.config.publicBaseUrl}/console/enrol?token=`)
  const [rita] = await app.sql<Array<{ id: string, role: string, createdBy: string, email: string }>>`select id, role, created_by as "createdBy", email from staff_users where email = 'rita@aama.example'`
  t.same({ role: rita?.role, createdBy: rita?.createdBy }, { role: 'registrar', createdBy: actor }, 'the user is in the database, made by the administrator')
  t.notMatch((await admin.page('/console/admin/staff')).body, link.split('token=')[1]!, 'the link is not shown again')

  // Rita enrols with the link, so she has a session for the disabling to end.
  const ritaJar = new CookieJar()
  const enrolled = await enrol(app, ritaJar, new SoftwareAuthenticator(app.config.publicBaseUrl), new URL(link).searchParams.get('token')!)
  t.equal(enrolled.statusCode, 200, 'the link registers her passkey')
  t.equal((await getPage(app, ritaJar, '/console')).statusCode, 200)

  const list = await admin.page('/console/admin/staff')
  t.match(list.body, /<td>Rita Registrar<\/td>\s*<td>rita@aama\.example<\/td>\s*<td>Registrar<\/td>\s*<td>Not linked<\/td>\s*<td>No<\/td>/, 'listed: name, email, role, single sign-on, disabled')
  t.match(list.body, /Ada Admin \(you\)/)

  const confirm = await admin.page(`/console/admin/staff/${rita!.id}/role?role=viewer`)
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, /As Viewer \(read only\), from their next page on, they may:/)
  for (const scope of ['achievements:read', 'credentials:read', 'audit:read']) t.match(confirm.body, `<code>${scope}</code>`, `the confirmation lists ${scope}`)
  t.notMatch(confirm.body, '<code>credentials:issue</code>', 'and nothing a viewer may not do')
  const changed = await admin.submit(`/console/admin/staff/${rita!.id}/role?role=viewer`, `/console/admin/staff/${rita!.id}/role`, { role: 'viewer' })
  t.equal(changed.statusCode, 303)
  t.equal(changed.headers.location, '/console/admin/staff')
  t.equal((await app.sql`select role from staff_users where id = ${rita!.id}`)[0]?.role, 'viewer')
  t.match((await getPage(app, ritaJar, '/console')).body, 'Rita Registrar (Viewer (read only))', 'her next page has the new role')

  const linkPage = await admin.page(`/console/admin/staff/${rita!.id}/enrolment`)
  t.match(linkPage.body, /Their passkeys so far keep working/)
  const newLink = await admin.submit(`/console/admin/staff/${rita!.id}/enrolment`, `/console/admin/staff/${rita!.id}/enrolment`, {})
  t.equal(newLink.statusCode, 200)
  t.match(newLink.body, /give this link to the person; it works once for 72 hours/i)
  t.not(shownOnce(newLink.body), link, 'a new link')

  const disable = await admin.page(`/console/admin/staff/${rita!.id}/disable`)
  t.match(disable.body, /their sessions end now and their passkeys stop working/i)
  const disabled = await admin.submit(`/console/admin/staff/${rita!.id}/disable`, `/console/admin/staff/${rita!.id}/disable`, {})
  t.equal(disabled.statusCode, 303)
  t.ok((await app.sql`select disabled_at from staff_users where id = ${rita!.id}`)[0]?.disabled_at, 'disabled in the database')
  t.equal((await getPage(app, ritaJar, '/console')).statusCode, 303, 'her session ended: back to the sign-in page')
  t.match((await admin.page('/console/admin/staff')).body, /<td>Disabled 20\d\d-/, 'the list says so')

  const trail = await auditOf(app, 'staff_user', rita!.id)
  t.same(trail.filter((e) => e.actor === actor).map((e) => e.action), ['staff_user.created', 'staff_user.enrolment_link_created', 'staff_user.role_changed', 'staff_user.enrolment_link_created', 'staff_user.disabled'], 'every step audited with the administrator as actor')
  const roleChange = trail.find((e) => e.action === 'staff_user.role_changed')
  t.same([roleChange?.before, roleChange?.after], [{ role: 'registrar' }, { role: 'viewer' }])
})

t.test('an administrator cannot lower their own role or disable themselves: the page says so and nothing changes', async (t) => {
  const app = await build(t)
  const admin = await consoleStaff(app, 'admin')

  const confirm = await admin.page(`/console/admin/staff/${admin.user.id}/role?role=registrar`)
  t.match(confirm.body, /you cannot lower your own role/, 'the confirmation warns')
  const lowered = await admin.submit(`/console/admin/staff/${admin.user.id}/role?role=registrar`, `/console/admin/staff/${admin.user.id}/role`, { role: 'registrar' })
  t.equal(lowered.statusCode, 409)
  t.match(lowered.body, /<p role="alert">You cannot lower your own role: ask another administrator\.<\/p>/, 'the domain function refuses, and the page says why')

  const disable = await admin.page(`/console/admin/staff/${admin.user.id}/disable`)
  t.match(disable.body, /you cannot disable yourself/)
  const disabled = await admin.submit(`/console/admin/staff/${admin.user.id}/disable`, `/console/admin/staff/${admin.user.id}/disable`, {})
  t.equal(disabled.statusCode, 409)
  t.match(disabled.body, /You cannot disable yourself: ask another administrator\./)

  const [me] = await app.sql`select role, disabled_at from staff_users where id = ${admin.user.id}`
  t.same({ role: me?.role, disabled: me?.disabled_at }, { role: 'admin', disabled: null }, 'still an administrator, not disabled')
  t.equal((await admin.page('/console/admin')).statusCode, 200, 'and still signed in')
  t.same((await auditOf(app, 'staff_user', admin.user.id)).map((e) => e.action).filter((a) => a === 'staff_user.role_changed' || a === 'staff_user.disabled'), [], 'nothing audited as changed')
})

t.test('an administrator creates an API key (shown once; it works), sees it listed without its secret, and revokes it', async (t) => {
  const app = await build(t)
  const admin = await consoleStaff(app, 'admin')
  const actor = `staff:${admin.user.id}`

  const form = await admin.page('/console/admin/keys/new')
  t.match(form.body, /<input type="checkbox" id="scope-keys-admin" name="scopes" value="keys:admin">/, 'scopes are checkboxes')
  const created = await submitMany(app, admin, '/console/admin/keys/new', '/console/admin/keys', [['name', 'Exam office'], ['scopes', 'credentials:read'], ['scopes', 'audit:read'], ['expiresOn', '']])
  t.equal(created.statusCode, 200)
  t.equal(created.headers['cache-control'], 'no-store')
  const key = shownOnce(created.body)
  t.match(key, /^tsk_/)
  t.match(created.body, /It does not expire/)
  const [row] = await app.sql<Array<{ id: string, scopes: string[], createdBy: string }>>`select id, scopes, created_by as "createdBy" from api_keys where name = 'Exam office'`
  t.same({ scopes: row?.scopes, createdBy: row?.createdBy }, { scopes: ['credentials:read', 'audit:read'], createdBy: actor })
  t.equal((await app.app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: { authorization: `Bearer ${key}` } })).statusCode, 200, 'the key works with its scope')

  const one = await submitMany(app, admin, '/console/admin/keys/new', '/console/admin/keys', [['name', 'Registry sync'], ['scopes', 'registry:admin'], ['expiresOn', '2031-01-31']])
  t.equal(one.statusCode, 200, 'one ticked box (a single value) is a list of one')
  t.match(one.body, /It expires 2031-01-31 23:59 UTC/)
  const none = await submitMany(app, admin, '/console/admin/keys/new', '/console/admin/keys', [['name', 'Nothing']])
  t.equal(none.statusCode, 400)
  t.match(none.body, /Tick at least one scope/)

  const list = await admin.page('/console/admin/keys')
  t.match(list.body, 'Exam office')
  t.match(list.body, `tsk_${row!.id}`, 'listed by how it starts')
  t.notMatch(list.body, key, 'never the secret')

  const confirm = await admin.page(`/console/admin/keys/${row!.id}/revoke`)
  t.match(confirm.body, /Every request made with it is refused from now on/)
  const revoked = await admin.submit(`/console/admin/keys/${row!.id}/revoke`, `/console/admin/keys/${row!.id}/revoke`, {})
  t.equal(revoked.statusCode, 303)
  t.equal((await app.sql`select revoked_by from api_keys where id = ${row!.id}`)[0]?.revoked_by, actor)
  t.equal((await app.app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: { authorization: `Bearer ${key}` } })).statusCode, 401, 'the key no longer works')
  t.match((await admin.page('/console/admin/keys')).body, /Revoked 20\d\d-/)
  t.same((await auditOf(app, 'api_key', row!.id)).map((e) => [e.actor, e.action]), [[actor, 'api_key.created'], [actor, 'api_key.revoked']])
})

t.test('webhooks: register (secret shown once), send a test event that reaches a real receiver signed, disable and enable, retry a failed delivery', async (t) => {
  let status = 200
  const receiver = await startReceiver({ status: () => status })
  t.teardown(receiver.close)
  // A failed attempt's automatic retry waits 10 minutes: the retry by hand is the only other attempt.
  const app = await build(t, { env: { ...FAST_JOBS, OUTBOUND_ALLOW_LOOPBACK: 'true', JOB_RETRY_DELAY_SECONDS: '600' } })
  await app.app.ready()
  const admin = await consoleStaff(app, 'admin')
  const actor = `staff:${admin.user.id}`

  const form = await admin.page('/console/admin/webhooks/new')
  t.match(form.body, /<input type="checkbox" id="event-credential-issued" name="events" value="credential.issued">/)
  const registered = await submitMany(app, admin, '/console/admin/webhooks/new', '/console/admin/webhooks', [['url', receiver.url], ['events', 'credential.issued'], ['description', 'CRM']])
  t.equal(registered.statusCode, 200)
  const secret = shownOnce(registered.body)
  t.match(secret, /^whsec_/)
  const [hook] = await app.sql<Array<{ id: string, eventTypes: string[], createdBy: string }>>`select id, event_types as "eventTypes", created_by as "createdBy" from webhooks`
  t.same({ events: hook?.eventTypes, createdBy: hook?.createdBy }, { events: ['credential.issued'], createdBy: actor })
  const list = await admin.page('/console/admin/webhooks')
  t.match(list.body, receiver.url)
  t.notMatch(list.body, secret, 'the secret is not shown again')
  t.match(list.body, /No failed deliveries\./)

  const confirm = await admin.page(`/console/admin/webhooks/${hook!.id}/test`)
  t.match(confirm.body, /&quot;webhook\.test&quot; event, signed like every other/)
  const sent = await admin.submit(`/console/admin/webhooks/${hook!.id}/test`, `/console/admin/webhooks/${hook!.id}/test`, {})
  t.equal(sent.statusCode, 303)
  t.equal(sent.headers.location, `/console/admin/webhooks/${hook!.id}`)
  const received = await waitFor('the test event at the receiver', () => receiver.received[0])
  const event = new Webhook(secret).verify(received.body, received.headers as Record<string, string>) as { id: string, type: string, data: Record<string, string> }
  t.equal(event.type, 'webhook.test', 'a webhook.test event, whose signature verifies with the secret shown once')
  t.equal(event.data.webhookId, hook!.id)
  t.equal(received.headers['webhook-id'], event.id)
  t.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(received.body, received.headers as Record<string, string>), 'another secret does not verify it')
  await waitFor('the delivery recorded as delivered', async () => (await app.sql`select 1 from webhook_deliveries where state = 'delivered'`)[0])
  const page = await admin.page(`/console/admin/webhooks/${hook!.id}`)
  t.match(page.body, /<td>webhook\.test<\/td>\s*<td>[^<]+<\/td>\s*<td>delivered<\/td>\s*<td>1<\/td>\s*<td>HTTP 200<\/td>/, 'the test event is in the recent deliveries, with the answer')

  // Disabled: nothing sent, not even a test.
  const disabled = await admin.submit(`/console/admin/webhooks/${hook!.id}/disable`, `/console/admin/webhooks/${hook!.id}/disable`, {})
  t.equal(disabled.statusCode, 303)
  t.equal((await app.sql`select enabled from webhooks where id = ${hook!.id}`)[0]?.enabled, false)
  const refused = await admin.submit(`/console/admin/webhooks/${hook!.id}`, `/console/admin/webhooks/${hook!.id}/test`, {})
  t.equal(refused.statusCode, 409)
  t.match(refused.body, /The webhook is disabled: enable it first/)
  t.equal((await admin.submit(`/console/admin/webhooks/${hook!.id}/enable`, `/console/admin/webhooks/${hook!.id}/enable`, {})).statusCode, 303)
  t.equal((await app.sql`select enabled from webhooks where id = ${hook!.id}`)[0]?.enabled, true)

  // A delivery the receiver refuses, then given up on (as after its 3 days), retried by hand.
  status = 500
  await admin.submit(`/console/admin/webhooks/${hook!.id}/test`, `/console/admin/webhooks/${hook!.id}/test`, {})
  const pending = await waitFor('the refused attempt on record', async () => (await app.sql<Array<{ id: string }>>`select id from webhook_deliveries where state = 'pending' and attempts = 1`)[0])
  await waitFor('the job to wait for its retry', async () => (await app.sql`select 1 from pgboss.job where name = 'webhook-deliver' and state = 'retry'`)[0])
  await app.sql`update webhook_deliveries set state = 'failed', failed_at = now() where id = ${pending.id}`
  const failedList = await admin.page('/console/admin/webhooks')
  t.match(failedList.body, new RegExp(`<td>webhook\\.test</td>\\s*<td>[^<]+</td>\\s*<td>failed</td>\\s*<td>1</td>\\s*<td>HTTP 500</td>\\s*<td><a href="/console/admin/webhooks/${hook!.id}/deliveries/${pending.id}/retry">Retry…</a>`), 'the failed delivery is listed with its answer and a retry')
  status = 204
  const retryPage = `/console/admin/webhooks/${hook!.id}/deliveries/${pending.id}/retry`
  t.match((await admin.page(retryPage)).body, /The receiver gets the same event id/)
  const retried = await admin.submit(retryPage, retryPage, {})
  t.equal(retried.statusCode, 200)
  t.match(retried.body, /<h1>Delivered<\/h1>/)
  t.equal((await app.sql`select state from webhook_deliveries where id = ${pending.id}`)[0]?.state, 'delivered')
  t.equal(receiver.received.length, 3, 'the test event, its refused attempt, and the retry')
  t.equal(receiver.received[2]?.headers['webhook-id'], receiver.received[1]?.headers['webhook-id'], 'the retry carries the same event id')

  const trail = await auditOf(app, 'webhook', hook!.id)
  t.same(trail.map((e) => [e.actor, e.action]), [[actor, 'webhook.created'], [actor, 'webhook.test_sent'], [actor, 'webhook.disabled'], [actor, 'webhook.enabled'], [actor, 'webhook.test_sent'], [actor, 'webhook.delivery_retried']], 'every change audited as the administrator')
  t.same(trail[5]?.details, { deliveryId: pending.id, outcome: 'delivered' })
  t.equal((await app.sql`select count(*)::int as n from events where type = 'webhook.test' and credential_id is null`)[0]?.n, 2, 'test events name no credential')
  await t.rejects(app.sql`insert into events (id, type, occurred_at, data, notify_holder) values (gen_random_uuid(), 'credential.issued', now(), '{}', false)`, /events_credential_unless_test/, 'every other event still names its credential')
})

t.test('an administrator recognises an issuer id and an origin, and removes one', async (t) => {
  const app = await build(t)
  const admin = await consoleStaff(app, 'admin')
  const actor = `staff:${admin.user.id}`
  const did = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'

  const added = await admin.submit('/console/admin/registry', '/console/admin/registry', { kind: 'issuer-id', matcher: did, name: 'Regional Board', note: 'Key confirmed by phone.' })
  t.equal(added.statusCode, 303)
  t.equal((await admin.submit('/console/admin/registry', '/console/admin/registry', { kind: 'origin', matcher: 'https://badges.example.org', name: 'Example CE', note: '' })).statusCode, 303)
  const again = await admin.submit('/console/admin/registry', '/console/admin/registry', { kind: 'issuer-id', matcher: did, name: 'Twice', note: '' })
  t.equal(again.statusCode, 409)
  t.match(again.body, /is already recognised, as &quot;Regional Board&quot;/)
  const bad = await admin.submit('/console/admin/registry', '/console/admin/registry', { kind: 'origin', matcher: 'http://plain.example.org', name: 'Plain', note: '' })
  t.equal(bad.statusCode, 400, 'an origin that is not https is refused by the domain')

  const list = await admin.page('/console/admin/registry')
  t.match(list.body, /<td>Regional Board<\/td>\s*<td>Issuer id<\/td>/)
  t.match(list.body, /<td>Example CE<\/td>\s*<td>Origin<\/td>\s*<td><code>https:\/\/badges\.example\.org<\/code><\/td>/)
  const rows = await app.sql<Array<{ id: string, name: string, createdBy: string }>>`select id, name, created_by as "createdBy" from recognised_issuers order by seq`
  t.same(rows.map((r) => [r.name, r.createdBy]), [['Regional Board', actor], ['Example CE', actor]])

  const confirm = await admin.page(`/console/admin/registry/${rows[0]!.id}/remove`)
  t.match(confirm.body, /Credentials from it are then verified as from an issuer this body does not recognise/)
  t.equal((await admin.submit(`/console/admin/registry/${rows[0]!.id}/remove`, `/console/admin/registry/${rows[0]!.id}/remove`, {})).statusCode, 303)
  t.equal((await app.sql`select removed_by from recognised_issuers where id = ${rows[0]!.id}`)[0]?.removed_by, actor)
  t.notMatch((await admin.page('/console/admin/registry')).body, 'Regional Board', 'no longer listed')
  t.same((await auditOf(app, 'recognised_issuer', rows[0]!.id)).map((e) => [e.actor, e.action]), [[actor, 'recognised_issuer.added'], [actor, 'recognised_issuer.removed']])
})

t.test('a registrar (no staff:admin, keys:admin, webhooks:admin or registry:admin) is refused every administration page and form, route by route, and changes nothing', async (t) => {
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  const admin = await consoleStaff(app, 'admin')
  // Real things to aim at, so a refusal is not a 404 in disguise.
  const key = (await submitMany(app, admin, '/console/admin/keys/new', '/console/admin/keys', [['name', 'Target'], ['scopes', 'audit:read']]))
  t.equal(key.statusCode, 200)
  const hookMade = await submitMany(app, admin, '/console/admin/webhooks/new', '/console/admin/webhooks', [['url', 'http://127.0.0.1:9/hooks'], ['events', 'credential.issued']])
  t.equal(hookMade.statusCode, 200)
  t.equal((await admin.submit('/console/admin/registry', '/console/admin/registry', { kind: 'origin', matcher: 'https://badges.example.org', name: 'Example CE', note: '' })).statusCode, 303)
  const [keyRow] = await app.sql<Array<{ id: string }>>`select id from api_keys`
  const [hook] = await app.sql<Array<{ id: string }>>`select id from webhooks`
  const [entry] = await app.sql<Array<{ id: string }>>`select id from recognised_issuers`
  const [event] = await app.sql<Array<{ id: string }>>`insert into events (id, type, occurred_at, data, notify_holder) values (gen_random_uuid(), 'webhook.test', now(), '{}', false) returning id`
  const [delivery] = await app.sql<Array<{ id: string }>>`insert into webhook_deliveries (id, webhook_id, event_id, state, created_at) values (gen_random_uuid(), ${hook!.id}, ${event!.id}, 'failed', now()) returning id::text`

  const registrar = await consoleStaff(app, 'registrar')
  const ids: Record<string, string> = { id: '', deliveryId: delivery!.id }
  const idFor = (url: string): string => url.startsWith('/console/admin/staff') ? admin.user.id : url.startsWith('/console/admin/keys') ? keyRow!.id : url.startsWith('/console/admin/webhooks') ? hook!.id : entry!.id
  // What each form would change, were it allowed.
  const fields: Record<string, Record<string, string>> = {
    '/console/admin/staff': { name: 'Mallory', email: 'mallory@aama.example', role: 'admin' },
    '/console/admin/staff/:id/role': { role: 'viewer' },
    '/console/admin/keys': { name: 'Mine', scopes: 'keys:admin' },
    '/console/admin/webhooks': { url: 'https://evil.example/hooks', events: 'credential.issued' },
    '/console/admin/registry': { kind: 'origin', matcher: 'https://evil.example', name: 'Evil', note: '' }
  }
  const fieldsFor = (url: string): Record<string, string> => fields[url] ?? {}
  const snapshot = async (): Promise<unknown> => await app.sql`
    select (select count(*)::int from audit_events) as audit, (select json_agg(s order by s.id) from (select id, role, disabled_at from staff_users) s) as staff,
           (select json_agg(k order by k.id) from (select id, revoked_at from api_keys) k) as keys, (select json_agg(w order by w.id) from (select id, enabled from webhooks) w) as hooks,
           (select json_agg(r order by r.id) from (select id, removed_at from recognised_issuers) r) as registry, (select count(*)::int from events) as events,
           (select json_agg(d order by d.id) from (select id, state, attempts from webhook_deliveries) d) as deliveries, (select count(*)::int from staff_enrolments) as enrolments`
  const before = await snapshot()

  const routes = app.app.routeTable.filter((r) => r.url.startsWith('/console/admin'))
  t.ok(routes.length >= 29, `${routes.length} administration routes`)
  for (const route of routes) {
    t.ok(['staff:admin', 'keys:admin', 'webhooks:admin', 'registry:admin'].includes(String(route.config?.scope)), `${route.url} declares an administration scope`)
    const url = route.url.replace(':deliveryId', ids.deliveryId!).replace(':id', idFor(route.url)) + (route.url.endsWith('/role') ? '?role=viewer' : '')
    for (const method of ([] as string[]).concat(route.method).filter((m) => m === 'GET' || m === 'POST')) {
      const answer = method === 'GET' ? await registrar.page(url) : await registrar.submit('/console', url.split('?')[0]!, fieldsFor(route.url))
      t.equal(answer.statusCode, 403, `${method} ${route.url}: 403`)
      t.match(answer.body, new RegExp(`Your role \\(registrar\\) does not allow this: it needs &quot;${String(route.config?.scope)}&quot;`), `${method} ${route.url}: the page says why`)
    }
  }
  t.same(await snapshot(), before, 'nothing changed, nothing audited')
  t.notMatch((await registrar.page('/console')).body, 'href="/console/admin"', 'the navigation does not offer administration')
})
