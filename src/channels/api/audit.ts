import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { listAuditEventsQuery } from '../../capabilities/audit/schemas.js'
import { listAuditEvents, type AuditEventRow } from '../../capabilities/audit/store.js'

function auditEventResource (row: AuditEventRow): Record<string, unknown> {
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
    schema: { querystring: listAuditEventsQuery },
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
