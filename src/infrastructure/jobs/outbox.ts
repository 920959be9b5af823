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

/** An event as recorded, as a fan-out hook sees it. */
export interface RecordedEvent {
  id: string
  type: EventType
  occurredAt: Date
  credentialId: string
  version: number
  notifyHolder: boolean
}

/**
 * Turns events just recorded into their deliveries (webhook deliveries,
 * emails and their jobs) in the recording transaction, a few set-based
 * statements for any number of events. The notifications capability's; the
 * composition passes it in (infrastructure never imports a capability).
 */
export type FanOutHook = (tx: Db, events: readonly RecordedEvent[]) => Promise<unknown>

/**
 * The transactional outbox: an event row and what it leads to, both in the
 * caller's transaction. A crash after commit loses nothing (the deliveries
 * and their jobs are in the database); a rollback leaves neither.
 */
export interface Outbox {
  /** The event's id, or undefined when its dedupe key was already recorded. */
  record: (tx: Db, event: NewEvent) => Promise<string | undefined>
  /** Events without dedupe keys (a batch's issues, or one): the same few statements whatever their number; their ids. */
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

async function insertEvents (tx: Db, rows: readonly object[]): Promise<void> {
  await tx`insert into events ${tx(rows as never, ...EVENT_COLUMNS)}`
}

const recorded = (id: string, event: NewEvent): RecordedEvent => ({
  id, type: event.type, occurredAt: event.occurredAt, credentialId: event.data.credentialId, version: event.data.version, notifyHolder: event.notifyHolder
})

/**
 * The outbox over the events table. With `fanOut` (what the service runs),
 * an event's deliveries are written with it; without (an older caller), each
 * event gets an `event-fan-out` job whose worker makes them later, which is
 * also how jobs queued before an upgrade still drain.
 */
export function databaseOutbox (jobs: Pick<JobQueue, 'add' | 'addMany'>, fanOut?: FanOutHook): Outbox {
  const deliver = async (tx: Db, events: readonly RecordedEvent[]): Promise<void> => {
    if (fanOut !== undefined) await fanOut(tx, events)
    else await jobs.addMany(tx, QUEUES.fanOut, events.map((event) => ({ id: event.id, data: { eventId: event.id } })))
  }
  const recordMany: Outbox['recordMany'] = async (tx, events) => {
    if (events.length === 0) return []
    // Without keys there is no conflict, so the events and what they lead to are sent together (pipelined),
    // in the order they are asked for, as the caller's own inserts before them are (the rows they reference):
    // the events first, then the deliveries and emails that reference them.
    if (events.some((event) => event.dedupeKey !== undefined)) throw new Error('recordMany takes events without dedupe keys.')
    const rows = events.map((event) => eventRow(tx, event))
    await Promise.all([insertEvents(tx, rows), deliver(tx, rows.map((row, i) => recorded(row.id, events[i]!)))])
    return rows.map((row) => row.id)
  }
  return {
    recordMany,
    record: async (tx, event) => {
      if (event.dedupeKey === undefined) return (await recordMany(tx, [event]))[0]
      const row = eventRow(tx, event)
      const inserted = await tx`insert into events ${tx([row] as never, ...EVENT_COLUMNS)} on conflict (dedupe_key) do nothing returning id`
      if (inserted.length === 0) return undefined
      await deliver(tx, [recorded(row.id, event)])
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
