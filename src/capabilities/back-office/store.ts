import type { Db } from '../../infrastructure/db/types.js'
import type { CredentialRow } from '../credentials/store.js'

/** What staff look at in the console: the counts that need action, and credential search. The console's SQL. */

export interface DashboardCounts {
  pendingOrders: number
  pendingCorrections: number
  pendingApplications: number
  failedWebhookDeliveries: number
  expiringIn30Days: number
  expiringIn90Days: number
  inGraceWindow: number
}

/**
 * Everything the dashboard counts, in one statement. "In the grace window":
 * expired, not revoked, and still within the achievement's continuing-education
 * grace (recertification.continuingEducation.graceMonths), so renewable without an exam.
 */
export async function dashboardCounts (sql: Db, now: Date): Promise<DashboardCounts> {
  const [row] = await sql<DashboardCounts[]>`
    select
      (select count(*)::int from orders where type = 'badge' and state = 'pending') as "pendingOrders",
      (select count(*)::int from orders where type = 'correction' and state = 'pending') as "pendingCorrections",
      (select count(*)::int from recertification_applications where state = 'pending') as "pendingApplications",
      (select count(*)::int from webhook_deliveries where state = 'failed') as "failedWebhookDeliveries",
      (select count(*)::int from credentials where revoked_at is null and current_valid_until > ${now} and current_valid_until <= ${now}::timestamptz + interval '30 days') as "expiringIn30Days",
      (select count(*)::int from credentials where revoked_at is null and current_valid_until > ${now} and current_valid_until <= ${now}::timestamptz + interval '90 days') as "expiringIn90Days",
      (select count(*)::int from credentials c join achievements a on a.id = c.achievement_id
        where c.revoked_at is null and c.current_valid_until <= ${now}
          and (a.recertification -> 'continuingEducation' ->> 'graceMonths') is not null
          and c.current_valid_until + make_interval(months => (a.recertification -> 'continuingEducation' ->> 'graceMonths')::int) > ${now}) as "inGraceWindow"`
  return row!
}

export type CredentialState = 'valid' | 'expired' | 'revoked' | 'grace' | 'expiring'

export interface CredentialSearch {
  /** A name or email (contains, any case), or a certificate number or credential id (exact). */
  text?: string
  certificateNumber?: string
  state?: CredentialState
  achievementId?: string
  issuedFrom?: Date
  issuedTo?: Date
  expiresFrom?: Date
  expiresTo?: Date
  limit: number
  offset: number
}

const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** Credentials matching every given criterion, newest first, with the total for paging. */
export async function searchCredentials (sql: Db, q: CredentialSearch, now: Date): Promise<{ rows: Array<CredentialRow & { achievementName: string }>, total: number }> {
  const text = q.text?.trim()
  const conditions = [
    text === undefined || text === ''
      ? undefined
      : sql`(c.recipient_name ilike ${likePattern(text)} or c.recipient_email ilike ${likePattern(text)} or lower(c.certificate_number) = lower(${text}) or c.id = ${text})`,
    q.certificateNumber === undefined ? undefined : sql`lower(c.certificate_number) = lower(${q.certificateNumber.trim()})`,
    q.achievementId === undefined ? undefined : sql`c.achievement_id = ${q.achievementId}`,
    q.issuedFrom === undefined ? undefined : sql`c.issued_at >= ${q.issuedFrom}`,
    q.issuedTo === undefined ? undefined : sql`c.issued_at < ${q.issuedTo}`,
    q.expiresFrom === undefined ? undefined : sql`c.current_valid_until >= ${q.expiresFrom}`,
    q.expiresTo === undefined ? undefined : sql`c.current_valid_until < ${q.expiresTo}`,
    q.state === undefined ? undefined : stateCondition(sql, q.state, now)
  ].filter((c) => c !== undefined)
  const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`)
  const rows = await sql<Array<CredentialRow & { achievementName: string, total: number }>>`
    select c.id, c.badge_id as "badgeId", c.issuer_id as "issuerId", c.achievement_id as "achievementId",
      c.recipient_name as "recipientName", c.recipient_email as "recipientEmail", c.awarded_date as "awardedDate",
      c.current_version as "currentVersion", c.current_valid_until as "currentValidUntil",
      c.issued_at as "issuedAt", c.issued_by as "issuedBy", c.revoked_at as "revokedAt",
      c.revoked_by as "revokedBy", c.revocation_reason as "revocationReason",
      c.reminders_opted_out_at as "remindersOptedOutAt", c.hidden_by_holder_at as "hiddenByHolderAt", c.certificate_number as "certificateNumber",
      a.name as "achievementName", count(*) over ()::int as total
    from credentials c join achievements a on a.id = c.achievement_id
    where ${where}
    order by c.issued_at desc, c.id
    limit ${q.limit} offset ${q.offset}`
  // The total comes with the rows (a window count); a page past the end has none to say it.
  return { rows, total: rows[0]?.total ?? 0 }
}

function stateCondition (sql: Db, state: CredentialState, now: Date): ReturnType<Db['unsafe']> {
  switch (state) {
    case 'revoked': return sql`c.revoked_at is not null`
    case 'valid': return sql`c.revoked_at is null and (c.current_valid_until is null or c.current_valid_until > ${now})`
    case 'expired': return sql`c.revoked_at is null and c.current_valid_until <= ${now}`
    case 'expiring': return sql`c.revoked_at is null and c.current_valid_until > ${now} and c.current_valid_until <= ${now}::timestamptz + interval '90 days'`
    case 'grace': return sql`c.revoked_at is null and c.current_valid_until <= ${now}
      and (a.recertification -> 'continuingEducation' ->> 'graceMonths') is not null
      and c.current_valid_until + make_interval(months => (a.recertification -> 'continuingEducation' ->> 'graceMonths')::int) > ${now}`
  }
}

export interface CredentialHistory {
  emails: Array<{ kind: string, state: string, createdAt: Date, sentAt: Date | null }>
  webhookDeliveries: Array<{ id: string, webhookUrl: string, eventType: string, state: string, attempts: number, createdAt: Date }>
}

/** The emails and webhook deliveries sent for a credential, newest first. */
export async function credentialHistory (sql: Db, credentialId: string): Promise<CredentialHistory> {
  const [emails, webhookDeliveries] = await Promise.all([
    sql<CredentialHistory['emails']>`
      select n.kind, n.state, n.created_at as "createdAt", n.sent_at as "sentAt"
      from email_notifications n
      where n.credential_id = ${credentialId} order by n.created_at desc limit 100`,
    sql<CredentialHistory['webhookDeliveries']>`
      select d.id::text, w.url as "webhookUrl", e.type as "eventType", d.state, d.attempts, d.created_at as "createdAt"
      from webhook_deliveries d join events e on e.id = d.event_id join webhooks w on w.id = d.webhook_id
      where e.credential_id = ${credentialId} order by d.created_at desc limit 100`
  ])
  return { emails, webhookDeliveries }
}
