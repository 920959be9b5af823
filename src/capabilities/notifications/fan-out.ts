import { QUEUES, type JobQueue, type QueuedJob } from '../../infrastructure/jobs/job-queue.js'
import type { Db } from '../../infrastructure/db/types.js'
import type { NotificationDeps } from './deps.js'
import { EMAIL_FOR_EVENT } from './email/send-email.js'
import { insertEmailNotifications } from './email/store.js'
import { insertDeliveriesFor } from './webhooks/store.js'
import { findEvent, type FanOutHook, type RecordedEvent } from '../../infrastructure/jobs/outbox.js'

/**
 * Turns recorded events into their deliveries, in the caller's transaction
 * and in three statements whatever their number: a delivery per webhook
 * subscribed to an event's type when it happened, the holder's email when the
 * event calls for one (and staff did not say notify: false), and one insert
 * of the jobs that send them. The first two are sent together (pipelined).
 * Unique keys make a re-run (after a crash, or a retry) add nothing twice.
 */
export async function fanOutEvents (tx: Db, deps: { jobs: Pick<JobQueue, 'addAll'>, clock: () => Date }, events: readonly RecordedEvent[]): Promise<{ webhooks: number, emails: number }> {
  if (events.length === 0) return { webhooks: 0, emails: 0 }
  const emails = events.flatMap((event) => {
    const kind = EMAIL_FOR_EVENT[event.type]
    return kind !== undefined && event.notifyHolder ? [{ eventId: event.id, credentialId: event.credentialId, version: event.version, kind }] : []
  })
  const [deliveries, emailed] = await Promise.all([insertDeliveriesFor(tx, events, deps.clock()), insertEmailNotifications(tx, emails)])
  const jobs: QueuedJob[] = [
    ...deliveries.map((deliveryId): QueuedJob => ({ queue: QUEUES.webhook, data: { deliveryId } })),
    ...emailed.map((eventId): QueuedJob => ({ queue: QUEUES.email, data: { eventId } }))
  ]
  await deps.jobs.addAll(tx, jobs)
  return { webhooks: deliveries.length, emails: emailed.length }
}

/** The outbox's hook (the composition passes it to databaseOutbox): events fanned out in the transaction that records them. */
export function fanOutInTransaction (deps: { jobs: Pick<JobQueue, 'addAll'>, clock: () => Date }): FanOutHook {
  return async (tx, events) => await fanOutEvents(tx, deps, events)
}

/**
 * One recorded event fanned out in a transaction of its own: the worker of
 * the `event-fan-out` queue, for jobs queued before the outbox fanned out
 * itself (an upgrade with jobs in flight). Already fanned out: nothing added.
 */
export async function fanOutEvent (deps: Pick<NotificationDeps, 'sql' | 'jobs' | 'clock'>, eventId: string): Promise<{ webhooks: number, email: boolean }> {
  const event = await findEvent(deps.sql, eventId)
  if (event === undefined) return { webhooks: 0, email: false }
  const counts = await deps.sql.begin(async (tx) => await fanOutEvents(tx, deps, [event])) as { webhooks: number, emails: number }
  return { webhooks: counts.webhooks, email: counts.emails > 0 }
}
