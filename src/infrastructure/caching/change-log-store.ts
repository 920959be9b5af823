import type { Db } from '../db/types.js'

/**
 * The SQL of the change log (migrations/0020_change_log.sql): what the
 * polling change feed reads where LISTEN is not available (behind a pooler in
 * transaction mode without a direct URL).
 */

/** A logged change, as a poll returns it. */
export interface LoggedChange { seq: string, xid: bigint, key: string }

/**
 * Records a change in `tx` and NOTIFYs it, in one statement (one round trip,
 * as the NOTIFY alone took): both take effect when, and only if, `tx` commits.
 */
export async function logAndNotify (tx: Db, channel: string, key: string): Promise<void> {
  await tx`
    with logged as (insert into change_log (channel, key) values (${channel}, ${key}))
    select pg_notify(${channel}, ${key})`
}

/**
 * The changes on `channel` written by transactions with an id at or above
 * `since` (all of them the first time), and the oldest transaction still
 * running at this statement (`xmin`): every transaction below it has finished,
 * so its rows are all in this answer or never will be. The next poll asks from
 * `xmin` on. Both come from the statement's one snapshot.
 */
export async function changesSince (sql: Db, channel: string, since: bigint | undefined): Promise<{ xmin: bigint, changes: LoggedChange[] }> {
  const rows = await sql<Array<{ xmin: string, seq: string | null, xid: string | null, key: string | null }>>`
    with snapshot as (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
    select s.xmin::text as xmin, c.seq::text as seq, c.xid::text as xid, c.key
    from snapshot s
    left join change_log c on c.channel = ${channel} and c.xid >= coalesce(${since === undefined ? null : since.toString()}::xid8, s.xmin)
    order by c.seq`
  const xmin = BigInt(rows[0]?.xmin ?? '0')
  const changes = rows.flatMap((r) => r.seq === null || r.xid === null || r.key === null ? [] : [{ seq: r.seq, xid: BigInt(r.xid), key: r.key }])
  return { xmin, changes }
}

/**
 * Deletes up to `limit` changes older than `olderThanSeconds`. Rows another
 * instance is deleting at the same moment are skipped, not waited for: every
 * instance prunes, none blocks another.
 */
export async function pruneChangeLog (sql: Db, olderThanSeconds: number, limit: number): Promise<number> {
  const deleted = await sql`
    delete from change_log where seq in (
      select seq from change_log where at < now() - make_interval(secs => ${olderThanSeconds})
      order by seq limit ${limit} for update skip locked)`
  return deleted.count
}
