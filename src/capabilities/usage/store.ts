import type { Db } from '../../infrastructure/db/types.js'
import type { UsageKind } from './kinds.js'
import type { PendingCount } from './tally.js'

/**
 * Adds pending counts to the daily rows, in one statement whatever their
 * number. Counts of ids that are no credential of ours are dropped by the
 * join (so are the achievement ids: taken from the credential, never from the request).
 */
export async function addCounts (sql: Db, counts: readonly PendingCount[]): Promise<void> {
  if (counts.length === 0) return
  await sql`
    insert into usage_counts (credential_id, achievement_id, day, kind, count)
    select c.id, c.achievement_id, u.day, u.kind, sum(u.count)
    from unnest(${counts.map((c) => c.credentialId)}::text[], ${counts.map((c) => c.day)}::date[],
                ${counts.map((c) => c.kind)}::text[], ${counts.map((c) => c.count)}::bigint[]) as u(credential_id, day, kind, count)
    join credentials c on c.id = u.credential_id
    group by c.id, c.achievement_id, u.day, u.kind
    on conflict (credential_id, day, kind) do update set count = usage_counts.count + excluded.count`
}

export interface UsageFilter {
  achievementId?: string
  credentialId?: string
  /** Inclusive UTC days, YYYY-MM-DD. */
  from: string
  to: string
}

export interface UsageRow {
  day: string
  kind: UsageKind
  count: number
}

/** The counts per day and kind in the period, for one achievement, one credential, or all. */
export async function findCounts (sql: Db, filter: UsageFilter): Promise<UsageRow[]> {
  const rows = await sql<Array<{ day: string, kind: UsageKind, count: string }>>`
    select to_char(day, 'YYYY-MM-DD') as day, kind, sum(count)::text as count
    from usage_counts
    where day between ${filter.from}::date and ${filter.to}::date
      ${filter.achievementId !== undefined ? sql`and achievement_id = ${filter.achievementId}` : sql``}
      ${filter.credentialId !== undefined ? sql`and credential_id = ${filter.credentialId}` : sql``}
    group by day, kind
    order by day, kind`
  return rows.map((r) => ({ day: r.day, kind: r.kind, count: Number(r.count) }))
}
