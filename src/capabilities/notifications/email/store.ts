import type { Db } from '../../../infrastructure/db/types.js'

/**
 * The account instructions are owed once per holder address (migration
 * 0008). The claim is made at send time, by the email that will carry them:
 * the first issued, renewed or corrected email that actually goes to the
 * address. The address's primary key decides between two workers; a retry of
 * the claiming event finds its own claim and carries them again; a claim
 * whose email was skipped (a badge corrected before its issue email went) is
 * taken over by the next email, so skipping never loses them.
 */
export async function claimAccountInstructions (sql: Db, claim: { email: string, eventId: string, now: Date }): Promise<boolean> {
  const [row] = await sql<Array<{ eventId: string }>>`
    insert into account_instructions as a (email, event_id, claimed_at)
    values (${claim.email}, ${claim.eventId}, ${claim.now})
    on conflict (email) do update set event_id = excluded.event_id, claimed_at = excluded.claimed_at
      where a.sent_at is null
        and not exists (select 1 from email_notifications n where n.event_id = a.event_id and n.state in ('pending', 'sent'))
    returning event_id as "eventId"`
  if (row !== undefined) return row.eventId === claim.eventId
  // Not inserted nor taken over: someone holds it, possibly this very event (a retry).
  const [held] = await sql<Array<{ eventId: string }>>`select event_id as "eventId" from account_instructions where email = ${claim.email}`
  return held?.eventId === claim.eventId
}

/** Marks the event's email sent, and the instructions it carried (if it claimed them) as delivered: one statement, so both or neither. */
export async function markEmailSent (sql: Db, sent: { eventId: string, messageId: string, now: Date }): Promise<void> {
  await sql`
    with marked as (
      update email_notifications set state = 'sent', message_id = ${sent.messageId}, sent_at = ${sent.now}
      where event_id = ${sent.eventId}
      returning event_id
    )
    update account_instructions set sent_at = ${sent.now}
    where event_id in (select event_id from marked) and sent_at is null`
}

/**
 * Puts the badge email of a version back to pending (inserting its row when
 * the version was issued without one), counting a resend; the event's id, or
 * undefined when the version has no event of these types.
 */
export async function requeueBadgeEmail (tx: Db, version: { credentialId: string, version: number, kinds: Record<string, string> }): Promise<string | undefined> {
  const [event] = await tx<Array<{ id: string, type: string }>>`
    select id, type from events
    where credential_id = ${version.credentialId} and version = ${version.version} and type in ${tx(Object.keys(version.kinds))}
    order by occurred_at desc limit 1`
  if (event === undefined) return undefined
  await tx`
    insert into email_notifications (event_id, credential_id, version, kind, resends)
    values (${event.id}, ${version.credentialId}, ${version.version}, ${version.kinds[event.type]!}, 1)
    on conflict (event_id) do update set state = 'pending', skip_reason = null, resends = email_notifications.resends + 1`
  return event.id
}

/** Pending emails for events, one statement for any number; the event ids whose row is new (a re-run adds none). */
export async function insertEmailNotifications (tx: Db, emails: ReadonlyArray<{ eventId: string, credentialId: string, version: number, kind: string }>): Promise<string[]> {
  if (emails.length === 0) return []
  const rows = await tx<Array<{ eventId: string }>>`
    insert into email_notifications (event_id, credential_id, version, kind)
    select * from unnest(${emails.map((e) => e.eventId)}::uuid[], ${emails.map((e) => e.credentialId)}::text[], ${emails.map((e) => e.version)}::int[], ${emails.map((e) => e.kind)}::text[])
    on conflict (event_id) do nothing
    returning event_id as "eventId"`
  return rows.map((row) => row.eventId)
}
