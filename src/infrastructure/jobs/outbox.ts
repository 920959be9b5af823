import { randomUUID } from 'node:crypto'
import type { Db } from '../db/types.js'
import { QUEUES, type JobQueue } from './job-queue.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { isoSeconds } from '../../kernel/time.js'

/** What the back office's systems and the holder are told about. */
export const EVENT_TYPES = [
  'credential.issued',
  'credential.reissued',
  'credential.recertified',
  'credential.revoked',
  'credential.expiry_reminder',
  'credential.expired',
  'recertification.applied',
  'recertification.approved',
  'recertification.rejected'
] as const
export type EventType = typeof EVENT_TYPES[number]

export interface EventData {
  credentialId: string
  credentialUrl: string
  version: number
  achievementId: string
  /** The credential's state once the change is made: valid, expired, revoked. */
  state: 'valid' | 'expired' | 'revoked'
  validUntil: string | null
  /** Why a new version was made (correction, recertification method, re-signing), or the reminder's offset in days. */
  reason?: string
  daysBefore?: number
  /** A recertification application's id, and the points it counted. */
  applicationId?: string
  points?: { total: number, approved: number }
}

/** An event's data from a credential's facts: its URL and whole-second validUntil derived here, once. */
export function credentialEventData (urls: PublicUrls, c: { credentialId: string, version: number, achievementId: string, state: EventData['state'], validUntil: Date | null | undefined, reason?: string | null, daysBefore?: number }): EventData {
  return {
    credentialId: c.credentialId,
    credentialUrl: urls.credential(c.credentialId),
    version: c.version,
    achievementId: c.achievementId,
    state: c.state,
    validUntil: c.validUntil != null ? isoSeconds(c.validUntil) : null,
    ...(c.reason != null ? { reason: c.reason } : {}),
    ...(c.daysBefore !== undefined ? { daysBefore: c.daysBefore } : {})
  }
}

export interface NewEvent {
  type: EventType
  occurredAt: Date
  data: EventData
  /** Whether the holder should get an email (staff's notify: false, or not their business). */
  notifyHolder: boolean
  /** Scheduled events: one per key, however many schedulers find them. */
  dedupeKey?: string
}

/**
 * The transactional outbox: an event row and the job that fans it out, both
 * in the caller's transaction. A crash after commit loses nothing (the job is
 * in the database); a rollback leaves neither.
 */
export interface Outbox {
  /** The event's id, or undefined when its dedupe key was already recorded. */
  record: (tx: Db, event: NewEvent) => Promise<string | undefined>
  /** Events without dedupe keys (a batch's issues, or one): two statements whatever their number; their ids. */
  recordMany: (tx: Db, events: readonly NewEvent[]) => Promise<string[]>
}

const EVENT_COLUMNS = ['id', 'type', 'occurred_at', 'credential_id', 'version', 'data', 'notify_holder', 'dedupe_key'] as const

function eventRow (tx: Db, event: NewEvent): Record<typeof EVENT_COLUMNS[number], unknown> & { id: string } {
  return {
    id: randomUUID(),
    type: event.type,
    occurred_at: event.occurredAt,
    credential_id: event.data.credentialId,
    version: event.data.version,
    data: tx.json(event.data as never),
    notify_holder: event.notifyHolder,
    dedupe_key: event.dedupeKey ?? null
  }
}

export function databaseOutbox (jobs: Pick<JobQueue, 'add' | 'addMany'>): Outbox {
  const recordMany: Outbox['recordMany'] = async (tx, events) => {
    if (events.length === 0) return []
    // Without keys there is no conflict, so the events and their jobs are sent together (one round trip).
    if (events.some((event) => event.dedupeKey !== undefined)) throw new Error('recordMany takes events without dedupe keys.')
    const rows = events.map((event) => eventRow(tx, event))
    await Promise.all([
      tx`insert into events ${tx(rows as never, ...EVENT_COLUMNS)}`,
      jobs.addMany(tx, QUEUES.fanOut, rows.map((row) => ({ id: row.id, data: { eventId: row.id } })))
    ])
    return rows.map((row) => row.id)
  }
  return {
    recordMany,
    record: async (tx, event) => {
      if (event.dedupeKey === undefined) return (await recordMany(tx, [event]))[0]
      const row = eventRow(tx, event)
      const inserted = await tx`insert into events ${tx([row] as never, ...EVENT_COLUMNS)} on conflict (dedupe_key) do nothing returning id`
      if (inserted.length === 0) return undefined
      await jobs.add(tx, QUEUES.fanOut, { eventId: row.id }, { id: row.id })
      return row.id
    }
  }
}

export interface EventRow {
  id: string
  type: EventType
  occurredAt: Date
  credentialId: string
  version: number
  data: EventData
  notifyHolder: boolean
}

export async function findEvent (sql: Db, id: string): Promise<EventRow | undefined> {
  const [row] = await sql<EventRow[]>`
    select id, type, occurred_at as "occurredAt", credential_id as "credentialId", version, data, notify_holder as "notifyHolder"
    from events where id = ${id}`
  return row
}

/** The public JSON of an event, as webhooks carry it. */
export function eventPayload (event: EventRow): { id: string, type: EventType, occurredAt: string, data: EventData } {
  return { id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), data: event.data }
}
