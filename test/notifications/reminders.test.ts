import t, { type Test } from 'tap'
import { createMailer } from '../../src/capabilities/notifications/email/mailer.js'
import { sendEventEmail } from '../../src/capabilities/notifications/email/send-email.js'
import { fanOutEvent } from '../../src/capabilities/notifications/fan-out.js'
import { recordDueNotifications } from '../../src/capabilities/notifications/remind/scheduler.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { startSmtpServer } from '../helpers/notifications.js'

const DAY = 86_400_000
const ISSUED_AT = new Date('2026-01-15T12:00:00Z')
// 60 months after ISSUED_AT.
const VALID_UNTIL = new Date('2031-01-15T12:00:00Z')

/**
 * The scheduler on a fixed clock, and the jobs it causes run here by hand
 * (WORKER=off), so each step is seen: which events are recorded, which
 * emails go out, which are skipped and why.
 */
async function setUp (t: Test): Promise<{ app: TestApp, clock: { now: Date }, smtp: Awaited<ReturnType<typeof startSmtpServer>>, scan: () => Promise<{ reminders: number, expired: number }>, deliver: () => Promise<string[]>, achievementId: string }> {
  const clock = { now: ISSUED_AT }
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { clock: () => clock.now, env: { SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example' } })
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } })
  const mailer = createMailer({ smtpUrl: smtp.url, from: 'badges@aama.example', dataDir: app.dataDir })
  const deps = { sql: app.sql, jobs: app.app.jobs, outbox: app.app.outbox, mailer, urls: app.app.urls, config: app.config, clock: () => clock.now, log: { info: () => {}, warn: () => {}, error: () => {} } }
  const handled = new Set<string>()
  return {
    app,
    clock,
    smtp,
    achievementId: achievement.id,
    scan: async () => await recordDueNotifications({ sql: app.sql, outbox: app.app.outbox, urls: app.app.urls, now: clock.now, reminderDays: app.config.notifications.reminderDays }),
    // What the workers would do: fan out every new event, then send its email.
    deliver: async () => {
      const outcomes: string[] = []
      for (const { id, type } of await app.sql<Array<{ id: string, type: string }>>`select id, type from events order by occurred_at, id`) {
        if (handled.has(id)) continue
        handled.add(id)
        await fanOutEvent(deps, id)
        outcomes.push(`${type}: ${await sendEventEmail(deps, id)}`)
      }
      return outcomes
    }
  }
}

t.test('reminders at 90 and 30 days, the expired notice after, each once, on a fixed clock', async (t) => {
  const { app, clock, smtp, scan, deliver, achievementId } = await setUp(t)
  const issued = await issue(app, { achievementId, recipient: { name: 'Rita Reminder', email: 'rita@example.org' }, notify: false })
  t.same(await deliver(), ['credential.issued: nothing to do'], 'notify: false: the issue event, no email')

  clock.now = new Date(VALID_UNTIL.getTime() - 91 * DAY)
  t.same(await scan(), { reminders: 0, expired: 0 }, '91 days before: nothing due')
  clock.now = new Date(VALID_UNTIL.getTime() - 90 * DAY + 3600_000)
  t.same(await scan(), { reminders: 1, expired: 0 }, '90 days before: the first reminder')
  t.same(await scan(), { reminders: 0, expired: 0 }, 'a second scan records nothing again')
  t.same(await deliver(), ['credential.expiry_reminder: sent'])
  const first = smtp.messages.at(-1)!
  t.match(first.subject, /expires on 15 January 2031/)
  t.match(first.text, /in 90 days/)
  t.match(first.text, /Renewal by continuing education takes 60 points/)
  t.ok(first.headerLines.some((h) => h.key === 'list-unsubscribe' && h.line.includes('/notifications/unsubscribe/')), 'List-Unsubscribe for reminders')
  t.ok(first.headerLines.some((h) => h.key === 'list-unsubscribe-post' && h.line.includes('List-Unsubscribe=One-Click')), 'one-click (RFC 8058)')

  clock.now = new Date(VALID_UNTIL.getTime() - 30 * DAY + 3600_000)
  const [a, b] = await Promise.all([scan(), scan()])
  t.equal(a!.reminders + b!.reminders, 1, 'two schedulers at once: one 30-day reminder between them')
  t.same(await deliver(), ['credential.expiry_reminder: sent'])
  t.match(smtp.messages.at(-1)!.text, /in 30 days/)

  clock.now = new Date(VALID_UNTIL.getTime() + DAY)
  t.same(await scan(), { reminders: 0, expired: 1 }, 'a day after: the expired notice')
  t.same(await deliver(), ['credential.expired: sent'])
  const expired = smtp.messages.at(-1)!
  t.match(expired.subject, /expired on 15 January 2031/)
  t.match(expired.text, /by continuing education until 15 April 2031/, 'what can still be done during the grace window')
  clock.now = new Date(VALID_UNTIL.getTime() + 3 * DAY)
  t.same(await scan(), { reminders: 0, expired: 0 }, 'once only')
  t.equal(smtp.messages.length, 3, 'three emails in all')
  const kinds = await app.sql`select kind, state from email_notifications where credential_id = ${issued.id} order by created_at`
  t.same(kinds.map((k) => `${k.kind}:${k.state}`), ['reminder:sent', 'reminder:sent', 'expired:sent'])
})

t.test('no reminder after a revocation; a recertification cancels the prior version\'s pending reminder', async (t) => {
  const { app, clock, smtp, scan, deliver, achievementId } = await setUp(t)
  const revoked = await issue(app, { achievementId, recipient: { name: 'Rex Revoked', email: 'rex@example.org' }, notify: false })
  const renewing = await issue(app, { achievementId, recipient: { name: 'Rae Renewing', email: 'rae@example.org' }, notify: false })
  await deliver()
  t.equal((await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${revoked.id}/revoke`, headers: app.auth, payload: { reason: 'Exam result annulled' } })).statusCode, 200)

  clock.now = new Date(VALID_UNTIL.getTime() - 90 * DAY + 3600_000)
  t.same(await scan(), { reminders: 1, expired: 0 }, 'the revoked credential is not due: only the other')
  // The reminder is recorded but not yet sent when the holder recertifies.
  const recertified = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${renewing.id}/recertify`, headers: app.auth, payload: { method: 'continuing-education', points: { total: 62, approved: 31 }, notify: false } })
  t.equal(recertified.statusCode, 201)
  const outcomes = await deliver()
  // (The reminder and the recertification share a clock time: their order is not fixed.)
  t.same([...outcomes].sort(), ['credential.expiry_reminder: skipped', 'credential.recertified: nothing to do', 'credential.revoked: nothing to do'])
  const [skipped] = await app.sql`select skip_reason from email_notifications where credential_id = ${renewing.id} and kind = 'reminder'`
  t.equal(skipped?.skip_reason, 'version 1 was followed by version 2', 'skipped, with why')
  t.equal(smtp.messages.length, 0, 'no email at all')

  clock.now = new Date(VALID_UNTIL.getTime() + DAY)
  t.same(await scan(), { reminders: 0, expired: 0 }, 'no expired notice: the revoked one is revoked and the renewed one runs to 2036')
})

t.test('the unsubscribe link: GET only asks, POST stops reminders, a forged token does nothing', async (t) => {
  const { app, clock, smtp, scan, deliver, achievementId } = await setUp(t)
  const issued = await issue(app, { achievementId, recipient: { name: 'Una Subscribed', email: 'una@example.org' }, notify: false })
  clock.now = new Date(VALID_UNTIL.getTime() - 90 * DAY + 3600_000)
  await scan()
  await deliver()
  const link = new URL(/\/notifications\/unsubscribe\/[^\s>]+/.exec(smtp.messages[0]!.text ?? '')![0], app.app.urls.base)
  const path = `${link.pathname}${link.search}`

  const asked = await app.app.inject({ method: 'GET', url: path })
  t.equal(asked.statusCode, 200)
  t.match(asked.body, /<form[^>]+method="post"/, 'a confirmation form')
  t.equal((await app.sql`select reminders_opted_out_at from credentials where id = ${issued.id}`)[0]!.reminders_opted_out_at, null, 'a GET (a mail scanner) changes nothing')

  const forged = await app.app.inject({ method: 'POST', url: `${link.pathname}?token=${'A'.repeat(32)}` })
  t.equal(forged.statusCode, 404, 'a forged token is refused')
  t.equal((await app.sql`select reminders_opted_out_at from credentials where id = ${issued.id}`)[0]!.reminders_opted_out_at, null)

  const oneClick = await app.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' })
  t.equal(oneClick.statusCode, 200, 'RFC 8058 one-click')
  t.match(oneClick.body, /no more reminders/)
  t.not((await app.sql`select reminders_opted_out_at from credentials where id = ${issued.id}`)[0]!.reminders_opted_out_at, null)

  clock.now = new Date(VALID_UNTIL.getTime() - 30 * DAY + 3600_000)
  t.same(await scan(), { reminders: 1, expired: 0 }, 'the event is still recorded (webhooks want it)')
  t.same(await deliver(), ['credential.expiry_reminder: skipped'], 'but no email')
  t.equal(smtp.messages.length, 1)
})
