import pino from 'pino'
import { loggerOptions } from './infrastructure/logging.js'
import { loadConfigOrExit } from './kernel/config.js'
import { connect } from './infrastructure/db/connect.js'
import { ensureSchema } from './boot.js'
import { openJobQueue } from './infrastructure/jobs/job-queue.js'
import { createMailer } from './capabilities/notifications/email/mailer.js'
import { databaseOutbox } from './infrastructure/jobs/outbox.js'
import { startNotificationWorkers } from './background-jobs.js'
import { publicUrls } from './kernel/public-urls.js'
import { systemClock } from './kernel/time.js'

/**
 * `npm run worker`: the notification workers (emails, webhooks, the
 * due-reminder scan) in a process of their own, for deployments that run the
 * HTTP service with WORKER=off. Needs DATABASE_URL; any number may run.
 */
async function main (): Promise<void> {
  const config = loadConfigOrExit()
  if (config.databaseUrl === undefined) {
    console.error('DATABASE_URL is required: the worker joins the database the service uses.')
    process.exit(2)
  }
  const log = pino(loggerOptions(config.logLevel))
  const sql = connect(config.databaseUrl)
  await ensureSchema(config, config.databaseUrl, sql, { info: (m) => { log.info(m) }, warn: (m) => { log.warn(m) } })
  const jobs = await openJobQueue(sql, { run: true, policy: config.notifications.jobs, onError: (error) => { log.warn({ err: error }, 'job queue') } })
  const mailer = createMailer({ smtpUrl: config.notifications.smtpUrl, from: config.notifications.mailFrom, dataDir: config.dataDir })
  await startNotificationWorkers({ sql, jobs, outbox: databaseOutbox(jobs), mailer, urls: publicUrls(config.publicBaseUrl), config, clock: systemClock, log })
  log.info('notification worker running')
  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    log.info(`${signal} received: finishing the jobs in hand`)
    await jobs.stop()
    mailer.close()
    await sql.end({ timeout: 3 })
    process.exit(0)
  }
  process.on('SIGTERM', () => { void stop('SIGTERM') })
  process.on('SIGINT', () => { void stop('SIGINT') })
}

main().catch((error: unknown) => {
  console.error(`The worker could not start: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  process.exit(1)
})
