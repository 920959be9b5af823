import t from 'tap'
import { build, createAchievement, issue } from '../helpers/build-app.js'
import { startSmtpServer, waitFor } from '../helpers/notifications.js'
import { startWorkerProcess } from '../helpers/worker-process.js'

/**
 * In a cluster the HTTP processes add jobs and the job-worker process
 * (src/worker.ts) runs them. A transaction that adds jobs announces it on the
 * change feed, and the worker process fetches at once: without that, a worker
 * that had caught up slept a whole polling interval while new emails waited.
 * The poll here is a minute long, so an email that leaves within seconds was
 * woken for.
 */
t.test('the worker process sends an email queued by another process at once, not at its next poll', { timeout: 180_000 }, async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const api = await build(t, { env: { SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example' } })
  const achievement = await createAchievement(api)

  const worker = startWorkerProcess(t, api, { LOG_LEVEL: 'info', SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example', JOB_POLL_SECONDS: '60' })
  const { logged } = worker
  await waitFor('the worker process running', () => logged.join('').includes('job worker running') ? true : undefined, 60_000)
  // Its workers have made their first fetch (empty) and now sleep until the next poll, a minute away.
  await new Promise((resolve) => setTimeout(resolve, 2_000))

  const queuedAt = Date.now()
  await issue(api, { achievementId: achievement.id, recipient: { name: 'Nadia Now', email: 'nadia@example.org' } })
  await waitFor('the badge email', () => smtp.messages.some((m) => m.envelopeTo.includes('nadia@example.org')) ? true : undefined, 20_000)
    .catch((error: Error) => { throw new Error(`${error.message}; the worker logged: ${logged.join('')}`) })
  t.ok(Date.now() - queuedAt < 30_000, `sent ${Date.now() - queuedAt} ms after it was queued, not at the worker's next poll (60 s)`)
  t.equal(await worker.stop(), 0, 'the worker stops cleanly')
})
