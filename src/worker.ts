import pino from 'pino'
import { loggerOptions } from './infrastructure/logging.js'
import { loadConfigOrExit } from './kernel/config.js'
import { connect, connectOptionsFor } from './infrastructure/db/connect.js'
import { ensureSchema } from './boot.js'
import { JOBS_ADDED, openJobQueue } from './infrastructure/jobs/job-queue.js'
import { createMailer } from './capabilities/notifications/email/mailer.js'
import { databaseOutbox } from './infrastructure/jobs/outbox.js'
import { fanOutInTransaction } from './capabilities/notifications/fan-out.js'
import { startJobWorkers } from './background-jobs.js'
import { openChangeFeedFor } from './infrastructure/caching/change-feed.js'
import { loadKeyRing } from './capabilities/keys/key-ring.js'
import { followKeyChanges } from './capabilities/keys/key-ring-refresh.js'
import { publicUrls } from './kernel/public-urls.js'
import { systemClock } from './kernel/time.js'
import { startTracing } from './infrastructure/tracing/tracing.js'
import { traceStatements } from './infrastructure/tracing/traced-sql.js'

/**
 * `npm run worker`: the job workers (emails, webhooks) and the scheduled
 * tasks (the due-reminder scan, the status-list refresh, the portal purge) in
 * a process of their own, for deployments that run the HTTP service with
 * WORKER=off. Needs DATABASE_URL, and KEYS_DIR (it re-signs status lists); any
 * number may run. Its keys reload when a rotation or compromise commits.
 */
async function main (): Promise<void> {
  const config = loadConfigOrExit()
  if (config.databaseUrl === undefined) {
    console.error('DATABASE_URL is required: the worker joins the database the service uses.')
    process.exit(2)
  }
  const log = pino(loggerOptions(config.logLevel))
  const sql = connect(config.databaseUrl, connectOptionsFor(config))
  await ensureSchema(config, config.databaseUrl, sql, { info: (m) => { log.info(m) }, warn: (m) => { log.warn(m) } })
  const jobs = await openJobQueue(sql, { run: true, policy: config.notifications.jobs, onError: (error) => { log.warn({ err: error }, 'job queue') } })
  const mailer = createMailer({ smtpUrl: config.notifications.smtpUrl, from: config.notifications.mailFrom, dataDir: config.dataDir, timeoutSeconds: config.notifications.smtpTimeoutSeconds })
  const urls = publicUrls(config.publicBaseUrl)
  const keyRing = await loadKeyRing(sql, urls, config.keysDir)
  const keys = followKeyChanges(keyRing, { info: (m) => { log.info(m) }, error: (details, m) => { log.error(details, m) } })
  // Key changes, and jobs added by the HTTP processes (fetched at once rather than at the next poll).
  const changes = await openChangeFeedFor(config.database, sql, { onChange: (key) => { if (key.startsWith(JOBS_ADDED)) jobs.onChange(key); else keys.onChange(key) }, onReset: keys.reload })
  // Traces when an OTLP endpoint is configured: a span per job, its statements its children.
  const tracing = config.tracing === undefined ? undefined : await startTracing(config.tracing)
  await startJobWorkers({ sql: tracing === undefined ? sql : traceStatements(sql), jobs, outbox: databaseOutbox(jobs, fanOutInTransaction({ jobs, clock: systemClock })), mailer, urls, config, clock: systemClock, log, keyRing })
  log.info('job worker running')
  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    log.info(`${signal} received: finishing the jobs in hand`)
    await jobs.stop()
    await changes.close()
    await keys.settled()
    mailer.close()
    await tracing?.shutdown()
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
