import { QUEUES } from './infrastructure/jobs/job-queue.js'
import type { ChangeAnnouncer } from './infrastructure/caching/change-feed.js'
import type { DataIntegrity } from './infrastructure/signing/pool.js'
import { sendRejectionEmail } from './capabilities/holders/orders.js'
import { deleteStalePortalRows } from './capabilities/holders/store.js'
import type { KeyRing } from './capabilities/keys/key-ring.js'
import type { NotificationDeps } from './capabilities/notifications/deps.js'
import { sendEventEmail } from './capabilities/notifications/email/send-email.js'
import { fanOutEvent } from './capabilities/notifications/fan-out.js'
import { recordDueNotifications } from './capabilities/notifications/remind/scheduler.js'
import { attemptDelivery } from './capabilities/notifications/webhooks/deliver.js'
import { resignExpiringStatusLists } from './capabilities/status-lists/refresh-task.js'
import { purgeExpiredOAuthEntries } from './capabilities/open-badges-api/oauth-store.js'
import { purgeWalletOffers } from './capabilities/wallets/store.js'

/** What the workers run with: the notifications' needs, and the keys that re-sign status lists. */
export interface WorkerDeps extends NotificationDeps {
  keyRing: KeyRing
  /** Where status lists are signed (an app's threads); absent: on this thread. */
  dataIntegrity?: DataIntegrity
  /** The app's change feed, so that its own caches drop a re-signed list at once; absent: NOTIFY only. */
  changes?: ChangeAnnouncer
}

/** How long the portal keeps a sign-in token or session after it ended (a token's rate-limit hour needs it). */
const PORTAL_ROWS_KEPT_MS = 86_400_000

/**
 * Starts a worker for every queue in this process, and puts the periodic
 * tasks on their cron schedules (pg-boss sends one job per slot across every
 * instance): the due-notification scan, the status-list refresh and the
 * portal purge (with the OAuth server's expired entries and old wallet offers). Runs inside the service (WORKER=inline, the default) or on
 * its own (`npm run worker`); any number of processes may run it against one
 * database. Nothing else in the service runs work later (but the sign-in
 * email: infrastructure/jobs/background.ts says why).
 */
export async function startJobWorkers (deps: WorkerDeps): Promise<void> {
  const { jobs, config } = deps
  // The outbox fans events out as it records them; this drains fan-out jobs queued before it did (and the admin CLI's).
  await jobs.work(QUEUES.fanOut, async (job) => { await fanOutEvent(deps, job.data.eventId) })
  await jobs.work(QUEUES.email, async (job) => { await sendEventEmail(deps, job.data.eventId) })
  await jobs.work(QUEUES.webhook, async (job) => { await attemptDelivery(deps, job.data.deliveryId) })
  await jobs.work(QUEUES.portalEmail, async (job) => { await sendRejectionEmail(deps, job.data.orderId) })
  await jobs.work(QUEUES.scan, async () => {
    const counts = await recordDueNotifications({ sql: deps.sql, outbox: deps.outbox, urls: deps.urls, now: deps.clock(), reminderDays: config.notifications.reminderDays })
    if (counts.reminders + counts.expired > 0) deps.log.info(counts, 'due notifications recorded')
  })
  await jobs.work(QUEUES.statusListRefresh, async () => {
    const count = await resignExpiringStatusLists({ sql: deps.sql, keyRing: deps.keyRing, urls: deps.urls, now: deps.clock(), dataIntegrity: deps.dataIntegrity, changes: deps.changes })
    if (count > 0) deps.log.info({ count }, 'status lists re-signed')
  })
  await jobs.work(QUEUES.portalPurge, async () => {
    await deleteStalePortalRows(deps.sql, new Date(deps.clock().getTime() - PORTAL_ROWS_KEPT_MS))
    // The Open Badges API's expired codes, tokens, interactions and grants (a used code a day longer, so its reuse is recognised).
    await purgeExpiredOAuthEntries(deps.sql)
    // Wallet offers a day after they expired, used or not (the audit trail keeps what each delivered).
    await purgeWalletOffers(deps.sql, new Date(deps.clock().getTime() - PORTAL_ROWS_KEPT_MS))
  })
  await jobs.schedule(QUEUES.scan, config.notifications.scanCron)
  await jobs.schedule(QUEUES.statusListRefresh, config.notifications.statusListRefreshCron)
  await jobs.schedule(QUEUES.portalPurge, config.notifications.portalPurgeCron)
}
