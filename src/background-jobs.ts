import { QUEUES } from './infrastructure/jobs/job-queue.js'
import { sendRejectionEmail } from './capabilities/holders/orders.js'
import { deleteStalePortalRows } from './capabilities/holders/store.js'
import type { NotificationDeps } from './capabilities/notifications/deps.js'
import { sendEventEmail } from './capabilities/notifications/email/send-email.js'
import { fanOutEvent } from './capabilities/notifications/fan-out.js'
import { recordDueNotifications } from './capabilities/notifications/remind/scheduler.js'
import { attemptDelivery } from './capabilities/notifications/webhooks/deliver.js'

/**
 * Starts the workers of every notification queue in this process, and the
 * cron of the due-notification scan. Runs inside the service (WORKER=inline,
 * the default) or on its own (`npm run worker`); any number of processes may
 * run it against one database.
 */
export async function startNotificationWorkers (deps: NotificationDeps): Promise<void> {
  const eventId = (data: Record<string, unknown>): string => String(data.eventId)
  await deps.jobs.work(QUEUES.fanOut, async (job) => { await fanOutEvent(deps, eventId(job.data)) })
  await deps.jobs.work(QUEUES.email, async (job) => { await sendEventEmail(deps, eventId(job.data)) })
  await deps.jobs.work(QUEUES.webhook, async (job) => { await attemptDelivery(deps, String(job.data.deliveryId)) })
  await deps.jobs.work(QUEUES.scan, async () => {
    const counts = await recordDueNotifications({ sql: deps.sql, outbox: deps.outbox, urls: deps.urls, now: deps.clock(), reminderDays: deps.config.notifications.reminderDays })
    if (counts.reminders + counts.expired > 0) deps.log.info(counts, 'due notifications recorded')
    // Sign-in tokens (after their rate-limit hour) and sessions, a day after they ended.
    await deleteStalePortalRows(deps.sql, new Date(deps.clock().getTime() - 86_400_000))
  })
  await deps.jobs.work(QUEUES.portalEmail, async (job) => { await sendRejectionEmail(deps, String(job.data.orderId)) })
  await deps.jobs.schedule(QUEUES.scan, deps.config.notifications.scanCron)
}
