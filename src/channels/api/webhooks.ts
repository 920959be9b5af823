import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import type { FromSchema } from 'json-schema-to-ts'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { recordAuditEvent } from '../../capabilities/audit/store.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { dateTime, noBody, nullableString, nullableTimestamp, problems, sendNoBody, timestamp } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { EVENT_TYPES } from '../../infrastructure/jobs/outbox.js'
import { attemptDelivery } from '../../capabilities/notifications/webhooks/deliver.js'
import { changeWebhook, registerWebhook, webhookResource } from '../../capabilities/notifications/webhooks/service.js'
import { findDelivery, findWebhook, listDeliveries, listWebhooks, reopenDelivery } from '../../capabilities/notifications/webhooks/store.js'

const createWebhookBody = {
  examples: [{ url: 'https://crm.example.org/hooks/badges', events: ['credential.issued', 'credential.revoked'], description: 'Membership CRM' }],
  type: 'object',
  additionalProperties: false,
  required: ['url', 'events'],
  properties: {
    url: { type: 'string', minLength: 8, maxLength: 2000 },
    events: { type: 'array', minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true, items: { type: 'string', enum: EVENT_TYPES } },
    description: { type: 'string', minLength: 1, maxLength: 200 }
  }
} as const

const deliveryParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'deliveryId'],
  properties: { id: { type: 'string', pattern: ID_PATTERN }, deliveryId: { type: 'string', format: 'uuid' } }
} as const

const deliveriesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    limit: { type: 'integer', minimum: 1, maximum: 200 },
    /** Keyset paging: the createdAt and id of the last delivery of the previous page. */
    beforeCreatedAt: dateTime,
    beforeId: { type: 'string', format: 'uuid' }
  }
} as const

/** An endpoint as listed: never its signing secret. */
const webhookSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'events', 'description', 'enabled', 'createdAt', 'createdBy', 'disabledAt'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string', enum: EVENT_TYPES } },
    description: nullableString,
    enabled: { type: 'boolean' },
    createdAt: timestamp,
    createdBy: { type: 'string' },
    disabledAt: nullableTimestamp
  }
} as const

const registeredSchema = {
  ...webhookSchema,
  required: [...webhookSchema.required, 'secret'],
  properties: { ...webhookSchema.properties, secret: { type: 'string', description: 'The signing secret (whsec_...): shown this once (Cache-Control: no-store)' } }
} as const

const deliveryState = { type: 'string', enum: ['pending', 'delivered', 'failed'] } as const

const deliveriesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'eventId', 'eventType', 'state', 'attempts', 'createdAt', 'deliveredAt', 'failedAt'],
        properties: {
          id: { type: 'string' },
          eventId: { type: 'string' },
          eventType: { type: 'string' },
          state: deliveryState,
          attempts: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['attempt', 'at', 'durationMs', 'statusCode', 'response', 'error', 'manual'],
              properties: {
                attempt: { type: 'integer' },
                at: timestamp,
                durationMs: { type: 'integer' },
                statusCode: { type: ['integer', 'null'], description: 'The receiver\'s HTTP status (null: no answer)' },
                response: { ...nullableString, description: 'The start of the receiver\'s answer' },
                error: { ...nullableString, description: 'Why there was no answer' },
                manual: { type: 'boolean', description: 'Retried by hand' }
              }
            }
          },
          createdAt: timestamp,
          deliveredAt: nullableTimestamp,
          failedAt: nullableTimestamp
        }
      }
    },
    next: {
      type: 'object',
      description: 'The query of the next page (absent on the last)',
      additionalProperties: false,
      required: ['beforeCreatedAt', 'beforeId'],
      properties: { beforeCreatedAt: timestamp, beforeId: { type: 'string' } }
    }
  }
} as const

type WebhookResource = FromSchema<typeof webhookSchema>
/** The capability builds the resource; the schema is its contract, which the serializer holds it to. */
const resourceOf = (row: Parameters<typeof webhookResource>[0]): WebhookResource => webhookResource(row) as WebhookResource

/** Webhook endpoints and their deliveries (scope webhooks:admin), under /api/v1. */
export async function webhookRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const adminDeps = (request: { id: string }, actor: string): Parameters<typeof registerWebhook>[0] =>
    ({ sql: app.sql, actor, now: app.clock(), requestId: request.id, allowLoopback: app.config.outbound.allowLoopback })

  app.post('/webhooks', {
    schema: {
      summary: 'Register a webhook endpoint for event types (the signing secret is shown once)',
      tags: [TAG.staffWebhooks],
      body: createWebhookBody,
      response: { 201: { description: 'Registered, with its signing secret', ...registeredSchema } }
    },
    config: { scope: 'webhooks:admin' }
  }, async (request, reply) => {
    const body = request.body
    const { row, secret } = await registerWebhook(adminDeps(request, staffOf(request).actor), { url: body.url, events: [...body.events], ...(body.description !== undefined ? { description: body.description } : {}) })
    // The secret is shown this once: receivers verify signatures with it.
    return await reply.code(201).header('Cache-Control', 'no-store').send({ ...resourceOf(row), secret })
  })

  app.get('/webhooks', {
    schema: {
      summary: 'List webhook endpoints (never their secrets)',
      tags: [TAG.staffWebhooks],
      response: { 200: { description: 'Every endpoint not deleted', type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: webhookSchema } } } }
    },
    config: { scope: 'webhooks:admin' }
  }, async () => ({ items: (await listWebhooks(app.sql)).map(resourceOf) }))

  app.get('/webhooks/:id', {
    schema: { summary: 'One webhook endpoint', tags: [TAG.staffWebhooks], params: idParams, response: { 200: { description: 'The endpoint', ...webhookSchema }, ...problems(404) } },
    config: { scope: 'webhooks:admin' }
  }, async (request) => {
    const row = await findWebhook(app.sql, request.params.id)
    if (row === undefined) throw notFound(`Webhook "${request.params.id}"`)
    return resourceOf(row)
  })

  for (const change of ['enable', 'disable'] as const) {
    app.post(`/webhooks/:id/${change}`, {
      schema: {
        summary: change === 'enable' ? 'Enable a webhook endpoint' : 'Disable a webhook endpoint (nothing is delivered while disabled)',
        tags: [TAG.staffWebhooks],
        params: idParams,
        response: { 200: { description: `The endpoint, ${change}d`, ...webhookSchema }, ...problems(404) }
      },
      config: { scope: 'webhooks:admin' }
    }, async (request) =>
      resourceOf(await changeWebhook(adminDeps(request, staffOf(request).actor), request.params.id, change)))
  }

  app.delete('/webhooks/:id', {
    schema: {
      summary: 'Delete a webhook endpoint (its delivery history stays on record)',
      tags: [TAG.staffWebhooks],
      params: idParams,
      response: { 204: noBody('Deleted'), ...problems(404) }
    },
    config: { scope: 'webhooks:admin' }
  }, async (request, reply) => {
    await changeWebhook(adminDeps(request, staffOf(request).actor), request.params.id, 'delete')
    return await sendNoBody(reply, 204)
  })

  app.get('/webhooks/:id/deliveries', {
    schema: {
      summary: 'A webhook\'s deliveries, newest first, with every attempt and its answer',
      tags: [TAG.staffWebhooks],
      params: idParams,
      querystring: deliveriesQuery,
      response: { 200: { description: 'A page of deliveries', ...deliveriesSchema }, ...problems(404) }
    },
    config: { scope: 'webhooks:admin' }
  }, async (request) => {
    const { id } = request.params
    if (await findWebhook(app.sql, id) === undefined) throw notFound(`Webhook "${id}"`)
    const q = request.query
    if ((q.beforeCreatedAt === undefined) !== (q.beforeId === undefined)) throw new AppError('validation_failed', '"beforeCreatedAt" and "beforeId" go together: the last delivery of the previous page.')
    const limit = q.limit ?? 50
    const rows = await listDeliveries(app.sql, id, {
      limit,
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.beforeCreatedAt !== undefined && q.beforeId !== undefined ? { before: { createdAt: new Date(q.beforeCreatedAt), id: q.beforeId } } : {})
    })
    return {
      items: rows.map((d) => ({
        id: d.id,
        eventId: d.eventId,
        eventType: d.eventType,
        state: d.state,
        attempts: d.attemptLog.map((a) => ({ attempt: a.attempt, at: a.startedAt.toISOString(), durationMs: a.durationMs, statusCode: a.statusCode, response: a.responseBody, error: a.error, manual: a.manual })),
        createdAt: d.createdAt.toISOString(),
        deliveredAt: d.deliveredAt?.toISOString() ?? null,
        failedAt: d.failedAt?.toISOString() ?? null
      })),
      ...(rows.length === limit ? { next: { beforeCreatedAt: rows[rows.length - 1]!.createdAt.toISOString(), beforeId: rows[rows.length - 1]!.id } } : {})
    }
  })

  // Staff's retry of a delivery by hand: one attempt now, answered with its outcome.
  app.post('/webhooks/:id/deliveries/:deliveryId/retry', {
    schema: {
      summary: 'Retry a delivery by hand, now',
      tags: [TAG.staffWebhooks],
      params: deliveryParams,
      response: {
        200: {
          description: 'The outcome of the attempt',
          type: 'object',
          additionalProperties: false,
          required: ['id', 'state', 'attempts'],
          properties: {
            id: { type: 'string' },
            state: { type: 'string', enum: ['pending', 'delivered', 'failed', 'retry', 'nothing to do'], description: 'The delivery\'s state after the attempt (the attempt\'s outcome if the delivery is gone)' },
            attempts: { type: 'integer', description: 'Attempts so far' }
          }
        },
        ...problems(404, [409, 'Already delivered'])
      }
    },
    config: { scope: 'webhooks:admin' }
  }, async (request) => {
    const { id, deliveryId } = request.params
    const delivery = await findDelivery(app.sql, deliveryId)
    if (delivery === undefined || delivery.webhookId !== id) throw notFound(`Delivery "${deliveryId}" of webhook "${id}"`)
    if (delivery.state === 'delivered') throw new AppError('conflict', `Delivery "${deliveryId}" was already delivered.`)
    await reopenDelivery(app.sql, deliveryId)
    const outcome = await attemptDelivery({ sql: app.sql, clock: app.clock, config: app.config, log: request.log }, deliveryId, { manual: true })
    await recordAuditEvent(app.sql, { actor: staffOf(request).actor, action: 'webhook.delivery_retried', subjectType: 'webhook', subjectId: id, requestId: request.id, details: { deliveryId, outcome } })
    const after = await findDelivery(app.sql, deliveryId)
    return { id: deliveryId, state: after?.state ?? outcome, attempts: after?.attempts ?? 0 }
  })
}
