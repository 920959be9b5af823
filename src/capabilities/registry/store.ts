import type { Db } from '../../infrastructure/db/types.js'
import type { MatcherKind } from './matching.js'

export interface RecognisedIssuerRow {
  id: string
  /** Insertion order: the list's paging cursor. */
  seq: string
  kind: MatcherKind
  matcher: string
  name: string
  note: string | null
  createdAt: Date
  createdBy: string
  removedAt: Date | null
  removedBy: string | null
}

const columns = (sql: Db) => sql`
  id, seq::text, kind, matcher, name, note, created_at as "createdAt", created_by as "createdBy",
  removed_at as "removedAt", removed_by as "removedBy"`

export interface NewEntry { id: string, kind: MatcherKind, matcher: string, name: string, note: string | null, createdAt: Date, createdBy: string }

/** Adds an entry, or nothing (undefined) when a current entry already has this matcher. */
export async function insertEntry (tx: Db, entry: NewEntry): Promise<RecognisedIssuerRow | undefined> {
  const [row] = await tx<RecognisedIssuerRow[]>`
    insert into recognised_issuers (id, kind, matcher, name, note, created_at, created_by)
    values (${entry.id}, ${entry.kind}, ${entry.matcher}, ${entry.name}, ${entry.note}, ${entry.createdAt}, ${entry.createdBy})
    on conflict (kind, matcher) where removed_at is null do nothing
    returning ${columns(tx)}`
  return row
}

/**
 * Seeds exact issuer ids, each only if it was never in the registry (a
 * removed entry stays removed), in one statement. Two instances booting at
 * once both pass the `not exists`; the unique index lets one insert and the
 * other do nothing. Returns the rows it added.
 */
export async function insertSeedEntries (tx: Db, entries: ReadonlyArray<{ id: string, issuerId: string, name: string, note: string }>, createdBy: string): Promise<RecognisedIssuerRow[]> {
  if (entries.length === 0) return []
  const rows = entries.map((e) => [e.id, e.issuerId, e.name, e.note])
  return await tx<RecognisedIssuerRow[]>`
    insert into recognised_issuers (id, kind, matcher, name, note, created_by)
    select s.id, 'issuer-id', s.matcher, s.name, s.note, ${createdBy}
    from (values ${tx(rows as never)}) as s (id, matcher, name, note)
    where not exists (select 1 from recognised_issuers r where r.kind = 'issuer-id' and r.matcher = s.matcher)
    on conflict (kind, matcher) where removed_at is null do nothing
    returning ${columns(tx)}`
}

/** Removed entries whose exact issuer id is one of `issuerIds` and that no current entry replaced. */
export async function findRemovedIssuerIds (sql: Db, issuerIds: readonly string[]): Promise<RecognisedIssuerRow[]> {
  if (issuerIds.length === 0) return []
  return await sql<RecognisedIssuerRow[]>`
    select distinct on (matcher) ${columns(sql)} from recognised_issuers r
    where kind = 'issuer-id' and matcher = any(${issuerIds as string[]}) and removed_at is not null
      and not exists (select 1 from recognised_issuers c where c.kind = 'issuer-id' and c.matcher = r.matcher and c.removed_at is null)
    order by matcher, removed_at desc`
}

export async function findEntry (sql: Db, id: string): Promise<RecognisedIssuerRow | undefined> {
  const [row] = await sql<RecognisedIssuerRow[]>`select ${columns(sql)} from recognised_issuers where id = ${id}`
  return row
}

/** The current entry with this matcher, if any. */
export async function findCurrentEntry (sql: Db, kind: MatcherKind, matcher: string): Promise<RecognisedIssuerRow | undefined> {
  const [row] = await sql<RecognisedIssuerRow[]>`select ${columns(sql)} from recognised_issuers where kind = ${kind} and matcher = ${matcher} and removed_at is null`
  return row
}

/** A page in insertion order after the cursor `afterSeq`; removed entries only when asked. */
export async function listEntries (sql: Db, q: { limit: number, afterSeq?: string, includeRemoved: boolean }): Promise<RecognisedIssuerRow[]> {
  return await sql<RecognisedIssuerRow[]>`
    select ${columns(sql)} from recognised_issuers
    where true
      ${q.includeRemoved ? sql`` : sql`and removed_at is null`}
      ${q.afterSeq !== undefined ? sql`and seq > ${q.afterSeq}` : sql``}
    order by seq limit ${q.limit}`
}

/** Every current entry: what the verifier's cache holds. */
export async function listCurrentMatchers (sql: Db): Promise<Array<{ id: string, kind: MatcherKind, matcher: string, name: string }>> {
  return await sql<Array<{ id: string, kind: MatcherKind, matcher: string, name: string }>>`
    select id, kind, matcher, name from recognised_issuers where removed_at is null`
}

/** The current entry recognising an issuer id or its origin, exact first: one query, for callers without a cache. */
export async function findRecognising (sql: Db, issuerId: string, origin: string | undefined): Promise<{ id: string, name: string } | undefined> {
  const [row] = await sql<Array<{ id: string, name: string }>>`
    select id, name from recognised_issuers
    where removed_at is null and ((kind = 'issuer-id' and matcher = ${issuerId}) or (kind = 'origin' and matcher = ${origin ?? null}))
    order by kind = 'issuer-id' desc limit 1`
  return row
}

/** Soft removal; undefined when there is no current entry with this id. */
export async function markRemoved (tx: Db, id: string, at: Date, by: string): Promise<RecognisedIssuerRow | undefined> {
  const [row] = await tx<RecognisedIssuerRow[]>`
    update recognised_issuers set removed_at = ${at}, removed_by = ${by}
    where id = ${id} and removed_at is null returning ${columns(tx)}`
  return row
}
