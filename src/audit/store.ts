import type { Db } from '../db/types.js'

export interface AuditEvent {
  /** Who: the staff principal (API key) that made the change. */
  actor: string
  /** What, as `resource.verb`: `credential.issued`, `credential.reissued`, `achievement.created`, ... */
  action: string
  subjectType: string
  subjectId: string
  /** The credential version the change produced or touched, when there is one. */
  version?: number
  reason?: string
  /** The request id (X-Request-Id / Fastify's id), to tie the event to logs. */
  requestId?: string
  /** A short summary of the resource before and after the change (never secrets or signed documents). */
  before?: Record<string, unknown>
  after?: Record<string, unknown>
  details?: Record<string, unknown>
}

/** Appends an audit event; call it inside the transaction that makes the change. */
export async function recordAuditEvent (tx: Db, event: AuditEvent): Promise<void> {
  const json = (value: Record<string, unknown> | undefined): unknown => value === undefined ? null : tx.json(value as never)
  await tx`
    insert into audit_events (actor, action, subject_type, subject_id, version, reason, request_id, before, after, details)
    values (${event.actor}, ${event.action}, ${event.subjectType}, ${event.subjectId}, ${event.version ?? null},
            ${event.reason ?? null}, ${event.requestId ?? null}, ${json(event.before) as never}, ${json(event.after) as never},
            ${tx.json((event.details ?? {}) as never)})`
}
