import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { fanOutEvent } from '../../src/capabilities/notifications/fan-out.js'
import { attemptDelivery } from '../../src/capabilities/notifications/webhooks/deliver.js'
import { postWebhook } from '../../src/capabilities/notifications/webhooks/post-webhook.js'
import { build, createAchievement, issue } from '../helpers/build-app.js'
import { startReceiver, waitFor } from '../helpers/notifications.js'

const FAST_JOBS = { JOB_POLL_SECONDS: '0.5', JOB_RETRY_DELAY_SECONDS: '1', JOB_MAINTENANCE_SECONDS: '1', JOB_EXPIRE_SECONDS: '3' }

t.test('staff register, list, disable and delete webhooks; the secret is shown once; unsafe targets are refused', async (t) => {
  const app = await build(t)
  const create = async (payload: Record<string, unknown>): Promise<{ statusCode: number, json: () => any }> => await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload })
  for (const url of ['http://crm.example.org/hooks', 'https://10.1.2.3/hooks', 'https://[::1]/hooks', 'https://169.254.169.254/latest', 'https://user:pw@crm.example.org/', 'http://localhost:8080/hooks', 'not a url']) {
    const refused = await create({ url, events: ['credential.issued'] })
    t.equal(refused.statusCode, 400, `refused: ${url}`)
    t.match(refused.json().type, /validation_failed/)
  }
  t.equal((await create({ url: 'https://crm.example.org/hooks', events: ['credential.nonsense'] })).statusCode, 400, 'unknown event types are refused')

  const created = await create({ url: 'https://crm.example.org/hooks', events: ['credential.issued', 'credential.revoked'], description: 'CRM' })
  t.equal(created.statusCode, 201)
  const hook = created.json()
  t.match(hook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'a Standard Webhooks secret, returned once')
  const listed = (await app.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: app.auth })).json()
  t.equal(listed.items.length, 1)
  t.notOk('secret' in listed.items[0], 'never listed again')
  t.same(listed.items[0].events, ['credential.issued', 'credential.revoked'])
  t.equal((await app.app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/disable`, headers: app.auth })).json().enabled, false)
  t.equal((await app.app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${hook.id}`, headers: app.auth })).statusCode, 204)
  t.equal((await app.app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}`, headers: app.auth })).statusCode, 404, 'gone')
  const audit = await app.sql`select action from audit_events where subject_type = 'webhook' order by id`
  t.same(audit.map((a) => a.action), ['webhook.created', 'webhook.disabled', 'webhook.deleted'], 'audited')
  const other = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  t.equal((await other.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: other.auth, payload: { url: 'http://localhost:8080/hooks', events: ['credential.issued'] } })).statusCode, 201, 'http://localhost under the development setting')
})

t.test('deliveries are signed (Standard Webhooks), retried on failure, listed with each attempt, and retried by hand', async (t) => {
  let status = 500
  const receiver = await startReceiver({ status: () => status })
  t.teardown(receiver.close)
  const app = await build(t, { env: { ...FAST_JOBS, WORKER: 'inline', OUTBOUND_ALLOW_LOOPBACK: 'true', JOB_RETRY_DELAY_SECONDS: '600' } })
  await app.app.ready()
  const hook = (await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: receiver.url, events: ['credential.issued', 'credential.revoked'] } })).json()
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Hook Holder', email: 'hook@example.org' }, notify: false })

  const first = await waitFor('the first attempt', () => receiver.received[0])
  const signed = new Webhook(hook.secret).verify(first.body, first.headers as Record<string, string>) as any
  t.equal(signed.type, 'credential.issued', 'the signature verifies with the secret')
  t.same(signed.data, { credentialId: issued.id, credentialUrl: issued.url, version: 1, achievementId: achievement.id, state: 'valid', validUntil: issued.credential.validUntil }, 'the event data')
  t.equal(first.headers['webhook-id'], signed.id, 'webhook-id is the event id')
  t.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(first.body, first.headers as Record<string, string>), 'another secret does not verify')
  t.throws(() => new Webhook(hook.secret).verify(first.body.replace('"version":1', '"version":2'), first.headers as Record<string, string>), 'a changed body does not verify')

  const pending = await waitFor('the failed attempt on record', async () => {
    const page = (await app.app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: app.auth })).json()
    return page.items[0]?.attempts.length === 1 ? page.items[0] : undefined
  })
  t.equal(pending.state, 'pending', 'still pending: a retry is scheduled')
  t.equal(pending.attempts[0].statusCode, 500)
  // The job is failed (and its retry scheduled) just after the attempt is recorded: wait for that.
  const job = await waitFor('the job to be failed for a retry', async () => (await app.sql`select state, start_after > now() + interval '60 seconds' as later from pgboss.job where name = 'webhook-deliver' and state <> 'active'`)[0])
  t.same({ state: job.state, later: job.later }, { state: 'retry', later: true }, 'the queue holds a retry with backoff')

  status = 204
  const retried = await app.app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/deliveries/${pending.id}/retry`, headers: app.auth })
  t.equal(retried.statusCode, 200)
  t.same(retried.json(), { id: pending.id, state: 'delivered', attempts: 2 }, 'retried by hand: delivered')
  t.equal(receiver.received[1]?.headers['webhook-id'], first.headers['webhook-id'], 'the same event id on the retry')
  const page = (await app.app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: app.auth })).json()
  t.same(page.items[0].attempts.map((a: any) => [a.statusCode, a.manual]), [[500, false], [204, true]], 'each attempt and its answer')
  t.equal((await app.app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/deliveries/${pending.id}/retry`, headers: app.auth })).statusCode, 409, 'a delivered one is not sent again')
})

t.test('a worker killed in the middle of a burst: after a restart every event is delivered, none lost, none as new twice', async (t) => {
  const receiver = await startReceiver({ delayMs: 150 })
  t.teardown(receiver.close)
  // A job's crash expiry is fixed when it is added: the jobs added here get the short one too.
  const app = await build(t, { env: { ...FAST_JOBS, OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  const hook = (await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: receiver.url, events: ['credential.issued'] } })).json()
  const achievement = await createAchievement(app)
  const total = 24
  for (let i = 0; i < total; i++) await issue(app, { achievementId: achievement.id, recipient: { name: `Burst ${i}`, email: `burst${i}@example.org` }, notify: false })

  const env = { ...process.env, ...FAST_JOBS, NODE_OPTIONS: '', DATABASE_URL: app.config.databaseUrl!, PUBLIC_BASE_URL: app.config.publicBaseUrl, DATA_DIR: app.dataDir, ISSUER_NAME: app.config.issuer.name, OUTBOUND_ALLOW_LOOPBACK: 'true', LOG_LEVEL: 'warn' }
  const startWorker = (): ChildProcess => spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  const uniqueIds = (): Set<string> => new Set(receiver.received.map((r) => String(r.headers['webhook-id'])))

  const first = startWorker()
  await waitFor('a few deliveries', () => receiver.received.length >= 5 ? true : undefined, 60_000)
  first.kill('SIGKILL')
  await once(first, 'exit')
  const atKill = uniqueIds().size
  t.ok(atKill < total, `killed after ${atKill} of ${total} events`)

  const second = startWorker()
  t.teardown(async () => {
    if (second.exitCode === null) {
      second.kill('SIGTERM')
      await once(second, 'exit')
    }
  })
  await waitFor('every event delivered', () => uniqueIds().size === total ? true : undefined, 90_000)
  const events = await app.sql<Array<{ id: string }>>`select id from events where type = 'credential.issued'`
  t.same([...uniqueIds()].sort(), events.map((e) => e.id).sort(), 'every event delivered: none lost')
  const bodies = new Map<string, Set<string>>()
  for (const r of receiver.received) bodies.set(String(r.headers['webhook-id']), (bodies.get(String(r.headers['webhook-id'])) ?? new Set()).add(JSON.parse(r.body).id))
  t.ok([...bodies.values()].every((ids) => ids.size === 1), 'a repeat carries the same event id, so the receiver sees it is not new')
  t.comment(`${receiver.received.length} requests for ${total} events (repeats are deliveries cut off by the kill)`)
  const states = await waitFor('the records to settle', async () => {
    const rows = await app.sql`select state, count(*)::int as n from webhook_deliveries where webhook_id = ${hook.id} group by state`
    return rows.length === 1 && rows[0]!.state === 'delivered' ? rows : undefined
  })
  t.same(states.map((r) => [r.state, r.n]), [['delivered', total]], 'every delivery marked delivered')
})

t.test('after 3 days of failures a delivery is marked failed; a name resolving to a private address is refused at delivery', async (t) => {
  const clock = { now: new Date('2026-06-01T00:00:00Z') }
  const app = await build(t, { clock: () => clock.now })
  const hook = (await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: 'https://receiver.invalid/hooks', events: ['credential.issued'] } })).json()
  const achievement = await createAchievement(app)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Late Holder', email: 'late@example.org' }, notify: false })
  const [event] = await app.sql`select id from events`
  await fanOutEvent({ sql: app.sql, jobs: app.app.jobs, clock: () => clock.now }, event!.id)
  const [delivery] = await app.sql`select id from webhook_deliveries where webhook_id = ${hook.id}`
  const deps = { sql: app.sql, clock: () => clock.now, config: app.config, log: { info: () => {}, warn: () => {}, error: () => {} } }
  await t.rejects(attemptDelivery(deps, delivery!.id), /answered/, 'an unresolvable host fails the attempt (and the queue retries)')
  clock.now = new Date(clock.now.getTime() + 3 * 86_400_000 + 1000)
  t.equal(await attemptDelivery(deps, delivery!.id), 'failed', 'past 3 days: given up')
  const [row] = await app.sql`select state, attempts from webhook_deliveries where id = ${delivery!.id}`
  t.same({ state: row?.state, attempts: row?.attempts }, { state: 'failed', attempts: 1 })

  const privateAnswer = async (): Promise<Array<{ address: string, family: number }>> => [{ address: '10.0.0.7', family: 4 }]
  await t.rejects(postWebhook('https://looks-public.example.org/hooks', '{}', {}, { allowLoopback: false, resolveName: privateAnswer as never }), { name: 'WebhookTargetRefused', message: /private or local address/ }, 'DNS pointing inside is refused')
  const mapped = async (): Promise<Array<{ address: string, family: number }>> => [{ address: '::ffff:127.0.0.1', family: 6 }]
  await t.rejects(postWebhook('https://looks-public.example.org/hooks', '{}', {}, { allowLoopback: false, resolveName: mapped as never }), { name: 'WebhookTargetRefused' }, 'an IPv4-mapped loopback too')
})
