import { randomBytes } from 'node:crypto'
import type { Sql } from 'postgres'
import { recordAuditEvent } from '../../audit/store.js'
import { AppError, notFound } from '../../../kernel/errors.js'
import { newId } from '../../../kernel/ids.js'
import { webhookUrlProblem } from './post-webhook.js'
import { deleteWebhook, insertWebhook, setWebhookEnabled, type WebhookRow } from './store.js'

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
