import { randomUUID } from 'node:crypto'
import { QUEUES } from '../../infrastructure/jobs/job-queue.js'
import type { NotificationDeps } from './deps.js'
import { EMAIL_FOR_EVENT } from './email/send-email.js'
import { findEvent } from '../../infrastructure/jobs/outbox.js'

/**
 * Turns one recorded event into its deliveries, in one transaction: a
 * delivery (and job) per webhook subscribed to its type when it happened, and
 * the holder's email when the event calls for one. Unique keys make a re-run
 * (after a crash, or a retry) add nothing twice.
 */
export async function fanOutEvent (deps: Pick<NotificationDeps, 'sql' | 'jobs' | 'clock'>, eventId: string): Promise<{ webhooks: number, email: boolean }> {
  const event = await findEvent(deps.sql, eventId)
  if (event === undefined) return { webhooks: 0, email: false }
  return await deps.sql.begin(async (tx) => {
    let webhooks = 0
    const subscribed = await tx<Array<{ id: string }>>`
      select id from webhooks
      where enabled and deleted_at is null and ${event.type} = any(event_types) and created_at <= ${event.occurredAt}`
    for (const hook of subscribed) {
      const [delivery] = await tx<Array<{ id: string }>>`
        insert into webhook_deliveries (id, webhook_id, event_id, created_at)
        values (${randomUUID()}, ${hook.id}, ${event.id}, ${deps.clock()})
        on conflict (webhook_id, event_id) do nothing
        returning id`
      if (delivery === undefined) continue
      await deps.jobs.add(tx, QUEUES.webhook, { deliveryId: delivery.id })
      webhooks++
    }
    const kind = EMAIL_FOR_EVENT[event.type]
    let email = false
    if (kind !== undefined && event.notifyHolder) {
      const rows = await tx`
        insert into email_notifications (event_id, credential_id, version, kind)
        values (${event.id}, ${event.credentialId}, ${event.version}, ${kind})
        on conflict (event_id) do nothing
        returning event_id`
      if (rows.length > 0) {
        await deps.jobs.add(tx, QUEUES.email, { eventId: event.id })
        email = true
      }
    }
    return { webhooks, email }
  }) as { webhooks: number, email: boolean }
}
