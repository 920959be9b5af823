import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import t from 'tap'
import { build, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { FAST_JOBS, startSmtpServer, waitFor } from '../helpers/notifications.js'
import { CookieJar, csrfToken, getPage, postForm } from '../helpers/portal.js'

/**
 * A mail server that stalls must not hold a send for longer than the SMTP
 * timeout (SMTP_TIMEOUT_SECONDS): the send fails, its job is retried, and the
 * email goes once the server answers. nodemailer's own defaults wait 10
 * minutes for a reply, far past the job's 2-minute expiry (pg-boss then ran
 * the job a second time beside the first) and past any test's patience.
 * Real SMTP servers on loopback, the app's own mailer and job workers.
 */

async function emailJob (app: TestApp): Promise<{ state: string, retries: number, error: string } | undefined> {
  const [job] = await app.sql<Array<{ state: string, retries: number, error: string | null }>>`
    select state, retry_count as retries, output->>'message' as error from pgboss.job where name = 'email-send' order by created_on limit 1`
  return job === undefined ? undefined : { state: job.state, retries: job.retries, error: job.error ?? '' }
}

async function emailState (app: TestApp): Promise<string | undefined> {
  return (await app.sql<Array<{ state: string }>>`select state from email_notifications order by created_at limit 1`)[0]?.state
}

t.test('a server that never answers the message: the send fails after the timeout, the job is retried, the email goes once the server answers', async (t) => {
  const smtp = await startSmtpServer({ hold: true })
  t.teardown(smtp.close)
  const app = await build(t, { env: { ...FAST_JOBS, SMTP_URL: smtp.url, SMTP_TIMEOUT_SECONDS: '1' } })
  const achievement = await createAchievement(app)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })

  const failed = await waitFor('the email job to fail and wait for its retry', async () => {
    const job = await emailJob(app)
    return job !== undefined && job.retries >= 1 ? job : undefined
  })
  t.match(failed.error, /time/i, `it failed on the timeout: ${failed.error}`)
  t.equal(smtp.accepted, 0, 'while the server had accepted nothing')
  t.equal(await emailState(app), 'pending', 'the email is still to be sent')

  // The portal's sign-in link is sent by the same mailer, outside the job queue: it ends too.
  const jar = new CookieJar()
  const form = await getPage(app, jar, '/account')
  await postForm(app, jar, '/account', { _csrf: csrfToken(form.body), email: 'jane@example.org' })
  await app.app.background.settled()
  t.equal(smtp.accepted, 0, 'the sign-in link\'s send gave up while the server still held it')

  smtp.release()
  await waitFor('the email to be sent', async () => await emailState(app) === 'sent' || undefined)
  const badgeEmails = smtp.messages.filter((m) => m.envelopeTo.includes('jane@example.org') && /badge|credential/i.test(m.subject ?? '') && !/sign-in/i.test(m.subject ?? ''))
  t.ok(badgeEmails.length >= 1, 'the badge email reached the server')
  t.equal(new Set(badgeEmails.map((m) => m.messageId)).size, 1, 'every attempt carried the same Message-ID (a late copy of a stalled attempt is recognisably the same message)')
})

t.test('a server that keeps the line busy without ever answering: the message is given up after twice the timeout', async (t) => {
  // Speaks just enough SMTP to keep a client waiting: a greeting, then an EHLO
  // reply whose continuation lines never end, one every 300 ms, so the socket
  // is never idle long enough for an inactivity timeout.
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => { sockets.delete(socket) })
    socket.on('error', () => {})
    socket.write('220 busy.example ESMTP\r\n')
    socket.once('data', () => {
      const timer = setInterval(() => { socket.write('250-STILL-THINKING\r\n') }, 300)
      socket.on('close', () => { clearInterval(timer) })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  const app = await build(t, { env: { ...FAST_JOBS, SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_TIMEOUT_SECONDS: '1' } })
  const achievement = await createAchievement(app)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })

  const failed = await waitFor('the email job to fail and wait for its retry', async () => {
    const job = await emailJob(app)
    return job !== undefined && job.retries >= 1 ? job : undefined
  })
  t.match(failed.error, /had not taken the message after 2 s/, `the whole-message deadline ended it: ${failed.error}`)
  t.equal(await emailState(app), 'pending', 'the email is still to be sent')
})
