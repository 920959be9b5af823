import { Webhook } from 'standardwebhooks'
import type { NotificationDeps } from '../deps.js'
import { eventPayload, findEvent } from '../../../infrastructure/jobs/outbox.js'
import { postWebhook } from './post-webhook.js'
import { findDelivery, findWebhook, markDeliveryFailed, recordAttempt } from './store.js'

/** Retried with backoff for this long after the event, then marked failed. */
export const DELIVERY_WINDOW_MS = 3 * 86_400_000

export class DeliveryFailed extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DeliveryFailed'
  }
}

/**
 * One attempt at one delivery, signed by the Standard Webhooks scheme:
 * `webhook-id` is the event's id (the same on every retry, so a receiver can
 * de-duplicate), `webhook-timestamp` the attempt's time, `webhook-signature`
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the webhook's secret.
 * A 2xx answer delivers; anything else is recorded and thrown, so the job
 * queue retries with backoff until the window closes. `manual` is staff's
 * retry of a failed delivery (one attempt, now).
 */
export async function attemptDelivery (deps: Pick<NotificationDeps, 'sql' | 'clock' | 'config' | 'log'>, deliveryId: string, options: { manual?: boolean } = {}): Promise<'delivered' | 'failed' | 'retry' | 'nothing to do'> {
  const delivery = await findDelivery(deps.sql, deliveryId)
  if (delivery === undefined || (delivery.state !== 'pending' && options.manual !== true)) return 'nothing to do'
  const now = deps.clock()
  // Sent together: one round trip.
  const [hook, event] = await Promise.all([findWebhook(deps.sql, delivery.webhookId), findEvent(deps.sql, delivery.eventId)])
  if (hook === undefined || !hook.enabled || event === undefined) {
    await markDeliveryFailed(deps.sql, deliveryId, now)
    return 'failed'
  }
  if (options.manual !== true && now.getTime() - delivery.createdAt.getTime() > DELIVERY_WINDOW_MS) {
    await markDeliveryFailed(deps.sql, deliveryId, now)
    deps.log.warn({ deliveryId, webhookId: hook.id }, 'webhook delivery given up after 3 days')
    return 'failed'
  }
  const body = JSON.stringify(eventPayload(event))
  const signature = new Webhook(hook.secret).sign(event.id, now, body)
  const headers = { 'webhook-id': event.id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature }
  const started = performance.now()
  let statusCode: number | null = null
  let responseBody: string | null = null
  let error: string | null = null
  try {
    const answer = await postWebhook(hook.url, body, headers, { allowLoopback: deps.config.outbound.allowLoopback })
    statusCode = answer.status
    responseBody = answer.body
  } catch (failure) {
    error = failure instanceof Error ? failure.message : String(failure)
  }
  const ok = statusCode !== null && statusCode >= 200 && statusCode < 300
  const outcome = ok ? 'delivered' : options.manual === true ? 'failed' : 'pending'
  await recordAttempt(deps.sql, deliveryId, { startedAt: now, durationMs: Math.round(performance.now() - started), statusCode, responseBody, error, manual: options.manual === true }, outcome)
  if (ok) return 'delivered'
  if (options.manual === true) return 'failed'
  throw new DeliveryFailed(`webhook ${hook.id} answered ${statusCode ?? error ?? 'nothing'}`)
}
