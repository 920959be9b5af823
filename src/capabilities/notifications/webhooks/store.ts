import type { Db } from '../../../infrastructure/db/types.js'

export interface WebhookRow {
  id: string
  url: string
  eventTypes: string[]
  secret: string
  description: string | null
  enabled: boolean
  createdAt: Date
  createdBy: string
  disabledAt: Date | null
  deletedAt: Date | null
}

const columns = (sql: Db) => sql`
  id, url, event_types as "eventTypes", secret, description, enabled, created_at as "createdAt",
  created_by as "createdBy", disabled_at as "disabledAt", deleted_at as "deletedAt"`

export async function insertWebhook (tx: Db, hook: { id: string, url: string, eventTypes: string[], secret: string, description: string | null, createdAt: Date, createdBy: string }): Promise<WebhookRow> {
  const [row] = await tx<WebhookRow[]>`
    insert into webhooks (id, url, event_types, secret, description, created_at, created_by)
    values (${hook.id}, ${hook.url}, ${hook.eventTypes}, ${hook.secret}, ${hook.description}, ${hook.createdAt}, ${hook.createdBy})
    returning ${columns(tx)}`
  return row!
}

export async function listWebhooks (sql: Db): Promise<WebhookRow[]> {
  return await sql<WebhookRow[]>`select ${columns(sql)} from webhooks where deleted_at is null order by created_at, id`
}

export async function findWebhook (sql: Db, id: string): Promise<WebhookRow | undefined> {
  const [row] = await sql<WebhookRow[]>`select ${columns(sql)} from webhooks where id = ${id} and deleted_at is null`
  return row
}

export async function setWebhookEnabled (tx: Db, id: string, enabled: boolean, at: Date): Promise<WebhookRow | undefined> {
  const [row] = await tx<WebhookRow[]>`
    update webhooks set enabled = ${enabled}, disabled_at = ${enabled ? null : at}
    where id = ${id} and deleted_at is null returning ${columns(tx)}`
  return row
}

/** Soft delete: deliveries and their attempts stay on record. */
export async function deleteWebhook (tx: Db, id: string, at: Date): Promise<WebhookRow | undefined> {
  const [row] = await tx<WebhookRow[]>`
    update webhooks set deleted_at = ${at}, enabled = false where id = ${id} and deleted_at is null returning ${columns(tx)}`
  return row
}

export interface DeliveryRow {
  id: string
  webhookId: string
  eventId: string
  eventType: string
  state: 'pending' | 'delivered' | 'failed'
  attempts: number
  createdAt: Date
  lastAttemptAt: Date | null
  deliveredAt: Date | null
  failedAt: Date | null
}

const deliveryColumns = (sql: Db) => sql`
  d.id, d.webhook_id as "webhookId", d.event_id as "eventId", e.type as "eventType", d.state, d.attempts,
  d.created_at as "createdAt", d.last_attempt_at as "lastAttemptAt", d.delivered_at as "deliveredAt", d.failed_at as "failedAt"`

export async function findDelivery (sql: Db, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await sql<DeliveryRow[]>`select ${deliveryColumns(sql)} from webhook_deliveries d join events e on e.id = d.event_id where d.id = ${id}`
  return row
}

export interface AttemptRow { attempt: number, startedAt: Date, durationMs: number, statusCode: number | null, responseBody: string | null, error: string | null, manual: boolean }

/** A webhook's deliveries, newest first, each with its attempts (keyset pages on created_at, id). */
export async function listDeliveries (sql: Db, webhookId: string, q: { limit: number, state?: string, before?: { createdAt: Date, id: string } }): Promise<Array<DeliveryRow & { attemptLog: AttemptRow[] }>> {
  const rows = await sql<DeliveryRow[]>`
    select ${deliveryColumns(sql)} from webhook_deliveries d join events e on e.id = d.event_id
    where d.webhook_id = ${webhookId}
      ${q.state !== undefined ? sql`and d.state = ${q.state}` : sql``}
      ${q.before !== undefined ? sql`and (d.created_at, d.id) < (${q.before.createdAt}, ${q.before.id})` : sql``}
    order by d.created_at desc, d.id desc
    limit ${q.limit}`
  if (rows.length === 0) return []
  const attempts = await sql<Array<AttemptRow & { deliveryId: string }>>`
    select delivery_id as "deliveryId", attempt, started_at as "startedAt", duration_ms as "durationMs", status_code as "statusCode",
           response_body as "responseBody", error, manual
    from webhook_attempts where delivery_id = any(${rows.map((r) => r.id)}::uuid[]) order by id`
  return rows.map((row) => ({ ...row, attemptLog: attempts.filter((a) => a.deliveryId === row.id).map(({ deliveryId: _, ...a }) => a) }))
}

export async function recordAttempt (sql: Db, deliveryId: string, attempt: Omit<AttemptRow, 'attempt'>, outcome: 'delivered' | 'pending' | 'failed'): Promise<number> {
  const [row] = await sql<Array<{ attempts: number }>>`
    with bumped as (
      update webhook_deliveries set
        attempts = attempts + 1,
        last_attempt_at = ${attempt.startedAt},
        state = ${outcome},
        delivered_at = case when ${outcome} = 'delivered' then ${attempt.startedAt}::timestamptz else delivered_at end,
        failed_at = case when ${outcome} = 'failed' then ${attempt.startedAt}::timestamptz else null end
      where id = ${deliveryId}
      returning attempts)
    insert into webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, response_body, error, manual)
    select ${deliveryId}, attempts, ${attempt.startedAt}, ${attempt.durationMs}, ${attempt.statusCode}, ${attempt.responseBody}, ${attempt.error}, ${attempt.manual} from bumped
    returning attempt as attempts`
  return row?.attempts ?? 0
}

export async function markDeliveryFailed (sql: Db, deliveryId: string, at: Date): Promise<void> {
  await sql`update webhook_deliveries set state = 'failed', failed_at = ${at} where id = ${deliveryId} and state = 'pending'`
}

export async function reopenDelivery (sql: Db, deliveryId: string): Promise<void> {
  await sql`update webhook_deliveries set state = 'pending', failed_at = null where id = ${deliveryId}`
}

/**
 * A `webhook.test` event (about no credential: migrations/0015) and its one
 * delivery, to one endpoint whatever event types it subscribed to.
 */
export async function insertTestDelivery (tx: Db, test: { eventId: string, deliveryId: string, webhookId: string, at: Date, data: Record<string, string> }): Promise<void> {
  await tx`
    insert into events (id, type, occurred_at, credential_id, version, data, notify_holder)
    values (${test.eventId}, 'webhook.test', ${test.at}, null, null, ${tx.json(test.data)}, false)`
  await tx`insert into webhook_deliveries (id, webhook_id, event_id, created_at) values (${test.deliveryId}, ${test.webhookId}, ${test.eventId}, ${test.at})`
}

/**
 * A pending delivery for every webhook subscribed to each event's type when
 * it happened (created before it, enabled, not deleted): one statement for
 * any number of events. The unique (webhook, event) makes a re-run add
 * nothing twice; the new deliveries' ids.
 */
export async function insertDeliveriesFor (tx: Db, events: ReadonlyArray<{ id: string, type: string, occurredAt: Date }>, at: Date): Promise<string[]> {
  const rows = await tx<Array<{ id: string }>>`
    insert into webhook_deliveries (id, webhook_id, event_id, created_at)
    select gen_random_uuid(), w.id, e.id, ${at}
    from unnest(${events.map((e) => e.id)}::uuid[], ${events.map((e) => e.type)}::text[], ${events.map((e) => e.occurredAt.toISOString())}::timestamptz[]) as e (id, type, occurred_at)
    join webhooks w on w.enabled and w.deleted_at is null and e.type = any(w.event_types) and w.created_at <= e.occurred_at
    on conflict (webhook_id, event_id) do nothing
    returning id`
  return rows.map((row) => row.id)
}
