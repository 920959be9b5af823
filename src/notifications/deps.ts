import type { Sql } from 'postgres'
import type { Config } from '../config.js'
import type { JobQueue } from '../jobs/job-queue.js'
import type { PublicUrls } from '../public-urls.js'
import type { Clock } from '../time.js'
import type { Mailer } from './email/mailer.js'
import type { Outbox } from './events.js'

export interface NotificationLog {
  info: (details: object, message: string) => void
  warn: (details: object, message: string) => void
  error: (details: object, message: string) => void
}

/** What the notification jobs run with: database, clock, mail, queue, configuration. */
export interface NotificationDeps {
  sql: Sql
  jobs: JobQueue
  outbox: Outbox
  mailer: Mailer
  urls: PublicUrls
  config: Config
  clock: Clock
  log: NotificationLog
}
