import { randomBytes, randomUUID } from 'node:crypto'
import type { Sql } from 'postgres'
import { recordAuditEvent } from '../../audit/store.js'
import { AppError, notFound } from '../../../kernel/errors.js'
import { newId } from '../../../kernel/ids.js'
import { QUEUES, type JobQueue } from '../../../infrastructure/jobs/job-queue.js'
import type { NotificationDeps } from '../deps.js'
import { attemptDelivery } from './deliver.js'
import { webhookUrlProblem } from './post-webhook.js'
import { deleteWebhook, findDelivery, findWebhook, insertTestDelivery, insertWebhook, reopenDelivery, setWebhookEnabled, type WebhookRow } from './store.js'

export interface WebhookAdminDeps { sql: Sql, actor: string, now: Date, requestId?: string, allowLoopback: boolean }

/** The public form of a webhook: never its secret. */
export function webhookResource (row: WebhookRow): Record<string, unknown> {
  return {
    id: row.id,
    url: row.url,
    events: row.eventTypes,
    description: row.description,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    disabledAt: row.disabledAt?.toISOString() ?? null
  }
}

const audit = (deps: WebhookAdminDeps, action: string, id: string, after: Record<string, unknown>): Parameters<typeof recordAuditEvent>[1] =>
  ({ actor: deps.actor, action, subjectType: 'webhook', subjectId: id, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), after })

/** Registers an endpoint; the secret (Standard Webhooks `whsec_` form) is returned this once. */
export async function registerWebhook (deps: WebhookAdminDeps, input: { url: string, events: string[], description?: string }): Promise<{ row: WebhookRow, secret: string }> {
  const problem = webhookUrlProblem(input.url, deps.allowLoopback)
  if (problem !== undefined) throw new AppError('validation_failed', `"url" ${problem}.`)
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const row = await deps.sql.begin(async (tx) => {
    const created = await insertWebhook(tx, { id: newId(), url: input.url, eventTypes: [...new Set(input.events)], secret, description: input.description ?? null, createdAt: deps.now, createdBy: deps.actor })
    await recordAuditEvent(tx, audit(deps, 'webhook.created', created.id, { url: created.url, events: created.eventTypes }))
    return created
  }) as WebhookRow
  return { row, secret }
}

export async function changeWebhook (deps: WebhookAdminDeps, id: string, change: 'enable' | 'disable' | 'delete'): Promise<WebhookRow> {
  return await deps.sql.begin(async (tx) => {
    const row = change === 'delete' ? await deleteWebhook(tx, id, deps.now) : await setWebhookEnabled(tx, id, change === 'enable', deps.now)
    if (row === undefined) throw notFound(`Webhook "${id}"`)
    await recordAuditEvent(tx, audit(deps, `webhook.${change}d`, id, { enabled: row.enabled, deleted: row.deletedAt !== null }))
    return row
  }) as WebhookRow
}

/**
 * "Send test event": a `webhook.test` event to one endpoint, delivered as
 * every event is (a delivery row and a webhook-deliver job in one
 * transaction; the same Standard Webhooks signature, retries and attempt
 * log), so it shows in the endpoint's deliveries. It names no credential;
 * its data says which endpoint it tests and who asked. Audited.
 */
export async function sendTestEvent (deps: WebhookAdminDeps & { jobs: Pick<JobQueue, 'add'> }, webhookId: string): Promise<{ eventId: string, deliveryId: string }> {
  return await deps.sql.begin(async (tx) => {
    const hook = await findWebhook(tx, webhookId)
    if (hook === undefined) throw notFound(`Webhook "${webhookId}"`)
    if (!hook.enabled) throw new AppError('conflict', 'The webhook is disabled: enable it first to send it a test event.')
    const test = { eventId: randomUUID(), deliveryId: randomUUID() }
    await insertTestDelivery(tx, { ...test, webhookId, at: deps.now, data: { webhookId, message: 'A test event: nothing changed. Answer with any 2xx status.' } })
    await deps.jobs.add(tx, QUEUES.webhook, { deliveryId: test.deliveryId })
    await recordAuditEvent(tx, audit(deps, 'webhook.test_sent', webhookId, test))
    return test
  }) as { eventId: string, deliveryId: string }
}

/**
 * Staff's retry of a delivery by hand: one attempt now (a delivered one is a
 * 409), audited with its outcome; the delivery's state and attempts after it.
 */
export async function retryDelivery (deps: Pick<NotificationDeps, 'sql' | 'clock' | 'config' | 'log'> & { actor: string, requestId?: string }, webhookId: string, deliveryId: string): Promise<{ id: string, state: 'pending' | 'delivered' | 'failed' | 'retry' | 'nothing to do', attempts: number }> {
  const delivery = await findDelivery(deps.sql, deliveryId)
  if (delivery === undefined || delivery.webhookId !== webhookId) throw notFound(`Delivery "${deliveryId}" of webhook "${webhookId}"`)
  if (delivery.state === 'delivered') throw new AppError('conflict', `Delivery "${deliveryId}" was already delivered.`)
  await reopenDelivery(deps.sql, deliveryId)
  const outcome = await attemptDelivery(deps, deliveryId, { manual: true })
  await recordAuditEvent(deps.sql, { actor: deps.actor, action: 'webhook.delivery_retried', subjectType: 'webhook', subjectId: webhookId, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), details: { deliveryId, outcome } })
  const after = await findDelivery(deps.sql, deliveryId)
  return { id: deliveryId, state: after?.state ?? outcome, attempts: after?.attempts ?? 0 }
}
