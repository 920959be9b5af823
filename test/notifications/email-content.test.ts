import t, { type Test } from 'tap'
import type { ParsedMail } from 'mailparser'
import { renewalAdvice } from '../../src/capabilities/achievements/renewal-advice.js'
import { sendPortalEmail } from '../../src/capabilities/holders/portal-email.js'
import { sendSignInLink } from '../../src/capabilities/holders/sign-in.js'
import { createMailer } from '../../src/capabilities/notifications/email/mailer.js'
import { sendEventEmail } from '../../src/capabilities/notifications/email/send-email.js'
import { fanOutEvent } from '../../src/capabilities/notifications/fan-out.js'
import type { NotificationDeps } from '../../src/capabilities/notifications/deps.js'
import { recordDueNotifications } from '../../src/capabilities/notifications/remind/scheduler.js'
import { unsubscribeToken } from '../../src/capabilities/notifications/unsubscribe.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { startSmtpServer } from '../helpers/notifications.js'

const DAY = 86_400_000
const RULES = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }

/** The jobs run here by hand (WORKER=off) on a clock the test moves, to a real SMTP server. */
async function setUp (t: Test, start: string): Promise<{ app: TestApp, clock: { now: Date }, smtp: Awaited<ReturnType<typeof startSmtpServer>>, deps: NotificationDeps, deliver: () => Promise<string[]>, scan: () => Promise<unknown>, achievementId: string }> {
  const clock = { now: new Date(start) }
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { clock: () => clock.now, env: { SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example' } })
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: RULES })
  const mailer = createMailer({ smtpUrl: smtp.url, from: 'badges@aama.example', dataDir: app.dataDir })
  const deps: NotificationDeps = { sql: app.sql, jobs: app.app.jobs, outbox: app.app.outbox, mailer, urls: app.app.urls, config: app.config, clock: () => clock.now, log: { info: () => {}, warn: () => {}, error: () => {} } }
  const handled = new Set<string>()
  return {
    app,
    clock,
    smtp,
    deps,
    achievementId: achievement.id,
    scan: async () => await recordDueNotifications({ sql: app.sql, outbox: app.app.outbox, urls: app.app.urls, now: clock.now, reminderDays: app.config.notifications.reminderDays }),
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

const post = async (app: TestApp, url: string, payload: object): Promise<void> => {
  const response = await app.app.inject({ method: 'POST', url, headers: app.auth, payload })
  if (response.statusCode !== 201) throw new Error(`${url}: ${response.statusCode} ${response.body}`)
}

/** The advice paragraph of a credential's page (the banner), as a person reads it. */
const pageAdvice = async (app: TestApp, id: string): Promise<string | undefined> => {
  const page = await app.app.inject({ url: `/credentials/${id}`, headers: { accept: 'text/html' } })
  return /<p class="banner__advice">([^<]*)<\/p>/.exec(page.body)?.[1]
}

t.test('every email kind links to My badges by its absolute URL, in text and HTML, and every URL in a text part stands on a line of its own', async (t) => {
  const { app, clock, smtp, deps, deliver, scan, achievementId } = await setUp(t, '2026-01-15T12:00:00Z')
  const accountUrl = `${app.app.urls.base}/account`
  const jane = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  t.same(await deliver(), ['credential.issued: sent'])
  await post(app, `/api/v1/credentials/${jane.id}/recertify`, { method: 'exam' })
  t.same(await deliver(), ['credential.recertified: sent'])
  await post(app, `/api/v1/credentials/${jane.id}/reissue`, { reason: 'correction', recipient: { name: 'Jane Q. Smith' } })
  t.same(await deliver(), ['credential.reissued: sent'])
  const validUntil = new Date(clock.now.getTime() + 40 * DAY)
  await issue(app, { achievementId, recipient: { name: 'Rita Reminder', email: 'rita@example.org' }, notify: false, validUntil: validUntil.toISOString() })
  t.same(await deliver(), ['credential.issued: nothing to do'])
  clock.now = new Date(validUntil.getTime() - 30 * DAY + 3600_000)
  await scan()
  t.same(await deliver(), ['credential.expiry_reminder: sent'])
  clock.now = new Date(validUntil.getTime() + DAY)
  await scan()
  t.same(await deliver(), ['credential.expired: sent'])
  t.equal(await sendSignInLink({ sql: app.sql, mailer: deps.mailer, urls: app.app.urls, config: app.config, clock: deps.clock }, 'jane@example.org'), 'sent')
  await sendPortalEmail({ mailer: deps.mailer, urls: app.app.urls, config: app.config }, 'order-rejected', 'sam@example.org', 'order-rejected-test', { holderName: 'Sam Lee', request: 'a digital badge for CMA (AAMA)', reason: 'We have no certificate CMA-000000.' })

  const kinds = ['issued', 'renewed', 'corrected', 'reminder', 'expired', 'sign-in', 'order-rejected']
  t.equal(smtp.messages.length, kinds.length, 'one email of each kind')
  smtp.messages.forEach((mail: ParsedMail, i) => {
    const kind = kinds[i]!
    const lines = (mail.text ?? '').split('\n')
    t.ok(lines.includes(accountUrl), `${kind}: the text part has the My badges URL on a line of its own`)
    t.match(mail.html, `<a href="${accountUrl}">My badges</a>`, `${kind}: the HTML part links to My badges`)
    const crowded = lines.filter((line) => line.includes('://') && !/^\s*https?:\/\/\S+$/.test(line))
    t.same(crowded, [], `${kind}: no URL shares its line with text`)
    t.notMatch(mail.text, /\n\n\n/, `${kind}: paragraphs are separated by one blank line`)
  })
})

t.test('a reminder\'s text part, line by line', async (t) => {
  const { app, clock, smtp, deliver, scan, achievementId } = await setUp(t, '2026-01-15T12:00:00Z')
  const rita = await issue(app, { achievementId, recipient: { name: 'Rita Reminder', email: 'rita@example.org' }, notify: false, validUntil: '2026-02-24T12:00:00Z' })
  await deliver()
  clock.now = new Date('2026-01-25T13:00:00Z')
  await scan()
  t.same(await deliver(), ['credential.expiry_reminder: sent'])
  const base = app.app.urls.base
  t.equal(smtp.messages[0]!.text, [
    'Dear Rita Reminder,',
    '',
    'Your CMA (AAMA) credential expires on 24 February 2026, in 30 days. It can be renewed by continuing education until 24 May 2026, or by passing the certification exam again. Renewal by continuing education takes 60 points, at least 30 of them from approved continuing education units (CEUs).',
    '',
    'Your continuing education: 0 of 60 points, 0 of 30 approved. Record activities and apply by 24 May 2026:',
    `${base}/account/badges/${rita.id}/continuing-education`,
    '',
    'When you recertify, your badge is renewed at the same link, so nothing you have shared breaks:',
    rita.url,
    '',
    'American Association of Medical Assistants',
    '',
    'My badges: every badge issued to this address, to view, share and download:',
    `${base}/account`,
    '',
    'You receive this reminder because you hold this credential. To stop reminders about it:',
    `${base}/notifications/unsubscribe/${rita.id}?token=${await unsubscribeToken(app.sql, rita.id)}`,
    ''
  ].join('\n'))
})

t.test('the issued email, the reminder and the expired notice give the renewal advice of the badge\'s page, on the same day', async (t) => {
  const { app, clock, smtp, deliver, scan, achievementId } = await setUp(t, '2026-01-15T12:00:00Z')
  const validUntil = '2026-02-24T12:00:00Z'
  const advice = (): string => renewalAdvice({ policy: RULES, validUntil, now: clock.now }).sentence ?? ''
  const rita = await issue(app, { achievementId, recipient: { name: 'Rita Reminder', email: 'rita@example.org' }, validUntil })
  t.same(await deliver(), ['credential.issued: sent'])
  t.match(smtp.messages.at(-1)!.text, `Your credential is valid until 24 February 2026. ${advice()}`, 'issued: the advice of the day')
  t.equal(advice(), 'It can be renewed by continuing education until 24 May 2026, or by passing the certification exam again.')

  clock.now = new Date('2026-01-25T13:00:00Z')
  await scan()
  t.same(await deliver(), ['credential.expiry_reminder: sent'])
  t.match(smtp.messages.at(-1)!.text, advice(), 'reminder: the same advice')
  t.match(smtp.messages.at(-1)!.html, advice())

  clock.now = new Date('2026-02-25T13:00:00Z')
  await scan()
  t.same(await deliver(), ['credential.expired: sent'])
  const expired = smtp.messages.at(-1)!
  t.equal(advice(), 'It can still be renewed by continuing education until 24 May 2026; after that, only by passing the certification exam again.')
  t.equal(await pageAdvice(app, rita.id), advice(), 'the page says it')
  t.match(expired.text, advice(), 'and so does the expired notice, word for word')
  t.match(expired.html, advice())
  t.notMatch(expired.text, /How to renew|accepted until/, 'no second wording of the windows')
})

t.test('a badge issued already expired is not congratulated: the email says it records a certification that expired, with the page\'s advice', async (t) => {
  const { app, clock, smtp, deliver, achievementId } = await setUp(t, '2026-12-04T12:00:00Z')
  const old = await issue(app, { achievementId, recipient: { name: 'Olga Oldbadge', email: 'olga@example.org' }, validFrom: '2020-06-01T00:00:00Z', validUntil: '2025-06-01T00:00:00Z' })
  t.same(await deliver(), ['credential.issued: sent'])
  const mail = smtp.messages[0]!
  const advice = renewalAdvice({ policy: RULES, validUntil: '2025-06-01T00:00:00Z', now: clock.now })
  t.equal(advice.state, 'lapsed')
  t.equal(advice.sentence, 'Renewal by continuing education closed on 1 September 2025. It can be renewed by passing the certification exam again.')
  for (const [part, body] of [['text', mail.text ?? ''], ['HTML', mail.html || '']] as const) {
    t.notMatch(body, /Congratulations/, `${part}: no congratulations`)
    t.notMatch(body, /valid until/i, `${part}: no "valid until" a past date`)
    t.notMatch(body, /continuing education until/, `${part}: no continuing education after the window closed`)
    t.match(body, /the record of a certification that (<strong>)?expired on 1 June 2025/, `${part}: says plainly what it records`)
    t.match(body, advice.sentence!, `${part}: the advice of the day`)
  }
  t.equal(await pageAdvice(app, old.id), advice.sentence, 'the page gives the same advice')
})

t.test('every page has My badges in its header, and My badges and Verify a credential in its footer', async (t) => {
  const app = await build(t)
  for (const url of ['/verify', '/account', '/order']) {
    const page = await app.app.inject({ url, headers: { accept: 'text/html' } })
    t.equal(page.statusCode, 200)
    const header = /<header class="site-header">([\s\S]*?)<\/header>/.exec(page.body)?.[1] ?? ''
    const footer = /<footer class="site-footer">([\s\S]*?)<\/footer>/.exec(page.body)?.[1] ?? ''
    t.match(header, '<a href="/account">My badges</a>', `${url}: header`)
    t.match(footer, '<a href="/account">My badges</a>', `${url}: footer`)
    t.match(footer, '<a href="/verify">Verify a credential</a>', `${url}: footer`)
  }
})
