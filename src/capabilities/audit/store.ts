import type { Db } from '../../infrastructure/db/types.js'

export interface AuditEvent {
  /** Who: the staff principal that made the change (an API key's id, "staff:<id>" for a console user, "cli"). */
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
  await recordAuditEvents(tx, [event])
}

/** Appends audit events in one statement, whatever their number, in the caller's transaction. */
export async function recordAuditEvents (tx: Db, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return
  const json = (value: Record<string, unknown> | undefined): unknown => value === undefined ? null : tx.json(value as never)
  const rows = events.map((event) => ({
    actor: event.actor,
    action: event.action,
    subject_type: event.subjectType,
    subject_id: event.subjectId,
    version: event.version ?? null,
    reason: event.reason ?? null,
    request_id: event.requestId ?? null,
    before: json(event.before),
    after: json(event.after),
    details: tx.json((event.details ?? {}) as never)
  }))
  await tx`insert into audit_events ${tx(rows as never, 'actor', 'action', 'subject_type', 'subject_id', 'version', 'reason', 'request_id', 'before', 'after', 'details')}`
}

export interface AuditEventRow {
  id: string
  occurredAt: Date
  actor: string
  /** The API key's name, or the staff user's, when the actor is one. */
  actorName: string | null
  action: string
  subjectType: string
  subjectId: string
  version: number | null
  reason: string | null
  requestId: string | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  details: Record<string, unknown>
}

export interface AuditQuery {
  subjectType?: string
  subjectId?: string
  action?: string
  actor?: string
  since?: Date
  until?: Date
  limit: number
  /** Keyset cursor: events older than this id (ids grow with time). */
  before?: string
}

/** Newest first, keyset-paginated on the identity column. */
export async function listAuditEvents (sql: Db, q: AuditQuery): Promise<AuditEventRow[]> {
  const conditions = [
    q.subjectType === undefined ? undefined : sql`a.subject_type = ${q.subjectType}`,
    q.subjectId === undefined ? undefined : sql`a.subject_id = ${q.subjectId}`,
    q.action === undefined ? undefined : sql`a.action = ${q.action}`,
    q.actor === undefined ? undefined : sql`a.actor = ${q.actor}`,
    q.since === undefined ? undefined : sql`a.occurred_at >= ${q.since}`,
    q.until === undefined ? undefined : sql`a.occurred_at < ${q.until}`,
    q.before === undefined ? undefined : sql`a.id < ${q.before}`
  ].filter((c) => c !== undefined)
  const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`)
  return await sql<AuditEventRow[]>`
    select a.id::text, a.occurred_at as "occurredAt", a.actor, coalesce(k.name, s.name) as "actorName", a.action, a.subject_type as "subjectType",
      a.subject_id as "subjectId", a.version, a.reason, a.request_id as "requestId", a.before, a.after, a.details
    from audit_events a left join api_keys k on k.id = a.actor
      left join staff_users s on a.actor like 'staff:%' and s.id = substr(a.actor, 7)
    where ${where}
    order by a.id desc limit ${q.limit}`
}
