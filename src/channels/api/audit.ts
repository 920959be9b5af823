import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import type { FromSchema } from 'json-schema-to-ts'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { freeForm, nullableString, timestamp } from '../../infrastructure/http/common-schemas.js'
import { listAuditEventsQuery } from '../../capabilities/audit/schemas.js'
import { listAuditEvents, type AuditEventRow } from '../../capabilities/audit/store.js'

const auditEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'occurredAt', 'actor', 'actorName', 'action', 'subject', 'version', 'reason', 'requestId', 'before', 'after', 'details'],
  properties: {
    id: { type: 'string' },
    occurredAt: timestamp,
    actor: { type: 'string', description: 'The API key id (or "bootstrap", "holder", "system")' },
    actorName: { ...nullableString, description: 'The API key\'s name, when the actor is a key' },
    action: { type: 'string', description: 'What was done (credential.revoked, api_key.created, ...)' },
    subject: { type: 'object', additionalProperties: false, required: ['type', 'id'], properties: { type: { type: 'string' }, id: { type: 'string' } } },
    version: { type: ['integer', 'null'] },
    reason: nullableString,
    requestId: nullableString,
    before: freeForm('The subject before the change, as recorded (or null)'),
    after: freeForm('The subject after the change, as recorded (or null)'),
    details: freeForm('Anything else recorded with the event')
  }
} as const

function auditEventResource (row: AuditEventRow): FromSchema<typeof auditEventSchema> {
  return {
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    actor: row.actor,
    actorName: row.actorName,
    action: row.action,
    subject: { type: row.subjectType, id: row.subjectId },
    version: row.version,
    reason: row.reason,
    requestId: row.requestId,
    before: row.before,
    after: row.after,
    details: row.details
  }
}

/** The audit trail, read-only (the table refuses UPDATE and DELETE). Staff routes under /api/v1. */
export async function auditRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/audit-events', {
    schema: {
      summary: 'The audit trail, newest first',
      tags: [TAG.staffAudit],
      querystring: listAuditEventsQuery,
      response: {
        200: {
          description: 'A page of events; `next` is the `after` of the next page (null on the last)',
          type: 'object',
          additionalProperties: false,
          required: ['items', 'next'],
          properties: { items: { type: 'array', items: auditEventSchema }, next: nullableString }
        }
      }
    },
    config: { scope: 'audit:read' }
  }, async (request) => {
    const q = request.query
    const limit = q.limit ?? 100
    const rows = await listAuditEvents(app.sql, {
      limit,
      ...(q.subjectType !== undefined ? { subjectType: q.subjectType } : {}),
      ...(q.subjectId !== undefined ? { subjectId: q.subjectId } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(q.since !== undefined ? { since: new Date(q.since) } : {}),
      ...(q.until !== undefined ? { until: new Date(q.until) } : {}),
      ...(q.after !== undefined ? { before: q.after } : {})
    })
    const last = rows.at(-1)
    return { items: rows.map(auditEventResource), next: rows.length === limit && last !== undefined ? last.id : null }
  })
}
