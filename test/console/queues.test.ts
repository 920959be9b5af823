import t from 'tap'
import type { Test } from 'tap'
import { applyForRecertification } from '../../src/capabilities/continuing-education/applications.js'
import { addApprovedProvider } from '../../src/capabilities/continuing-education/approved-providers.js'
import { recordActivity } from '../../src/capabilities/continuing-education/record-activity.js'
import { rejectOrder, submitBadgeOrder, submitCorrectionRequest } from '../../src/capabilities/holders/orders.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { consoleStaff } from '../helpers/console.js'
import { ceDeps, declared } from '../helpers/continuing-education.js'

/**
 * The console's queues: badge orders, correction requests and
 * recertification applications, approved and rejected by a registrar through
 * the pages (confirmation, then post/redirect/get), with the same domain
 * functions as the staff API: the state in PostgreSQL, the credential
 * version made and the audit rows naming the staff user. A viewer is refused
 * every queue route; an item decided by someone else is a 409 page.
 */

const NOW = new Date('2026-12-04T12:00:00Z')
const PROVIDER = 'https://www.aama-ntl.org'
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n')
const CMA_RULES = { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } }

async function setUp (t: Test): Promise<{ app: TestApp, achievementId: string }> {
  const app = await build(t, { clock: () => NOW })
  const { id: achievementId } = await createAchievement(app, CMA_RULES)
  return { app, achievementId }
}

const auditOf = async (app: TestApp, subjectId: string): Promise<Array<{ actor: string, action: string, reason: string | null }>> =>
  await app.sql<Array<{ actor: string, action: string, reason: string | null }>>`select actor, action, reason from audit_events where subject_id = ${subjectId} order by id`

t.test('badge orders: a registrar approves one (the badge is issued as confirmed) and rejects another with a reason', async (t) => {
  const { app, achievementId } = await setUp(t)
  const jane = await submitBadgeOrder(app.sql, NOW, { name: 'Jane Doe', email: 'Jane@example.org', certificateNumber: 'CMA-111', certifiedOn: '2023-01-15', note: 'Certified since 2013.', evidenceUrl: 'https://old-badges.example/assertions/1' })
  const sam = await submitBadgeOrder(app.sql, NOW, { name: 'Sam Lee', email: 'sam@example.org', certificateNumber: 'CMA-222', certifiedOn: '2024-05-01' })
  const staff = await consoleStaff(app, 'registrar')

  const queue = await staff.page('/console/queues/orders')
  t.equal(queue.statusCode, 200)
  for (const text of ['Jane Doe', 'jane@example.org', 'CMA-111', '15 January 2023', 'Certified since 2013.', 'https://old-badges.example/assertions/1', 'Sam Lee']) t.match(queue.body, text)
  t.match(queue.body, `/console/queues/orders/${jane}/approve`)

  const form = await staff.page(`/console/queues/orders/${jane}/approve`)
  t.equal(form.statusCode, 200)
  t.match(form.body, /<option value="[^"]+" selected>CMA \(AAMA\)/, 'the only active achievement is chosen')
  t.match(form.body, 'value="2023-01-15"', 'valid from defaults to the certification date on the form')

  const bad = await staff.page(`/console/queues/orders/${jane}/approve?confirm=yes&achievementId=${achievementId}&validFrom=2023-01-15&validUntil=2022-01-01&recipientName=Jane+Doe&notify=yes`)
  t.equal(bad.statusCode, 422)
  t.match(bad.body, '&quot;validUntil&quot; must be after &quot;validFrom&quot;.')

  const confirmUrl = `/console/queues/orders/${jane}/approve?confirm=yes&achievementId=${achievementId}&validFrom=2023-01-15&validUntil=&awardedDate=2013-06-01&recipientName=Jane+Q.+Doe&notify=yes`
  const confirm = await staff.page(confirmUrl)
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, 'Issue a CMA (AAMA) badge to Jane Q. Doe (jane@example.org), valid from 15 January 2023, valid until 15 January 2028, first awarded 1 June 2013; the holder is emailed the link.')
  t.equal((await app.sql`select 1 from credentials`).length, 0, 'the confirmation issues nothing')

  const approved = await staff.submit(confirmUrl, `/console/queues/orders/${jane}/approve`, { achievementId, validFrom: '2023-01-15', validUntil: '', awardedDate: '2013-06-01', recipientName: 'Jane Q. Doe', notify: 'yes' })
  t.equal(approved.statusCode, 303, approved.body)
  t.equal(approved.headers.location, `/console/queues/orders?done=approved&item=${jane}`)
  const [order] = await app.sql<Array<{ state: string, decidedBy: string, credentialId: string }>>`select state, decided_by as "decidedBy", result_credential_id as "credentialId" from orders where id = ${jane}`
  t.match(order, { state: 'approved', decidedBy: `staff:${staff.user.id}` })
  const [credential] = await app.sql<Array<{ name: string, email: string, version: number, validUntil: Date, awarded: Date }>>`select recipient_name as name, recipient_email as email, current_version as version, current_valid_until as "validUntil", awarded_date as awarded from credentials where id = ${order!.credentialId}`
  t.match(credential, { name: 'Jane Q. Doe', email: 'jane@example.org', version: 1 })
  t.equal(credential!.validUntil.toISOString(), '2028-01-15T00:00:00.000Z')
  t.equal(credential!.awarded.toISOString(), '2013-06-01T00:00:00.000Z')
  t.same((await auditOf(app, jane)).map((e) => [e.actor, e.action]), [[`staff:${staff.user.id}`, 'order.approved']])
  t.same((await auditOf(app, order!.credentialId)).map((e) => [e.actor, e.action]), [[`staff:${staff.user.id}`, 'credential.issued']])

  const after = await staff.page(approved.headers.location as string)
  t.match(after.body, `Approved: Jane Doe&#39;s badge is issued (${app.config.publicBaseUrl}/credentials/${order!.credentialId})`)
  t.notMatch(after.body, 'CMA-111', 'a decided order leaves the queue')

  const rejectPage = await staff.page(`/console/queues/orders/${sam}/reject`)
  t.match(rejectPage.body, 'Sam Lee (sam@example.org) is emailed the reason you give.')
  const rejected = await staff.submit(`/console/queues/orders/${sam}/reject`, `/console/queues/orders/${sam}/reject`, { reason: 'We could not find CMA-222 under this name.' })
  t.equal(rejected.statusCode, 303)
  t.match((await app.sql`select state, rejection_reason from orders where id = ${sam}`)[0], { state: 'rejected', rejection_reason: 'We could not find CMA-222 under this name.' })
  t.same(await auditOf(app, sam), [{ actor: `staff:${staff.user.id}`, action: 'order.rejected', reason: 'We could not find CMA-222 under this name.' }])
  const jobs = await app.sql`select 1 from pgboss.job where data->>'orderId' = ${sam}`
  t.equal(jobs.length, 1, 'the rejection email is queued')
  t.match((await staff.page(rejected.headers.location as string)).body, /Rejected: the badge order from Sam Lee; they are emailed the reason\./)

  // Decided elsewhere: the pages and the posts answer 409, and change nothing.
  const again = await staff.submit(`/console/queues/orders/${sam}/reject`.replace(sam, jane), `/console/queues/orders/${jane}/reject`, { reason: 'too late' })
  t.equal(again.statusCode, 409)
  t.match(again.body, `The badge order from Jane Doe was already approved by ${staff.user.name}`)
  const approveRejected = await staff.page(`/console/queues/orders/${sam}/approve`)
  t.equal(approveRejected.statusCode, 409)
  t.match(approveRejected.body, /Already decided/)
  t.equal((await app.sql`select 1 from credentials`).length, 1)
})

t.test('an order rejected over the API while the registrar was confirming gives the 409 page, not an error', async (t) => {
  const { app, achievementId } = await setUp(t)
  const id = await submitBadgeOrder(app.sql, NOW, { name: 'Lee Park', email: 'lee@example.org', certificateNumber: 'CMA-9', certifiedOn: '2024-01-01' })
  const staff = await consoleStaff(app, 'registrar')
  const confirmUrl = `/console/queues/orders/${id}/approve?confirm=yes&achievementId=${achievementId}&validFrom=2024-01-01&recipientName=Lee+Park`
  const handMade = await staff.submit(confirmUrl, `/console/queues/orders/${id}/approve`, { achievementId, validFrom: 'soon', recipientName: 'Lee Park' })
  t.equal(handMade.statusCode, 400, 'a form the schema refuses is a page')
  t.match(handMade.body, 'The form could not be read')
  t.equal(handMade.headers['content-type'], 'text/html; charset=utf-8')
  const shown = await staff.page(confirmUrl)
  t.match(shown.body, 'the holder is not emailed', 'an unchecked notify box is said')
  await rejectOrder({ sql: app.sql, keyRing: app.keyRing, urls: app.app.urls, now: NOW, actor: 'api-key-1', statusLists: app.app.statusListPolicy, outbox: app.app.outbox, jobs: app.app.jobs, dataIntegrity: app.app.dataIntegrity, changes: app.app.changes }, id, 'duplicate')
  const late = await staff.submit(confirmUrl, `/console/queues/orders/${id}/approve`, { achievementId, validFrom: '2024-01-01', recipientName: 'Lee Park' })
  t.equal(late.statusCode, 409)
  t.match(late.body, 'The badge order from Lee Park was already rejected by api-key-1 on 4 December 2026. Nothing was changed.')
  t.equal((await app.sql`select 1 from credentials`).length, 0)
})

t.test('correction requests: approving makes a new version with the requested value; rejecting records the reason', async (t) => {
  const { app, achievementId } = await setUp(t)
  const one = await issue(app, { achievementId, recipient: { name: 'Ana Ruiz', email: 'ana@example.org' } })
  const two = await issue(app, { achievementId, recipient: { name: 'Bo Chan', email: 'bo@example.org' } })
  const fix = await submitCorrectionRequest(app.sql, NOW, { credential: { id: one.id, recipientName: 'Ana Ruiz', recipientEmail: 'ana@example.org' }, field: 'name', value: 'Ana María Ruiz', note: 'My full name, please.' })
  const nope = await submitCorrectionRequest(app.sql, NOW, { credential: { id: two.id, recipientName: 'Bo Chan', recipientEmail: 'bo@example.org' }, field: 'email', value: 'bo@elsewhere.example' })
  if (!('id' in fix) || !('id' in nope)) throw new Error('requests not stored')
  const staff = await consoleStaff(app, 'registrar')

  const queue = await staff.page('/console/queues/corrections')
  t.equal(queue.statusCode, 200)
  for (const text of ['Ana Ruiz', 'Ana María Ruiz', 'My full name, please.', 'bo@example.org', 'bo@elsewhere.example', `/console/credentials/${one.id}`]) t.match(queue.body, text)

  const confirm = await staff.page(`/console/queues/corrections/${fix.id}/approve`)
  t.match(confirm.body, `Make version 2 of ${one.url} with the name &quot;Ana María Ruiz&quot; instead of &quot;Ana Ruiz&quot;`)
  const approved = await staff.submit(`/console/queues/corrections/${fix.id}/approve`, `/console/queues/corrections/${fix.id}/approve`, { notify: 'yes', note: 'checked the ID' })
  t.equal(approved.statusCode, 303, approved.body)
  const [credential] = await app.sql<Array<{ name: string, version: number }>>`select recipient_name as name, current_version as version from credentials where id = ${one.id}`
  t.same(credential, { name: 'Ana María Ruiz', version: 2 })
  const [version] = await app.sql<Array<{ kind: string }>>`select kind from credential_versions where credential_id = ${one.id} and version = 2`
  t.equal(version?.kind, 'correction')
  t.match((await auditOf(app, one.id)).at(-1), { actor: `staff:${staff.user.id}`, action: 'credential.corrected' })
  t.match(await auditOf(app, fix.id), [{ actor: `staff:${staff.user.id}`, action: 'order.approved', reason: 'checked the ID' }])
  t.match((await staff.page(approved.headers.location as string)).body, /Approved: Ana Ruiz&#39;s credential is corrected \(version 2\)/)

  const rejected = await staff.submit(`/console/queues/corrections/${nope.id}/reject`, `/console/queues/corrections/${nope.id}/reject`, { reason: 'Write from the address on file.' })
  t.equal(rejected.statusCode, 303)
  t.match((await app.sql`select state, decided_by from orders where id = ${nope.id}`)[0], { state: 'rejected', decided_by: `staff:${staff.user.id}` })
  t.equal((await app.sql`select current_version from credentials where id = ${two.id}`)[0]?.current_version, 1, 'a rejected request changes nothing')
  const left = await staff.page('/console/queues/corrections')
  t.match(left.body, 'No correction requests are waiting.')

  const twice = await staff.submit(`/console/queues/corrections/${nope.id}/reject`.replace(nope.id, fix.id), `/console/queues/corrections/${fix.id}/approve`, {})
  t.equal(twice.statusCode, 409)
  t.equal((await app.sql`select current_version from credentials where id = ${one.id}`)[0]?.current_version, 2, 'no third version')
})

t.test('recertification applications: points against the rules and the evidence shown; approve makes the five-year version, reject returns the activities', async (t) => {
  const { app, achievementId } = await setUp(t)
  const deps = ceDeps(app, () => NOW)
  await addApprovedProvider(deps.providers(), achievementId, { providerId: PROVIDER, name: 'AAMA CEU Center' })
  const dana = await issue(app, { achievementId, recipient: { name: 'Dana Whitfield', email: 'dana@example.org' }, validFrom: '2022-01-10T00:00:00Z' })
  const eli = await issue(app, { achievementId, recipient: { name: 'Eli Stone', email: 'eli@example.org' }, validFrom: '2022-01-10T00:00:00Z' })
  const withCertificate = await recordActivity(deps.record(), dana.id, { kind: 'declared', activity: { title: 'Infection control', provider: 'x', providerId: PROVIDER, completedOn: '2026-03-14', points: 30, category: 'approved', certificate: { bytes: PDF, filename: 'infection control.pdf' } } }, { certificateRequired: false })
  await recordActivity(deps.record(), dana.id, declared('2026-02-01', 30, 'other'), { certificateRequired: false })
  await recordActivity(deps.record(), eli.id, declared('2026-02-01', 30, 'approved', PROVIDER), { certificateRequired: false })
  await recordActivity(deps.record(), eli.id, declared('2026-02-02', 30, 'other'), { certificateRequired: false })
  const danaApp = await applyForRecertification(deps.apply(), dana.id)
  const eliApp = await applyForRecertification(deps.apply(), eli.id)
  const staff = await consoleStaff(app, 'registrar')

  const queue = await staff.page('/console/queues/applications')
  t.equal(queue.statusCode, 200)
  for (const text of ['Dana Whitfield', 'dana@example.org', 'Eli Stone', '60 of 60 points, 30 of 30 approved', 'Infection control', '4 December 2026', `/console/credentials/${dana.id}`]) t.match(queue.body, text)
  const evidenceHref = `/console/queues/applications/${danaApp.id}/activities/${withCertificate.id}/evidence`
  t.match(queue.body, evidenceHref)
  const evidence = await staff.page(evidenceHref)
  t.equal(evidence.statusCode, 200)
  t.equal(evidence.headers['content-type'], 'application/pdf')
  t.match(evidence.headers['content-disposition'], /attachment; filename="infection-control.pdf"/)
  t.same(evidence.rawPayload, PDF)

  const confirm = await staff.page(`/console/queues/applications/${danaApp.id}/approve`)
  t.match(confirm.body, 'Recertify Dana Whitfield&#39;s CMA (AAMA) badge by continuing education (60 of 60 points, 30 of 30 approved): version 2 under the same URL, valid until 10 January 2032; the holder is emailed.')
  const approved = await staff.submit(`/console/queues/applications/${danaApp.id}/approve`, `/console/queues/applications/${danaApp.id}/approve`, { note: '' })
  t.equal(approved.statusCode, 303, approved.body)
  const [credential] = await app.sql<Array<{ version: number, validUntil: Date }>>`select current_version as version, current_valid_until as "validUntil" from credentials where id = ${dana.id}`
  t.equal(credential?.version, 2)
  t.equal(credential?.validUntil.toISOString(), '2032-01-10T00:00:00.000Z', 'five more years from the end of the period')
  t.match((await app.sql`select state, decided_by, result_version from recertification_applications where id = ${danaApp.id}`)[0], { state: 'approved', decided_by: `staff:${staff.user.id}`, result_version: 2 })
  const trail = (await auditOf(app, dana.id)).filter((e) => e.actor === `staff:${staff.user.id}`).map((e) => e.action)
  t.same(trail, ['credential.recertified', 'recertification.approved'])
  t.match((await staff.page(approved.headers.location as string)).body, /Approved: Dana Whitfield&#39;s badge is recertified \(version 2\)/)

  const rejectPage = await staff.page(`/console/queues/applications/${eliApp.id}/reject`)
  t.match(rejectPage.body, 'Eli Stone (eli@example.org) is emailed the reason you give')
  const rejected = await staff.submit(`/console/queues/applications/${eliApp.id}/reject`, `/console/queues/applications/${eliApp.id}/reject`, { reason: 'The approved course is not on the AAMA list for 2026.' })
  t.equal(rejected.statusCode, 303)
  t.match((await app.sql`select state, decision_reason from recertification_applications where id = ${eliApp.id}`)[0], { state: 'rejected', decision_reason: 'The approved course is not on the AAMA list for 2026.' })
  t.equal((await app.sql`select 1 from ce_activities where credential_id = ${eli.id} and application_id is not null`).length, 0, 'the activities return to the record')
  t.match((await auditOf(app, eli.id)).at(-1), { actor: `staff:${staff.user.id}`, action: 'recertification.rejected' })
  t.match((await staff.page('/console/queues/applications')).body, 'No applications are waiting.')

  const late = await staff.submit(`/console/queues/applications/${eliApp.id}/reject`.replace(eliApp.id, danaApp.id), `/console/queues/applications/${eliApp.id}/approve`, {})
  t.equal(late.statusCode, 409)
  t.match(late.body, 'was already rejected by')
  t.equal((await app.sql`select current_version from credentials where id = ${eli.id}`)[0]?.current_version, 1)
})

t.test('an application whose badge was renewed by exam meanwhile: the queue and the confirmation say so, and offer no approval', async (t) => {
  const { app, achievementId } = await setUp(t)
  const deps = ceDeps(app, () => NOW)
  await addApprovedProvider(deps.providers(), achievementId, { providerId: PROVIDER, name: 'AAMA CEU Center' })
  const fay = await issue(app, { achievementId, recipient: { name: 'Fay Moss', email: 'fay@example.org' }, validFrom: '2022-01-10T00:00:00Z' })
  await recordActivity(deps.record(), fay.id, declared('2026-02-01', 30, 'approved', PROVIDER), { certificateRequired: false })
  await recordActivity(deps.record(), fay.id, declared('2026-02-02', 30, 'other'), { certificateRequired: false })
  const application = await applyForRecertification(deps.apply(), fay.id)
  const exam = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${fay.id}/recertify`, headers: app.auth, payload: { method: 'exam' } })
  t.equal(exam.statusCode, 201)
  const staff = await consoleStaff(app, 'registrar')
  t.match((await staff.page('/console/queues/applications')).body, 'was renewed since this application', 'the queue says why it cannot be approved')
  const confirm = await staff.page(`/console/queues/applications/${application.id}/approve`)
  t.match(confirm.body, 'The rules refuse this application now: Credential')
  t.notMatch(confirm.body, 'Approve and recertify', 'no approval offered')
  const forced = await staff.submit(`/console/queues/applications/${application.id}/approve`, `/console/queues/applications/${application.id}/approve`, {})
  t.equal(forced.statusCode, 409, 'approving anyway is refused by the same judgement')
  t.equal((await app.sql`select current_version from credentials where id = ${fay.id}`)[0]?.current_version, 2, 'only the exam renewal')
})

t.test('a viewer cannot see or act on any queue, route by route, and nothing changes', async (t) => {
  const { app, achievementId } = await setUp(t)
  const order = await submitBadgeOrder(app.sql, NOW, { name: 'Jane Doe', email: 'jane@example.org', certificateNumber: 'CMA-1', certifiedOn: '2023-01-15' })
  const issued = await issue(app, { achievementId, recipient: { name: 'Ana Ruiz', email: 'ana@example.org' } })
  const fix = await submitCorrectionRequest(app.sql, NOW, { credential: { id: issued.id, recipientName: 'Ana Ruiz', recipientEmail: 'ana@example.org' }, field: 'name', value: 'Ana M. Ruiz' })
  if (!('id' in fix)) throw new Error('request not stored')
  const application = 'x7KqP2mZr9LwT4vN'
  const viewer = await consoleStaff(app, 'viewer')
  const dashboard = await viewer.page('/console')
  t.notMatch(dashboard.body, '/console/queues/', 'the navigation and dashboard offer no queue')

  const gets = [
    '/console/queues/orders', `/console/queues/orders/${order}/approve`, `/console/queues/orders/${order}/reject`,
    '/console/queues/corrections', `/console/queues/corrections/${fix.id}/approve`, `/console/queues/corrections/${fix.id}/reject`,
    '/console/queues/applications', `/console/queues/applications/${application}/approve`, `/console/queues/applications/${application}/reject`,
    `/console/queues/applications/${application}/activities/${application}/evidence`
  ]
  for (const url of gets) {
    const response = await viewer.page(url)
    t.equal(response.statusCode, 403, `GET ${url}`)
    t.match(response.body, /needs &quot;(orders:admin|recertification:review)&quot;/)
  }
  const posts: Array<[string, Record<string, string>]> = [
    [`/console/queues/orders/${order}/approve`, { achievementId, validFrom: '2023-01-15', recipientName: 'Jane Doe' }],
    [`/console/queues/orders/${order}/reject`, { reason: 'no' }],
    [`/console/queues/corrections/${fix.id}/approve`, {}],
    [`/console/queues/corrections/${fix.id}/reject`, { reason: 'no' }],
    [`/console/queues/applications/${application}/approve`, {}],
    [`/console/queues/applications/${application}/reject`, { reason: 'no' }]
  ]
  for (const [url, fields] of posts) {
    const response = await viewer.submit('/console', url, fields)
    t.equal(response.statusCode, 403, `POST ${url}`)
  }
  t.same((await app.sql`select state from orders order by created_at`).map((r) => r.state), ['pending', 'pending'], 'nothing was decided')
  t.equal((await app.sql`select 1 from credentials`).length, 1, 'nothing was issued')
  t.equal((await app.sql`select 1 from audit_events where actor = ${`staff:${viewer.user.id}`} and action not like 'staff_user.%'`).length, 0)
})
