import t from 'tap'
import { databaseOutbox, type NewEvent } from '../../src/infrastructure/jobs/outbox.js'
import { fanOutEvent } from '../../src/capabilities/notifications/fan-out.js'
import { build, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { FAST_JOBS, waitFor } from '../helpers/notifications.js'

const hookOf = async (app: TestApp, events: string[]): Promise<string> => {
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: 'https://crm.example.org/hooks', events } })
  if (response.statusCode !== 201) throw new Error(response.body)
  return response.json().id
}

const jobCounts = async (app: TestApp): Promise<Record<string, number>> => Object.fromEntries(
  (await app.sql<Array<{ name: string, n: number }>>`select name, count(*)::int as n from pgboss.job where name in ('event-fan-out', 'email-send', 'webhook-deliver') group by name`).map((r) => [r.name, r.n]))

const reminder = (credentialId: string, at: Date): NewEvent => ({
  type: 'credential.expiry_reminder',
  occurredAt: at,
  data: { credentialId, credentialUrl: `https://badges.test.example/credentials/${credentialId}`, version: 1, achievementId: 'x', state: 'valid', validUntil: null, daysBefore: 30 },
  notifyHolder: true,
  dedupeKey: `reminder:${credentialId}:1:30`
})

t.test('issuing writes each event\'s webhook deliveries, email and their jobs in its own transaction: only webhooks subscribed when it happened, email only when called for', async (t) => {
  const clock = { now: new Date('2026-06-01T12:00:00Z') }
  const app = await build(t, { clock: () => clock.now })
  const achievement = await createAchievement(app)
  const both = await hookOf(app, ['credential.issued', 'credential.revoked'])
  const disabled = await hookOf(app, ['credential.issued'])
  t.equal((await app.app.inject({ method: 'POST', url: `/api/v1/webhooks/${disabled}/disable`, headers: app.auth })).statusCode, 200)
  const revocations = await hookOf(app, ['credential.revoked'])

  const told = await issue(app, { achievementId: achievement.id, recipient: { name: 'Told Holder', email: 'told@example.org' } })
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Quiet Holder', email: 'quiet@example.org' }, notify: false })
  const batch = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { items: [0, 1, 2].map((i) => ({ achievementId: achievement.id, recipient: { name: `Batch ${i}`, email: `batch${i}@example.org` } })) } })
  t.equal(batch.statusCode, 207)
  // WORKER=off: nothing ran after the requests, so all of this was written by them.
  const deliveries = async (hook: string): Promise<number> => (await app.sql`select count(*)::int as n from webhook_deliveries where webhook_id = ${hook}`)[0]!.n
  t.equal(await deliveries(both), 5, 'a delivery per issue for the subscribed webhook')
  t.equal(await deliveries(disabled), 0, 'none for a disabled webhook')
  t.equal(await deliveries(revocations), 0, 'none for a webhook of other event types')
  const emails = await app.sql`select n.kind, n.state, e.notify_holder from email_notifications n join events e on e.id = n.event_id`
  t.equal(emails.length, 4, 'an email per issue but the one with notify: false')
  t.ok(emails.every((e) => e.kind === 'issued' && e.state === 'pending' && e.notify_holder === true))
  t.same(await jobCounts(app), { 'email-send': 4, 'webhook-deliver': 5 }, 'their jobs, and no fan-out job')
  const [joined] = await app.sql`
    select (select count(*)::int from pgboss.job j join webhook_deliveries d on d.id = (j.data->>'deliveryId')::uuid where j.name = 'webhook-deliver') as webhooks,
           (select count(*)::int from pgboss.job j join email_notifications n on n.event_id = (j.data->>'eventId')::uuid where j.name = 'email-send') as emails`
  t.same(joined, { webhooks: 5, emails: 4 }, 'each job names its delivery or email')

  // A revocation: told to both webhooks that take it, emailed to nobody.
  t.equal((await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${told.id}/revoke`, headers: app.auth, payload: { reason: 'test' } })).statusCode, 200)
  t.equal(await deliveries(revocations), 1, 'the revocation reaches the webhook of revocations')
  t.equal(await deliveries(both), 6)
  t.equal((await app.sql`select count(*)::int as n from email_notifications`)[0]!.n, 4, 'no email for a revocation')

  // An event dated before a webhook existed is not its business.
  clock.now = new Date('2026-06-01T12:30:00Z')
  const late = await hookOf(app, ['credential.issued'])
  clock.now = new Date('2026-06-01T12:15:00Z')
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Back Dated', email: 'back@example.org' } })
  t.equal(await deliveries(late), 0, 'a webhook made after the event gets none of it')
  t.equal(await deliveries(both), 7, 'one made before does')
  clock.now = new Date('2026-06-01T13:00:00Z')

  // A scheduled event (dedupe key) fans out once, however many schedulers record it.
  const first = await app.sql.begin(async (tx) => await app.app.outbox.record(tx, reminder(told.id, clock.now)))
  const again = await app.sql.begin(async (tx) => await app.app.outbox.record(tx, reminder(told.id, clock.now)))
  t.type(first, 'string', 'the first records it')
  t.equal(again, undefined, 'the second finds it recorded')
  t.same((await app.sql`select kind from email_notifications where event_id = ${first!}`).map((r) => r.kind), ['reminder'], 'its one email')
  t.equal((await app.sql`select count(*)::int as n from pgboss.job where name = 'email-send' and data->>'eventId' = ${first!}`)[0]!.n, 1, 'and one job for it')

  // A rolled-back transaction leaves no event, delivery, email or job.
  const before = await jobCounts(app)
  await t.rejects(app.sql.begin(async (tx) => {
    const { dedupeKey: _, ...event } = reminder(told.id, clock.now)
    await app.app.outbox.recordMany(tx, [{ ...event, type: 'credential.issued' }])
    throw new Error('rolled back')
  }), /rolled back/)
  t.same(await jobCounts(app), before, 'no job')
  t.equal((await app.sql`select count(*)::int as n from events`)[0]!.n, 8, 'no event')

  // A re-run of an event already fanned out adds nothing.
  t.same(await fanOutEvent({ sql: app.sql, jobs: app.app.jobs, clock: () => clock.now }, first!), { webhooks: 0, email: false }, 'unique keys hold')
})

t.test('fan-out jobs queued before the upgrade still drain: the deliveries and email are made by the worker, once', async (t) => {
  const app = await build(t, { env: { ...FAST_JOBS, OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  await app.app.ready()
  const achievement = await createAchievement(app)
  const hook = await hookOf(app, ['credential.issued'])
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Now Holder', email: 'now@example.org' }, notify: false })
  // What an older service wrote: the event and its fan-out job (the outbox without the hook).
  const legacy = databaseOutbox(app.app.jobs)
  const [id] = await app.sql.begin(async (tx) => await legacy.recordMany(tx, [{ type: 'credential.issued', occurredAt: new Date(), notifyHolder: true, data: { credentialId: issued.id, credentialUrl: issued.url, version: 1, achievementId: achievement.id, state: 'valid', validUntil: null } }]))
  const state = await waitFor('the fan-out job to complete', async () => {
    const [row] = await app.sql`select state from pgboss.job where name = 'event-fan-out' and id = ${id!}`
    return row?.state === 'completed' ? row.state : undefined
  })
  t.equal(state, 'completed')
  t.equal((await app.sql`select count(*)::int as n from webhook_deliveries where event_id = ${id!} and webhook_id = ${hook}`)[0]!.n, 1, 'its delivery')
  const sent = await waitFor('its email sent', async () => {
    const [row] = await app.sql`select state from email_notifications where event_id = ${id!}`
    return row?.state === 'sent' ? row.state : undefined
  })
  t.equal(sent, 'sent', 'its email, rendered and sent by the email worker')
})
