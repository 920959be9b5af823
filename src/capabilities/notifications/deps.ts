import type { Sql } from 'postgres'
import type { Config } from '../../kernel/config.js'
import type { JobQueue } from '../../infrastructure/jobs/job-queue.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import type { Clock } from '../../kernel/time.js'
import type { Mailer } from './email/mailer.js'
import type { Outbox } from '../../infrastructure/jobs/outbox.js'

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
