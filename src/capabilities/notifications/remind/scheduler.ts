import type { Sql } from 'postgres'
import type { Db } from '../../../infrastructure/db/types.js'
import type { PublicUrls } from '../../../kernel/public-urls.js'
import { credentialEventData, type Outbox } from '../../../infrastructure/jobs/outbox.js'

const DAY_MS = 86_400_000

/** How far back a scan still picks up what fell due (covers a scheduler stopped for a while). */
export const SCAN_LOOKBACK_DAYS = 7

interface DueRow { id: string, version: number, achievementId: string, validUntil: Date }

/**
 * Due credentials are a range scan on credentials_live_valid_until (a partial
 * index on current_valid_until where revoked_at is null): each window is
 * bounded on both sides, so the cost follows what is due, not how many
 * credentials exist. Only current versions are looked at (current_valid_until
 * is the current version's), and only versions that existed when the notice
 * fell due (a credential issued 40 days before it ends gets no 90-day reminder).
 */
export async function findDue (sql: Db, from: Date, to: Date, daysBefore: number, keyPrefix: string, limit: number, after: string = ''): Promise<DueRow[]> {
  return await sql<DueRow[]>`
    select c.id, c.current_version as version, c.achievement_id as "achievementId", c.current_valid_until as "validUntil"
    from credentials c
    join credential_versions v on v.credential_id = c.id and v.version = c.current_version
    where c.revoked_at is null
      and c.current_valid_until > ${from} and c.current_valid_until <= ${to}
      and v.issued_at <= c.current_valid_until - make_interval(days => ${daysBefore})
      and c.id > ${after}
      -- Already recorded (a unique-index probe): repeated scans find only what is new.
      and not exists (select 1 from events e where e.dedupe_key = ${keyPrefix} || c.id || ':' || c.current_version)
    order by c.id
    limit ${limit}`
}

/**
 * Records the reminder and expiry events that are due at `now`, once per
 * credential version and kind: the events' dedupe keys make this safe to run
 * on any number of instances at once, and to run again. Each reminder offset
 * owns the window between it and the next smaller one, so a credential found
 * late gets the reminder that fits, not every one it missed.
 */
export async function recordDueNotifications (deps: { sql: Sql, outbox: Outbox, urls: PublicUrls, now: Date, reminderDays: readonly number[] }, batch = 500): Promise<{ reminders: number, expired: number }> {
  const now = deps.now.getTime()
  const days = [...deps.reminderDays].sort((a, b) => b - a)
  const counts = { reminders: 0, expired: 0 }
  const windows: Array<{ kind: 'reminder' | 'expired', daysBefore: number, from: Date, to: Date }> = days.map((d, i) => {
    const next = days[i + 1] ?? 0
    return { kind: 'reminder', daysBefore: d, from: new Date(now + Math.max(next, d - SCAN_LOOKBACK_DAYS) * DAY_MS), to: new Date(now + d * DAY_MS) }
  })
  windows.push({ kind: 'expired', daysBefore: 0, from: new Date(now - SCAN_LOOKBACK_DAYS * DAY_MS), to: new Date(now) })
  for (const window of windows) {
    let after = ''
    for (;;) {
      const due = await findDue(deps.sql, window.from, window.to, window.daysBefore, dedupePrefix(window), batch, after)
      if (due.length === 0) break
      await deps.sql.begin(async (tx) => {
        for (const row of due) {
          const expired = window.kind === 'expired'
          const recorded = await deps.outbox.record(tx, {
            type: expired ? 'credential.expired' : 'credential.expiry_reminder',
            occurredAt: deps.now,
            data: credentialEventData(deps.urls, {
              credentialId: row.id,
              version: row.version,
              achievementId: row.achievementId,
              state: expired ? 'expired' : 'valid',
              validUntil: row.validUntil,
              ...(expired ? {} : { daysBefore: window.daysBefore })
            }),
            notifyHolder: true,
            dedupeKey: `${dedupePrefix(window)}${row.id}:${row.version}`
          })
          if (recorded !== undefined) {
            if (expired) counts.expired++
            else counts.reminders++
          }
        }
      })
      after = due[due.length - 1]!.id
      if (due.length < batch) break
    }
  }
  return counts
}

/** The dedupe key of a scheduled event is this prefix, the credential id, ':' and the version. */
function dedupePrefix (window: { kind: 'reminder' | 'expired', daysBefore: number }): string {
  return window.kind === 'expired' ? 'expired:' : `reminder:${window.daysBefore}:`
}
