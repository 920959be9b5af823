import { announceChange, type ChangeAnnouncer } from '../../infrastructure/caching/change-feed.js'
import type { Db } from '../../infrastructure/db/types.js'

export interface StatusListRow {
  id: string
  issuerId: string
  purpose: 'revocation' | 'suspension'
  size: number
  capacity: number
  allocated: number
  state: 'open' | 'full'
  bits: Buffer
  version: number
  /** The signed BitstringStatusListCredential, as served. */
  credential: string
  signedAt: Date
  validUntil: Date
  updatedAt: Date
}

const columns = (sql: Db) => sql`
  id, issuer_id as "issuerId", purpose, size, capacity, allocated, state, bits, version,
  credential, signed_at as "signedAt", valid_until as "validUntil", updated_at as "updatedAt"`

/** Reads a list and locks its row until the surrounding transaction ends (for read-modify-write). */
export async function lockStatusList (tx: Db, id: string): Promise<StatusListRow | undefined> {
  const [row] = await tx<StatusListRow[]>`select ${columns(tx)} from status_lists where id = ${id} for update`
  return row
}

/** The issuer's open list for a purpose, with how much room it has left. */
export async function findOpenStatusList (sql: Db, issuerId: string, purpose: string): Promise<{ id: string, size: number, capacity: number, allocated: number } | undefined> {
  const [row] = await sql<Array<{ id: string, size: number, capacity: number, allocated: number }>>`
    select id, size, capacity, allocated from status_lists where issuer_id = ${issuerId} and purpose = ${purpose} and state = 'open'`
  return row
}

/** Inserts a new open list; returns false when another process opened one first. */
export async function insertStatusList (sql: Db, list: {
  id: string,
  issuerId: string,
  purpose: string,
  size: number,
  capacity: number,
  bits: Buffer,
  credential: string,
  signedAt: Date,
  validUntil: Date
}): Promise<boolean> {
  const rows = await sql`
    insert into status_lists (id, issuer_id, purpose, size, capacity, bits, credential, signed_at, valid_until)
    values (${list.id}, ${list.issuerId}, ${list.purpose}, ${list.size}, ${list.capacity}, ${list.bits},
            ${list.credential}, ${list.signedAt}, ${list.validUntil})
    on conflict do nothing
    returning id`
  return rows.length === 1
}

/**
 * Claims candidate indexes on an open list in one statement; returns those it
 * claimed (the others were taken: the caller draws again). ON CONFLICT DO
 * NOTHING keeps a collision from aborting the surrounding transaction. Only the
 * entries table is written, so concurrent issuers do not queue on the list's row.
 */
export async function claimIndexes (tx: Db, listId: string, indexes: readonly number[]): Promise<number[]> {
  if (indexes.length === 0) return []
  const rows = await tx<Array<{ index: number }>>`
    insert into status_list_entries (status_list_id, status_index)
    select ${listId}, candidate from unnest(${indexes as number[]}::int[]) as candidate
    where exists (select 1 from status_lists where id = ${listId} and state = 'open')
    on conflict do nothing
    returning status_index as index`
  return rows.map((row) => row.index)
}

/**
 * Counts a claimed index and closes the list when it reaches its capacity.
 * It locks the list's row until commit, so the issuing transaction calls it
 * last. Concurrent issuers may overshoot the capacity by a few; the size is
 * the hard limit.
 */
export async function countStatusEntry (tx: Db, listId: string): Promise<void> {
  await countStatusEntries(tx, listId, 1)
}

/** countStatusEntry for `count` claimed indexes at once. */
export async function countStatusEntries (tx: Db, listId: string, count: number): Promise<void> {
  await tx`
    update status_lists set allocated = allocated + ${count},
      state = case when allocated + ${count} >= capacity then 'full' else state end
    where id = ${listId}`
}

/** Lists whose signed credential ends before `threshold`, locked; rows another process holds are skipped. */
export async function lockExpiringStatusLists (tx: Db, threshold: Date, limit: number): Promise<StatusListRow[]> {
  return await tx<StatusListRow[]>`
    select ${columns(tx)} from status_lists where valid_until < ${threshold}
    order by valid_until limit ${limit} for update skip locked`
}

export async function saveSignedStatusList (tx: Db, list: { id: string, bits: Buffer, version: number, credential: string, signedAt: Date, validUntil: Date }, changes?: ChangeAnnouncer): Promise<void> {
  await tx`
    update status_lists set bits = ${list.bits}, version = ${list.version}, credential = ${list.credential},
      signed_at = ${list.signedAt}, valid_until = ${list.validUntil}, updated_at = now()
    where id = ${list.id}`
  await announceChange(tx, `status-list:${list.id}`, changes)
}

/** What serving a list needs (its signed credential), without the 16 KiB of bits. */
export async function findServedStatusList (sql: Db, id: string): Promise<{ id: string, version: number, credential: string, signedAt: Date } | undefined> {
  const [row] = await sql<Array<{ id: string, version: number, credential: string, signedAt: Date }>>`
    select id, version, credential, signed_at as "signedAt" from status_lists where id = ${id}`
  return row
}

/** A list's identity and version, to tell whether cached bits are still current. */
export async function findStatusListHead (sql: Db, id: string): Promise<{ issuerId: string, purpose: string, size: number, version: number } | undefined> {
  const [row] = await sql<Array<{ issuerId: string, purpose: string, size: number, version: number }>>`
    select issuer_id as "issuerId", purpose, size, version from status_lists where id = ${id}`
  return row
}

export async function findStatusListBits (sql: Db, id: string): Promise<{ bits: Buffer, version: number } | undefined> {
  const [row] = await sql<Array<{ bits: Buffer, version: number }>>`select bits, version from status_lists where id = ${id}`
  return row
}
