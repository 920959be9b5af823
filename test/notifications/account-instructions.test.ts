import t, { type Test } from 'tap'
import type { ParsedMail } from 'mailparser'
import { createMailer, type Mailer } from '../../src/capabilities/notifications/email/mailer.js'
import { sendEventEmail } from '../../src/capabilities/notifications/email/send-email.js'
import { fanOutEvent } from '../../src/capabilities/notifications/fan-out.js'
import type { NotificationDeps } from '../../src/capabilities/notifications/deps.js'
import { build, buildSecondInstance, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { startSmtpServer } from '../helpers/notifications.js'

const HEADING = 'Your account: all your badges in one place'
const carries = (m: ParsedMail): boolean => (m.text ?? '').includes(HEADING)

/**
 * The jobs run here by hand (WORKER=off), as in reminders.test.ts: each event
 * is fanned out, then its email sent, to a real SMTP server.
 */
async function setUp (t: Test): Promise<{ app: TestApp, smtp: Awaited<ReturnType<typeof startSmtpServer>>, deps: NotificationDeps, deliver: (deps?: NotificationDeps) => Promise<string[]>, achievementId: string, otherId: string }> {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  // A second a call: events are ordered as they happened.
  let now = Date.parse('2026-12-04T12:00:00Z')
  const clock = (): Date => new Date(now += 1000)
  const app = await build(t, { clock, env: { SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example' } })
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, graceMonths: 3 }, exam: true } })
  const other = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Phlebotomy Skills' })
  const mailer = createMailer({ smtpUrl: smtp.url, from: 'badges@aama.example', dataDir: app.dataDir })
  const deps: NotificationDeps = { sql: app.sql, jobs: app.app.jobs, outbox: app.app.outbox, mailer, urls: app.app.urls, config: app.config, clock, log: { info: () => {}, warn: () => {}, error: () => {} } }
  const handled = new Set<string>()
  const deliver = async (using = deps): Promise<string[]> => {
    const outcomes: string[] = []
    for (const { id, type } of await app.sql<Array<{ id: string, type: string }>>`select id, type from events order by occurred_at, id`) {
      if (handled.has(id)) continue
      handled.add(id)
      await fanOutEvent(using, id)
      outcomes.push(`${type}: ${await sendEventEmail(using, id)}`)
    }
    return outcomes
  }
  return { app, smtp, deps, deliver, achievementId: achievement.id, otherId: other.id }
}

const post = async (app: TestApp, url: string, payload: object): Promise<void> => {
  const response = await app.app.inject({ method: 'POST', url, headers: app.auth, payload })
  if (response.statusCode !== 201 && response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`)
}

t.test('the first badge email to an address carries the account instructions; a second badge, a renewal and a correction to it do not; a corrected new address gets them', async (t) => {
  const { app, smtp, deliver, achievementId, otherId } = await setUp(t)
  const accountUrl = `${app.app.urls.base}/account`
  const first = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'Jane@Example.org' } })
  t.same(await deliver(), ['credential.issued: sent'])
  const mail = smtp.messages.at(-1)!
  t.ok(carries(mail), 'the first issued email has the account section (text)')
  t.match(mail.html, HEADING, 'and in HTML')
  const section = (mail.text ?? '').slice((mail.text ?? '').indexOf(HEADING))
  t.match(section, new RegExp(`^${accountUrl.replace(/[.]/g, '\\.')}$`, 'm'), 'the account address, on a line of its own')
  t.match(section, /enter this email address\. We email you a link that signs you in: there is no password/, 'how signing in works, as the portal does it')
  for (const offer of ['see all your badges', 'share a badge on LinkedIn or by email', 'download the certificate and the wallet card (PDF)', 'make a badge\'s public page private', 'correct the name or email address on a badge']) {
    t.match(section, offer, `the account offers: ${offer}`)
  }
  t.notOk(mail.headers.get('list-unsubscribe'), 'part of a transactional email: no unsubscribe')

  const second = await issue(app, { achievementId: otherId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  t.same(await deliver(), ['credential.issued: sent'])
  await post(app, `/api/v1/credentials/${first.id}/recertify`, { method: 'exam' })
  t.same(await deliver(), ['credential.recertified: sent'])
  await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Jane Q. Smith' } })
  t.same(await deliver(), ['credential.reissued: sent'])
  t.same(smtp.messages.slice(1).map((m) => [m.subject, carries(m)]), [
    ['Your Phlebotomy Skills digital badge from American Association of Medical Assistants', false],
    [smtp.messages[2]!.subject, false],
    ['Your CMA (AAMA) badge has been updated', false]
  ], 'a second badge, a recertification and a correction to the same address: no instructions again')

  await post(app, `/api/v1/credentials/${second.id}/reissue`, { reason: 'correction', recipient: { email: 'Jane.Smith@Example.org' } })
  t.same(await deliver(), ['credential.reissued: sent'])
  const moved = smtp.messages.at(-1)!
  t.same(moved.envelopeTo, ['jane.smith@example.org'])
  t.ok(carries(moved), 'a corrected address that never had a badge email gets the instructions')
  t.same((await app.sql`select email, sent_at is not null as sent from account_instructions order by email`).map((r) => [r.email, r.sent]),
    [['jane.smith@example.org', true], ['jane@example.org', true]], 'one row per address, each delivered')
})

t.test('an address first issued silently, or whose first email was skipped, is told with the first badge email that goes', async (t) => {
  const { app, smtp, deps, deliver, achievementId, otherId } = await setUp(t)
  await issue(app, { achievementId, recipient: { name: 'Sam Lee', email: 'sam@example.org' }, notify: false })
  await issue(app, { achievementId: otherId, recipient: { name: 'Sam Lee', email: 'sam@example.org' } })
  t.same(await deliver(), ['credential.issued: nothing to do', 'credential.issued: sent'])
  t.ok(carries(smtp.messages.at(-1)!), 'notify: false sent nothing, so the next badge email tells')

  // Issued, then corrected before its email went: the issue email is skipped and the correction tells.
  const lee = await issue(app, { achievementId, recipient: { name: 'Lee Park', email: 'lee@example.org' } })
  await post(app, `/api/v1/credentials/${lee.id}/reissue`, { reason: 'correction', recipient: { name: 'Lee J. Park' } })
  t.same(await deliver(), ['credential.issued: skipped', 'credential.reissued: sent'])
  t.ok(carries(smtp.messages.at(-1)!), 'the skipped email held nothing back')

  // The mail server refuses the claiming email, then its badge is revoked: the claim passes to the next email.
  const refusing: Mailer = { send: async () => { throw new Error('421 try again later') }, close: () => {} }
  const ria = await issue(app, { achievementId, recipient: { name: 'Ria Patel', email: 'ria@example.org' } })
  const [event] = await app.sql`select id from events where credential_id = ${ria.id}`
  await fanOutEvent(deps, event!.id)
  await t.rejects(sendEventEmail({ ...deps, mailer: refusing }, event!.id), /421/)
  t.same((await app.sql`select event_id from account_instructions where email = 'ria@example.org'`).map((r) => r.event_id), [event!.id], 'claimed by the email that failed')
  await app.sql`update email_notifications set state = 'pending' where event_id = ${event!.id}`
  await post(app, `/api/v1/credentials/${ria.id}/revoke`, { reason: 'Issued in error' })
  t.equal(await sendEventEmail(deps, event!.id), 'skipped', 'the retry finds the badge revoked')
  await issue(app, { achievementId: otherId, recipient: { name: 'Ria Patel', email: 'ria@example.org' } })
  t.same((await deliver()).at(-1), 'credential.issued: sent')
  t.ok(carries(smtp.messages.at(-1)!), 'the next badge email takes the claim over and tells')
})

t.test('a retry resends the instructions with the same Message-ID; two workers sending two first badges to one address at once tell it once', async (t) => {
  const { app, smtp, deps, achievementId, otherId } = await setUp(t)
  const first = await issue(app, { achievementId, recipient: { name: 'Una Retry', email: 'una@example.org' } })
  const [event] = await app.sql`select id from events where credential_id = ${first.id}`
  await fanOutEvent(deps, event!.id)
  t.equal(await sendEventEmail(deps, event!.id), 'sent')
  // A crash after the SMTP server took the message, before the row was marked: the job runs again.
  await app.sql`update email_notifications set state = 'pending' where event_id = ${event!.id}`
  t.equal(await sendEventEmail(deps, event!.id), 'sent')
  t.equal(smtp.messages.length, 2)
  t.ok(smtp.messages.every(carries), 'the resend is the same message, instructions included')
  t.equal(smtp.messages[0]!.messageId, smtp.messages[1]!.messageId)

  const second = await buildSecondInstance(t, app)
  const other: NotificationDeps = { ...deps, sql: second.sql }
  const addresses = ['ana@example.org', 'ben@example.org', 'cy@example.org', 'dee@example.org']
  const pairs: Array<[string, string]> = []
  for (const email of addresses) {
    const a = await issue(app, { achievementId, recipient: { name: 'Two Badges', email } })
    const b = await issue(app, { achievementId: otherId, recipient: { name: 'Two Badges', email } })
    const [ea] = await app.sql`select id from events where credential_id = ${a.id}`
    const [eb] = await app.sql`select id from events where credential_id = ${b.id}`
    await fanOutEvent(deps, ea!.id)
    await fanOutEvent(deps, eb!.id)
    pairs.push([ea!.id, eb!.id])
  }
  const before = smtp.messages.length
  await Promise.all(pairs.flatMap(([a, b]) => [sendEventEmail(deps, a), sendEventEmail(other, b)]))
  const sent = smtp.messages.slice(before)
  t.equal(sent.length, addresses.length * 2, 'both badges emailed to every address')
  for (const email of addresses) {
    t.equal(sent.filter((m) => m.envelopeTo.includes(email) && carries(m)).length, 1, `${email}: exactly one of its two emails carries the instructions`)
  }
})
