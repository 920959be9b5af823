import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from '../helpers/build-app.js'
import { FAST_JOBS, startSmtpServer, waitFor } from '../helpers/notifications.js'

t.test('issuing sends the holder an email with the link, in text and HTML; notify: false sends none', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { ...FAST_JOBS, SMTP_URL: smtp.url, MAIL_FROM: 'AAMA Digital Badges <badges@aama.example>' } })
  await app.app.ready()
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } })
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'Jane@Example.org' } })

  const message = await waitFor('the issue email', () => smtp.messages[0])
  t.same(message.envelopeTo, ['jane@example.org'], 'sent to the holder (the address as stored)')
  t.equal(message.from?.value[0]?.address, 'badges@aama.example')
  t.equal(message.subject, 'Your CMA (AAMA) digital badge from American Association of Medical Assistants')
  t.match(message.text, issued.url, 'the credential URL in the text part')
  t.match(message.html, issued.url, 'the credential URL in the HTML part')
  t.match(message.text, /linkedin\.com\/profile\/add\?startTask=CERTIFICATION_NAME/, 'how to add it to LinkedIn')
  t.match(message.text, /valid until \d{1,2} \w+ \d{4}/, 'the expiry date')
  t.match(message.text, /Renewal by continuing education takes 60 points, at least 30 of them from approved/, 'what continuing education takes, in plain words')
  t.notOk(message.headers.get('list-unsubscribe'), 'issue emails are transactional: no unsubscribe')
  // The row is marked sent just after the SMTP server has the message: wait for that commit.
  const row = await waitFor('the email marked sent', async () => (await app.sql`select state, message_id from email_notifications where credential_id = ${issued.id} and state <> 'pending'`)[0])
  t.equal(row.state, 'sent')
  t.equal(message.messageId, row.message_id, 'the Message-ID recorded is the one sent')

  const silent = await issue(app, { achievementId: achievement.id, recipient: { name: 'Quiet Holder', email: 'quiet@example.org' }, notify: false })
  // The issue's transaction fanned its event out: what it queued is there once it answered.
  const [event] = await app.sql`select id from events where credential_id = ${silent.id}`
  t.ok(event, 'the silent issue recorded its event')
  t.equal((await app.sql`select count(*)::int as n from email_notifications where credential_id = ${silent.id}`)[0]!.n, 0, 'notify: false: no email queued')
  t.equal((await app.sql`select count(*)::int as n from pgboss.job where name = 'email-send' and data->>'eventId' = ${event!.id}`)[0]!.n, 0, 'nor an email job')

  // Recertification: a "renewed" email for the new version.
  const recertified = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/recertify`, headers: app.auth, payload: { method: 'exam' } })
  t.equal(recertified.statusCode, 201)
  const renewed = await waitFor('the renewal email', () => smtp.messages[1])
  t.match(renewed.subject, /^Your CMA \(AAMA\) badge is renewed until /)
  t.match(renewed.text, issued.url, 'the same URL for life')
  t.equal(smtp.messages.length, 2, 'nothing for the notify: false credential')
})

t.test('staff override a template part per issuer with a file; batches honour notify: false', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const overrides = await mkdtemp(path.join(os.tmpdir(), 'tessera-templates-'))
  t.teardown(async () => { await rm(overrides, { recursive: true, force: true }) })
  await mkdir(path.join(overrides, 'main'))
  await writeFile(path.join(overrides, 'main', 'issued.subject.eta'), 'AAMA digital badge account: <%= it.achievementName %> for <%= it.holderName %>')
  const app = await build(t, { env: { ...FAST_JOBS, SMTP_URL: smtp.url, EMAIL_TEMPLATES_DIR: overrides } })
  await app.app.ready()
  const achievement = await createAchievement(app)
  const batch = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { notify: false, items: [{ achievementId: achievement.id, recipient: { name: 'Batch Quiet', email: 'bq@example.org' } }] } })
  t.equal(batch.statusCode, 207)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Olive Override', email: 'olive@example.org' } })
  const message = await waitFor('the email', () => smtp.messages[0])
  t.equal(message.subject, 'AAMA digital badge account: CMA (AAMA) for Olive Override', 'the issuer\'s own subject')
  t.match(message.text, /has issued you a digital badge/, 'the parts not overridden are the built-in ones')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(smtp.messages.length, 1, 'nothing for the notify: false batch')
})

t.test('without SMTP_URL, emails are written as .eml files and the log never holds the address', async (t) => {
  const lines: string[] = []
  const { default: pino } = await import('pino')
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } })
  const app = await build(t, { env: FAST_JOBS, logger })
  await app.app.ready()
  const achievement = await createAchievement(app)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'File Holder', email: 'file.holder@example.org' } })
  const folder = path.join(app.dataDir, 'outbox-mail')
  const files = await waitFor('an .eml file', async () => {
    const names = await readdir(folder).catch(() => [])
    return names.length > 0 ? names : undefined
  })
  const eml = await readFile(path.join(folder, files[0]!), 'utf8')
  t.match(eml, /^To: file\.holder@example\.org$/m, 'a complete message, ready to open')
  t.match(eml, /Content-Type: multipart\/alternative/, 'text and HTML parts')
  await waitFor('the log line', () => lines.some((l) => l.includes('email sent')))
  t.ok(lines.some((l) => l.includes('"delivered":"file"')), 'the log says where it went')
  t.notOk(lines.some((l) => l.includes('file.holder@example.org')), 'the address is in no log line')
})
