import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { FromSchema } from 'json-schema-to-ts'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { notFound } from '../../kernel/errors.js'
import { dateTime, freeForm, nullableString, nullableTimestamp, problems, timestamp } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { approveOrder, rejectOrder, type OrderDeps } from '../../capabilities/holders/orders.js'
import { verifyOrderEvidence, type EvidenceVerification } from '../../capabilities/holders/order-evidence.js'
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

const checkOutcome = { type: 'string', enum: ['passed', 'failed', 'unknown'] } as const

/** A badge order's evidence: the link given on the form and the verification of the badge at it. */
const evidenceSchema = {
  type: 'object',
  description: 'Badge orders with a link to a badge the requester already holds (e.g. an Open Badges 2.0 assertion from the previous provider)',
  additionalProperties: false,
  required: ['url', 'verification'],
  properties: {
    url: { type: 'string' },
    verification: {
      type: ['object', 'null'],
      description: 'The verification of the badge at the link: checked afresh when one order is read, the last one stored in lists (null before the first)',
      additionalProperties: false,
      required: ['status', 'notice', 'checkedAt', 'checks', 'credential'],
      properties: {
        status: { type: 'string', enum: ['valid', 'expired', 'not_yet_valid', 'revoked', 'superseded', 'invalid', 'unverified_issuer', 'indeterminate'] },
        notice: nullableString,
        checkedAt: timestamp,
        checks: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, required: ['id', 'result', 'message'], properties: { id: { type: 'string' }, result: checkOutcome, message: { type: 'string' } } }
        },
        credential: {
          type: 'object',
          description: 'What the badge says (issuer, achievement, recipient, end of validity), as far as it could be read',
          additionalProperties: false,
          properties: {
            issuer: { type: 'object', additionalProperties: false, properties: { id: { type: 'string' }, name: { type: 'string' } } },
            achievement: { type: 'object', additionalProperties: false, properties: { name: { type: 'string' } } },
            recipient: { type: 'object', additionalProperties: false, properties: { name: { type: 'string' } } },
            validUntil: { type: 'string' }
          }
        }
      }
    }
  }
} as const

/** An order as staff see it: a badge order or a correction request, and its decision. */
const orderSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'state', 'name', 'email', 'note', 'createdAt', 'decidedAt', 'decidedBy'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: ['badge', 'correction'] },
    state: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
    name: { type: 'string' },
    email: { type: 'string' },
    certificateNumber: { ...nullableString, description: 'Badge orders' },
    certifiedOn: { ...nullableString, description: 'Badge orders: the date of the current certification (YYYY-MM-DD)' },
    consentedAt: nullableTimestamp,
    evidence: evidenceSchema,
    credentialId: { ...nullableString, description: 'Correction requests: the credential to correct' },
    credentialUrl: { type: 'string' },
    correction: {
      type: 'object',
      additionalProperties: false,
      required: ['field', 'value'],
      properties: { field: { type: ['string', 'null'], enum: ['name', 'email', null] }, value: nullableString }
    },
    note: nullableString,
    createdAt: timestamp,
    decidedAt: nullableTimestamp,
    decidedBy: nullableString,
    approval: freeForm('Approved orders: what staff approved (the approve request\'s body)'),
    result: {
      type: 'object',
      description: 'Approved orders: the credential issued or corrected',
      additionalProperties: false,
      required: ['credentialId', 'url', 'version'],
      properties: { credentialId: nullableString, url: { type: 'string' }, version: { type: ['integer', 'null'] } }
    },
    rejectionReason: nullableString,
    rejectionEmailedAt: nullableTimestamp
  }
} as const

const approvedOrderSchema = {
  ...orderSchema,
  required: [...orderSchema.required, 'alreadyApproved'],
  properties: { ...orderSchema.properties, alreadyApproved: { type: 'boolean', description: 'True when an earlier request approved it (nothing was issued this time)' } }
} as const

/** An order as staff see it; `evidence` is the verification just made, else the one stored. */
export function orderRecord (order: OrderRow, urls: PublicUrls, evidence?: EvidenceVerification): FromSchema<typeof orderSchema> {
  const verification = evidence ?? (order.evidenceVerification as EvidenceVerification | null)
  return {
    id: order.id,
    type: order.type,
    state: order.state,
    name: order.name,
    email: order.email,
    ...(order.type === 'badge'
      ? { certificateNumber: order.certificateNumber, certifiedOn: order.certifiedOn, consentedAt: order.consentedAt?.toISOString() ?? null, ...(order.evidenceUrl !== null ? { evidence: { url: order.evidenceUrl, verification } } : {}) }
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

  app.get('/orders', {
    schema: {
      summary: 'The queue of badge orders and holders\' correction requests, oldest first (filter by state, type)',
      tags: [TAG.staffOrders],
      querystring: listOrdersQuery,
      response: {
        200: {
          description: 'A page of orders; `next` is the `after` of the next page (null on the last)',
          type: 'object',
          additionalProperties: false,
          required: ['items', 'next'],
          properties: { items: { type: 'array', items: orderSchema }, next: nullableString }
        }
      }
    },
    config: { scope: 'orders:admin' }
  }, async (request) => {
    const { state, type, after } = request.query
    const limit = request.query.limit ?? 100
    const rows = await listOrders(app.sql, { limit, ...(state !== undefined ? { state } : {}), ...(type !== undefined ? { type } : {}), ...(after !== undefined ? { after } : {}) })
    const last = rows.at(-1)
    return { items: rows.map((row) => orderRecord(row, app.urls)), next: rows.length === limit && last !== undefined ? last.id : null }
  })

  app.get('/orders/:id', {
    schema: {
      summary: 'One order or correction request; a badge order\'s evidence link is verified afresh (and the result stored for the queue)',
      tags: [TAG.staffOrders],
      params: idParams,
      response: { 200: { description: 'The order', ...orderSchema }, ...problems(404) }
    },
    config: { scope: 'orders:admin' }
  }, async (request) => {
    const order = await findOrder(app.sql, request.params.id)
    if (order === undefined) throw notFound(`Order "${request.params.id}"`)
    // Live only here: staff decide from the one order, and a list of 100 must not cost 100 foreign fetches.
    const evidence = await verifyOrderEvidence({ sql: app.sql, verifier: app.verifier, now: app.clock(), allowLoopback: app.config.outbound.allowLoopback }, order)
    if (evidence !== undefined) request.log.info({ orderId: order.id, evidenceStatus: evidence.status }, 'order evidence verified')
    return orderRecord(order, app.urls, evidence)
  })

  app.post('/orders/:id/approve', {
    schema: {
      summary: 'Approve: issue the badge for the certification period given (orders) or reissue with the correction; approving twice issues once',
      tags: [TAG.staffOrders],
      params: idParams,
      body: approveBody,
      response: {
        200: { description: 'Approved (the credential is in `result`)', ...approvedOrderSchema },
        ...problems(404, [409, 'The order was rejected, or the credential is revoked or already held'], 422)
      }
    },
    config: { scope: 'orders:admin' }
  }, async (request) => {
    const result = await approveOrder(deps(request), request.params.id, request.body)
    if (result.issued !== undefined) request.log.info({ orderId: request.params.id, credentialId: result.issued.id, version: result.issued.version }, 'order approved')
    return { ...orderRecord(result.order, app.urls), alreadyApproved: result.issued === undefined }
  })

  app.post('/orders/:id/reject', {
    schema: {
      summary: 'Reject with a reason, which the requester is emailed',
      tags: [TAG.staffOrders],
      params: idParams,
      body: rejectBody,
      response: { 200: { description: 'Rejected', ...orderSchema }, ...problems(404, [409, 'The order was already decided']) }
    },
    config: { scope: 'orders:admin' }
  }, async (request) => {
    const order = await rejectOrder(deps(request), request.params.id, request.body.reason)
    request.log.info({ orderId: order.id }, 'order rejected')
    return orderRecord(order, app.urls)
  })
}
