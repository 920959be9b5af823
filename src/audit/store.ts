import type { Db } from '../db/types.js'

export interface AuditEvent {
  actor: string
  action: string
  subjectType: string
  subjectId: string
  details?: Record<string, unknown>
}

/** Appends an audit event; call it inside the transaction that makes the change. */
export async function recordAuditEvent (tx: Db, event: AuditEvent): Promise<void> {
  await tx`
    insert into audit_events (actor, action, subject_type, subject_id, details)
    values (${event.actor}, ${event.action}, ${event.subjectType}, ${event.subjectId}, ${tx.json((event.details ?? {}) as never)})`
}
