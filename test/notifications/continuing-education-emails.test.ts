import { createHmac } from 'node:crypto'
import t from 'tap'
import { applyForRecertification, approveApplication, rejectApplication } from '../../src/capabilities/continuing-education/applications.js'
import { addApprovedProvider } from '../../src/capabilities/continuing-education/approved-providers.js'
import { recordActivity } from '../../src/capabilities/continuing-education/record-activity.js'
import { recordDueNotifications } from '../../src/capabilities/notifications/remind/scheduler.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from '../helpers/build-app.js'
import { ceDeps, declared } from '../helpers/continuing-education.js'
import { FAST_JOBS, startReceiver, type ReceivedHook, startSmtpServer, waitFor } from '../helpers/notifications.js'

/**
 * The holder's continuing education in the emails, through the real job
 * path: the app's own workers (WORKER=inline) fan each event out, send its
 * email to a real SMTP server and post its webhook to a real HTTP receiver.
 * The reminder scan is called here (its cron is pinned to a real-clock
 * moment that never comes during a run, so it never runs early); the services
 * are called as the portal and the staff API call them.
 */

const RULES = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }
const PROVIDER = 'https://ce.example.org/provider'
const NO_CRON_SCAN = { NOTIFICATION_SCAN_CRON: '0 0 1 1 *' }

/**
 * The event a delivery carries, once its Standard Webhooks signature is
 * checked. By hand, not with the library's verify: that one also refuses a
 * timestamp 5 minutes from the real clock, and these events happen on the
 * test's clock (January 2026).
 */
function signed (secret: string, posted: ReceivedHook): any {
  const id = String(posted.headers['webhook-id'])
  const timestamp = String(posted.headers['webhook-timestamp'])
  const expected = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${timestamp}.${posted.body}`).digest('base64')
  const given = String(posted.headers['webhook-signature']).split(' ').map((s) => s.replace(/^v1,/, ''))
  if (!given.includes(expected)) throw new Error('the webhook signature does not verify')
  const event = JSON.parse(posted.body)
  if (event.id !== id) throw new Error('webhook-id is not the event id')
  return event
}

t.test('reminder with the progress line; applied and rejected emails; recertification.* webhooks', async (t) => {
  const clock = { now: new Date('2026-01-15T12:00:00Z') }
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const app = await build(t, { clock: () => clock.now, env: { ...FAST_JOBS, ...NO_CRON_SCAN, SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example', OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  await app.app.ready()
  const deps = ceDeps(app, () => clock.now)
  const base = app.app.urls.base

  const created = await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: receiver.url, events: ['recertification.applied', 'recertification.approved', 'recertification.rejected'] } })
  t.equal(created.statusCode, 201, 'a webhook may subscribe to the three recertification events')
  const hook = created.json()
  t.same(hook.events, ['recertification.applied', 'recertification.approved', 'recertification.rejected'])

  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: RULES })
  await addApprovedProvider(deps.providers(), achievement.id, { providerId: PROVIDER, name: 'AAMA CEU Center' })
  const rita = await issue(app, { achievementId: achievement.id, recipient: { name: 'Rita Renewing', email: 'rita@example.org' }, notify: false, validUntil: '2026-02-24T12:00:00Z' })
  const ceUrl = `${base}/account/badges/${rita.id}/continuing-education`
  clock.now = new Date('2026-01-25T13:00:00Z')
  await recordActivity(deps.record(), rita.id, declared('2026-01-16', 25, 'approved', PROVIDER), { certificateRequired: false })
  await recordActivity(deps.record(), rita.id, declared('2026-01-17', 17, 'other'), { certificateRequired: false })
  await recordActivity(deps.record(), rita.id, declared('2026-01-14', 30, 'other'), { certificateRequired: false })

  const mailTo = (n: number) => async () => smtp.messages.length >= n ? smtp.messages.at(n - 1) : undefined

  await t.test('a reminder for a badge renewed by continuing education says where the holder stands, and links to the record', async (t) => {
    t.same(await recordDueNotifications({ sql: app.sql, outbox: app.app.outbox, urls: app.app.urls, now: clock.now, reminderDays: app.config.notifications.reminderDays }), { reminders: 1, expired: 0 })
    t.equal((await app.sql`select count(*)::int as n from events where type = 'credential.expiry_reminder'`)[0]?.n, 1, 'the 30-day reminder is due')
    const reminder = await waitFor('the reminder', mailTo(1))
    t.match(reminder.subject, /expires on 24 February 2026/)
    const lines = (reminder.text ?? '').split('\n')
    const at = lines.indexOf('Your continuing education: 42 of 60 points, 25 of 30 approved. Record activities and apply by 24 May 2026:')
    t.ok(at > 0, 'the progress line, with the deadline (validUntil + 3 months); the activity before the badge\'s validFrom not counted')
    t.equal(lines[at + 1], ceUrl, 'followed by the record\'s page, on a line of its own')
    t.match(reminder.text, /in 30 days\. It can be renewed by continuing education until 24 May 2026/, 'the existing wording stays')
    t.match(reminder.html, '<strong>42 of 60 points, 25 of 30 approved</strong>')
    t.match(reminder.html, `<a href="${ceUrl}">${ceUrl}</a>`, 'the HTML part links to it')
  })

  await t.test('applying: a "we received your application" email and the recertification.applied webhook', async (t) => {
    await recordActivity(deps.record(), rita.id, declared('2026-01-20', 10, 'approved', PROVIDER), { certificateRequired: false })
    await recordActivity(deps.record(), rita.id, declared('2026-01-21', 20, 'other'), { certificateRequired: false })
    const application = await applyForRecertification(deps.apply(), rita.id)
    t.same([application.pointsTotal, application.pointsApproved], [72, 35])
    const received = await waitFor('the application email', mailTo(2))
    t.same(received.envelopeTo, ['rita@example.org'])
    t.equal(received.subject, 'We received your application to renew your CMA (AAMA)')
    t.match(received.text, 'We received your application to renew your CMA (AAMA) by continuing education (72 points, 35 approved). Staff will review it')
    t.ok((received.text ?? '').split('\n').includes(ceUrl), 'the record\'s page')
    t.notOk(received.headerLines.some((h) => h.key === 'list-unsubscribe'), 'transactional: no unsubscribe header')

    const posted = await waitFor('the applied webhook', () => receiver.received[0])
    const event = signed(hook.secret, posted)
    t.equal(event.type, 'recertification.applied', 'signed, and the first thing posted (credential.issued is not subscribed)')
    t.same(event.data, { credentialId: rita.id, credentialUrl: rita.url, version: 1, achievementId: achievement.id, state: 'valid', validUntil: '2026-02-24T12:00:00Z', applicationId: application.id, points: { total: 72, approved: 35 } })
  })

  await t.test('rejecting: the reason, the activities back on the record, what to do, and the recertification.rejected webhook', async (t) => {
    clock.now = new Date('2026-01-27T09:00:00Z')
    const [pending] = await app.sql<Array<{ id: string }>>`select id from recertification_applications where state = 'pending'`
    await rejectApplication(deps.apply('staff-test'), pending!.id, 'The certificate for the 10-point course is not legible.')
    const rejected = await waitFor('the rejection email', mailTo(3))
    t.equal(rejected.subject, 'Your application to renew your CMA (AAMA): not approved')
    const text = rejected.text ?? ''
    t.match(text, 'We could not approve your application to renew your CMA (AAMA) by continuing education (72 points, 35 approved).')
    t.match(text, 'The reason: The certificate for the 10-point course is not legible.')
    t.match(text, 'The activities it counted are back on your record')
    const lines = text.split('\n')
    const at = lines.indexOf('Your continuing education now: 72 of 60 points, 35 of 30 approved. Record what is missing and apply again by 24 May 2026:')
    t.ok(at > 0, 'what to do, by when')
    t.equal(lines[at + 1], ceUrl)
    t.match(rejected.html, `<a href="${ceUrl}">`)

    const posted = await waitFor('the rejected webhook', () => receiver.received[1])
    const event = signed(hook.secret, posted)
    t.equal(event.type, 'recertification.rejected')
    t.same([event.data.applicationId, event.data.reason, event.data.version], [pending!.id, 'The certificate for the 10-point course is not legible.', 1])
  })

  await t.test('approving: the recertification.approved webhook, and only the "renewed" email for the holder', async (t) => {
    clock.now = new Date('2026-01-27T15:00:00Z')
    const application = await applyForRecertification(deps.apply(), rita.id)
    await waitFor('the second application email', mailTo(4))
    await waitFor('the second applied webhook', () => receiver.received[2])
    clock.now = new Date('2026-01-28T10:00:00Z')
    const { issued } = await approveApplication(deps.reissue(), application.id)
    t.equal(issued.version, 2)
    const renewed = await waitFor('the renewed email', mailTo(5))
    t.match(renewed.subject, /renewed until 24 February 2031/, 'the new version\'s email')

    const posted = await waitFor('the approved webhook', () => receiver.received.find((r) => JSON.parse(r.body).type === 'recertification.approved'))
    const event = signed(hook.secret, posted)
    t.same([event.data.applicationId, event.data.version, event.data.validUntil, event.data.points], [application.id, 2, '2031-02-24T12:00:00Z', { total: 72, approved: 35 }])
    const emails = await app.sql`select e.type, n.kind, n.state from events e left join email_notifications n on n.event_id = e.id where e.type like 'recertification.%' order by e.occurred_at, e.type`
    t.same(emails.map((e) => `${e.type}:${e.kind ?? 'none'}:${e.state ?? '-'}`), [
      'recertification.applied:application-received:sent',
      'recertification.rejected:application-rejected:sent',
      'recertification.applied:application-received:sent',
      'recertification.approved:none:-'
    ], 'an email for applied and rejected, none for approved')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    t.equal(smtp.messages.length, 5, 'no other email went')
    t.same(receiver.received.map((r) => JSON.parse(r.body).type), ['recertification.applied', 'recertification.rejected', 'recertification.applied', 'recertification.approved'], 'each recertification event posted once, nothing else')
  })
})

t.test('the expired notice: a pending application is said to wait for review; no progress line once continuing education is closed', async (t) => {
  const clock = { now: new Date('2026-01-15T12:00:00Z') }
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { clock: () => clock.now, env: { ...FAST_JOBS, ...NO_CRON_SCAN, SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example' } })
  await app.app.ready()
  const deps = ceDeps(app, () => clock.now)
  const graced = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Graced', validityMonths: 24, recertification: { continuingEducation: { minPoints: 10, graceMonths: 3 } } })
  const noGrace = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'No grace', validityMonths: 24, recertification: { continuingEducation: { minPoints: 10 } } })
  const gail = await issue(app, { achievementId: graced.id, recipient: { name: 'Gail Grace', email: 'gail@example.org' }, notify: false, validUntil: '2026-02-24T12:00:00Z' })
  const nora = await issue(app, { achievementId: noGrace.id, recipient: { name: 'Nora Nograce', email: 'nora@example.org' }, notify: false, validUntil: '2026-02-24T12:00:00Z' })
  clock.now = new Date('2026-02-01T12:00:00Z')
  for (const id of [gail.id, nora.id]) await recordActivity(deps.record(), id, declared('2026-01-20', 10, 'other'), { certificateRequired: false })

  clock.now = new Date('2026-02-25T13:00:00Z')
  await applyForRecertification(deps.apply(), gail.id)
  const received = await waitFor('the application email', async () => smtp.messages.find((m) => m.envelopeTo.includes('gail@example.org')))
  t.match(received.text, 'by continuing education (10 points). Staff will review it', 'no approved share in the rules: the points alone')

  t.same(await recordDueNotifications({ sql: app.sql, outbox: app.app.outbox, urls: app.app.urls, now: clock.now, reminderDays: app.config.notifications.reminderDays }), { reminders: 0, expired: 2 })
  const expired = await waitFor('both expired notices', async () => {
    const notices = smtp.messages.filter((m) => /expired on 24 February 2026/.test(m.subject ?? ''))
    return notices.length === 2 ? notices : undefined
  })
  const toGail = expired.find((m) => m.envelopeTo.includes('gail@example.org'))!
  const lines = (toGail.text ?? '').split('\n')
  const at = lines.indexOf('Your continuing education: 10 of 10 points. Your application for recertification is waiting for staff review; see it here:')
  t.ok(at > 0, 'in the grace period, with an application pending')
  t.equal(lines[at + 1], `${app.app.urls.base}/account/badges/${gail.id}/continuing-education`)
  t.match(toGail.html, /waiting for staff review: <a href="[^"]+\/continuing-education">see it here<\/a>\.<\/p>/)
  const toNora = expired.find((m) => m.envelopeTo.includes('nora@example.org'))!
  t.notMatch(toNora.text, /Your continuing education/, 'no grace: continuing education closed at expiry, so no progress line')
  t.notMatch(toNora.text, /continuing-education/)
})
