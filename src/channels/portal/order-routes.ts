import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { notFound } from '../../kernel/errors.js'
import { dateTime } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { approveOrder, rejectOrder, type OrderDeps } from '../../capabilities/holders/orders.js'
import { findOrder, listOrders, type OrderRow } from '../../capabilities/holders/store.js'

const listOrdersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
    type: { type: 'string', enum: ['badge', 'correction'] },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    after: { type: 'string', pattern: ID_PATTERN }
  }
} as const

const approveBody = {
  examples: [{ achievementId: 'Jq3xw9Lk2PzR7tYb', validFrom: '2024-06-30T00:00:00Z', validUntil: '2029-06-30T00:00:00Z', awardedDate: '2014-06-30T00:00:00Z' }],
  type: 'object',
  additionalProperties: false,
  properties: {
    /** Badge orders: the achievement, and the current certification period (it becomes the credential's dates). */
    achievementId: { type: 'string', pattern: ID_PATTERN },
    validFrom: dateTime,
    validUntil: dateTime,
    /** The first award, when known (an existing certificant's original certification date). */
    awardedDate: dateTime,
    /** The name as it should appear, when the form's spelling differs from the records. */
    recipientName: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
    note: { type: 'string', minLength: 1, maxLength: 1000 },
    notify: { type: 'boolean' }
  }
} as const

const rejectBody = {
  examples: [{ reason: 'We could not find certificate number 123456 under this name. Please check the number on your certificate.' }],
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S' } }
} as const

/** An order as staff see it. */
export function orderRecord (order: OrderRow, urls: PublicUrls): Record<string, unknown> {
  return {
    id: order.id,
    type: order.type,
    state: order.state,
    name: order.name,
    email: order.email,
    ...(order.type === 'badge'
      ? { certificateNumber: order.certificateNumber, certifiedOn: order.certifiedOn, consentedAt: order.consentedAt?.toISOString() ?? null }
      : { credentialId: order.credentialId, credentialUrl: urls.credential(order.credentialId ?? ''), correction: { field: order.correctionField, value: order.correctionValue } }),
    note: order.note,
    createdAt: order.createdAt.toISOString(),
    decidedAt: order.decidedAt?.toISOString() ?? null,
    decidedBy: order.decidedBy,
    ...(order.state === 'approved'
      ? { approval: order.approval, result: { credentialId: order.resultCredentialId, url: urls.credential(order.resultCredentialId ?? ''), version: order.resultVersion } }
      : {}),
    ...(order.state === 'rejected' ? { rejectionReason: order.rejectionReason, rejectionEmailedAt: order.rejectionEmailedAt?.toISOString() ?? null } : {})
  }
}

/**
 * The staff queue of badge orders and correction requests, under /api/v1
 * (scope orders:admin). Approving issues or corrects through the credential
 * routes' own path; approving twice issues once; both decisions are audited.
 */
export async function orderRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const deps = (request: FastifyRequest): OrderDeps => ({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, statusLists: app.statusListPolicy, outbox: app.outbox, jobs: app.jobs, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes })

  app.get('/orders', { schema: { querystring: listOrdersQuery }, config: { scope: 'orders:admin' } }, async (request) => {
    const { state, type, after } = request.query
    const limit = request.query.limit ?? 100
    const rows = await listOrders(app.sql, { limit, ...(state !== undefined ? { state } : {}), ...(type !== undefined ? { type } : {}), ...(after !== undefined ? { after } : {}) })
    const last = rows.at(-1)
    return { items: rows.map((row) => orderRecord(row, app.urls)), next: rows.length === limit && last !== undefined ? last.id : null }
  })

  app.get('/orders/:id', { schema: { params: idParams }, config: { scope: 'orders:admin' } }, async (request) => {
    const order = await findOrder(app.sql, request.params.id)
    if (order === undefined) throw notFound(`Order "${request.params.id}"`)
    return orderRecord(order, app.urls)
  })

  app.post('/orders/:id/approve', { schema: { params: idParams, body: approveBody }, config: { scope: 'orders:admin' } }, async (request) => {
    const result = await approveOrder(deps(request), request.params.id, request.body)
    if (result.issued !== undefined) request.log.info({ orderId: request.params.id, credentialId: result.issued.id, version: result.issued.version }, 'order approved')
    return { ...orderRecord(result.order, app.urls), alreadyApproved: result.issued === undefined }
  })

  app.post('/orders/:id/reject', { schema: { params: idParams, body: rejectBody }, config: { scope: 'orders:admin' } }, async (request) => {
    const order = await rejectOrder(deps(request), request.params.id, request.body.reason)
    request.log.info({ orderId: order.id }, 'order rejected')
    return orderRecord(order, app.urls)
  })
}
