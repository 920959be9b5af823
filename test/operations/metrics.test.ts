import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import t from 'tap'
import { build, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { FAST_JOBS, startReceiver, startSmtpServer, waitFor } from '../helpers/notifications.js'
import { loadConfig } from '../../src/kernel/config.js'
import { metricsListener } from '../../src/channels/api/metrics.js'

/**
 * GET /metrics: the Prometheus exposition after a scripted workload, its
 * bearer token, its separate port, and no personal data in it.
 */

const TOKEN = 'metrics-token-0123456789abcdefghijklmnopqrstuv'
const bearer = { authorization: `Bearer ${TOKEN}` }

/** One sample's value, by name and exact labels (as written in the exposition); undefined when absent. */
export function sample (exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]))
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3])
  }
  return undefined
}

/** The sum over every sample of a name whose labels include these. */
function total (exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]))
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[3])
  }
  return sum
}

async function scrape (app: TestApp): Promise<string> {
  const response = await app.app.inject({ method: 'GET', url: '/metrics', headers: bearer })
  if (response.statusCode !== 200) throw new Error(`GET /metrics: ${response.statusCode} ${response.body}`)
  return response.body
}

t.test('after a scripted workload (issue, verify good and bad, revoke, a webhook and an email) the families move, and no personal data is in them', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const app = await build(t, { env: { ...FAST_JOBS, SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example', OUTBOUND_ALLOW_LOOPBACK: 'true', METRICS_TOKEN: TOKEN } })
  await app.app.ready()
  const before = await scrape(app)
  t.equal(sample(before, 'tessera_up'), 1, 'tessera_up')
  t.equal(sample(before, 'tessera_database_up'), 1, 'the database answered the scrape')
  t.equal(sample(before, 'tessera_database_pool_max'), app.sql.options.max, 'the pool\'s configured size')
  t.ok(sample(before, 'tessera_nodejs_eventloop_lag_seconds') !== undefined, 'event-loop lag (default metrics, prefixed)')
  t.equal(sample(before, 'tessera_credential_events_total', { type: 'credential.issued' }), undefined, 'nothing issued yet')

  const hook = await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: receiver.url, events: ['credential.issued', 'credential.revoked'] } })
  t.equal(hook.statusCode, 201)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Philippa Quartermaine', email: 'philippa.quartermaine@example.org' } })
  await waitFor('the issue email sent (before the revocation, which would make it moot)', async () => (await app.sql`select count(*)::int as n from email_notifications where state = 'sent'`)[0]!.n >= 1 ? true : undefined)
  const valid = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
  t.equal(valid.json().status, 'valid')
  const tampered = { ...issued.credential, name: 'Something else' }
  const invalid = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: tampered } })
  t.equal(invalid.statusCode, 422)
  const invalidStatus = invalid.json().status as string
  t.not(invalidStatus, 'valid')
  t.equal((await app.app.inject({ method: 'GET', url: `/credentials/${issued.id}/verification` })).statusCode, 200)
  const revoked = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'Issued in error' } })
  t.equal(revoked.statusCode, 200)
  await waitFor('both webhook deliveries delivered', async () => (await app.sql`select count(*)::int as n from webhook_deliveries where state = 'delivered'`)[0]!.n === 2 ? true : undefined)

  const after = await scrape(app)
  t.equal(sample(after, 'tessera_http_requests_total', { method: 'POST', route: '/api/v1/credentials', status: '201' }), 1, 'requests by route pattern and status')
  t.equal(sample(after, 'tessera_http_requests_total', { method: 'POST', route: '/api/v1/credentials/:id/revoke', status: '200' }), 1, 'the pattern, not the URL')
  t.equal(sample(after, 'tessera_http_request_duration_seconds_count', { method: 'POST', route: '/credentials/verify', status: '422' }), 1, 'latency histogram by route and status')
  t.ok((sample(after, 'tessera_http_request_duration_seconds_sum', { method: 'POST', route: '/api/v1/credentials', status: '201' }) ?? 0) > 0, 'it measured time')
  t.equal(sample(after, 'tessera_verifications_total', { status: 'valid', channel: 'api' }), 1, 'a valid verification through the API')
  t.equal(sample(after, 'tessera_verifications_total', { status: invalidStatus, channel: 'api' }), 1, `a ${invalidStatus} one`)
  t.equal(sample(after, 'tessera_verifications_total', { status: 'valid', channel: 'stored' }), 1, 'the stored credential\'s verification')
  t.equal(sample(after, 'tessera_credential_events_total', { type: 'credential.issued' }), 1, 'issued, from the events table')
  t.equal(sample(after, 'tessera_credential_events_total', { type: 'credential.revoked' }), 1, 'revoked')
  t.equal(sample(after, 'tessera_webhook_deliveries', { state: 'delivered' }), 2, 'webhook deliveries by outcome')
  t.equal(sample(after, 'tessera_webhook_delivery_attempts', { state: 'delivered' }), 2, 'and their attempts')
  t.ok((sample(after, 'tessera_email_notifications', { state: 'sent' }) ?? 0) >= 1, 'emails by outcome')
  const remaining = sample(after, 'tessera_status_list_capacity_remaining', { issuer: app.config.issuer.id, purpose: 'revocation' })
  t.equal(remaining, app.app.statusListPolicy.capacity - 1, 'one index taken from the open revocation list')
  t.ok((sample(after, 'tessera_data_integrity_task_duration_seconds_count', { kind: 'sign', outcome: 'ok' }) ?? 0) >= 1, 'Data Integrity signing tasks')
  t.ok((sample(after, 'tessera_data_integrity_task_duration_seconds_count', { kind: 'verify', outcome: 'ok' }) ?? 0) >= 1, 'Data Integrity verification tasks')
  t.equal(sample(after, 'tessera_data_integrity_tasks_in_flight'), 0, 'none left in flight')

  // Personal data: the holder's name and address, the credential's id and URL are nowhere.
  for (const text of ['philippa', 'Quartermaine', issued.id, 'aama.example']) t.notOk(after.toLowerCase().includes(text.toLowerCase()), `"${text}" is not in the exposition`)
  t.notMatch(after, /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/, 'no email address at all')
})

t.test('a queue with waiting work shows its depth and age; the database down leaves /metrics answering, with tessera_database_up 0 and the error counted', async (t) => {
  const clock = { now: new Date('2026-03-01T12:00:00Z') }
  const app = await build(t, { clock: () => clock.now, env: { METRICS_TOKEN: TOKEN } })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  // WORKER=off (the test default): the event's email job (written with it) waits.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const waiting = await scrape(app)
  t.equal(sample(waiting, 'tessera_job_queue_depth', { queue: 'email-send' }), 1, 'one email job waits')
  t.ok((sample(waiting, 'tessera_job_queue_oldest_age_seconds', { queue: 'email-send' }) ?? 0) >= 1, 'and has waited a second')
  t.equal(sample(waiting, 'tessera_job_queue_retrying', { queue: 'email-send' }), 0)

  // The database refuses connections: the pool's are ended, new ones fail.
  const name = new URL(app.config.databaseUrl!).pathname.slice(1)
  const admin = postgres(app.config.databaseUrl!.replace(`/${name}`, '/postgres'), { max: 1, onnotice: () => {} })
  const allow = async (): Promise<void> => { await admin.unsafe(`alter database ${name} with allow_connections true`) }
  t.teardown(async () => { await allow().catch(() => {}); await admin.end() })
  await admin.unsafe(`alter database ${name} with allow_connections false`)
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`
  const failed = await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${issued.id}`, headers: app.auth })
  t.ok(failed.statusCode >= 500, `a staff read fails (${failed.statusCode})`)
  const response = await app.app.inject({ method: 'GET', url: '/metrics', headers: bearer })
  t.equal(response.statusCode, 200, '/metrics still answers')
  t.equal(sample(response.body, 'tessera_database_up'), 0, 'tessera_database_up 0')
  t.equal(sample(response.body, 'tessera_job_queue_depth', { queue: 'email-send' }), undefined, 'no stale database figures')
  t.ok(total(response.body, 'tessera_database_errors_total') >= 1, 'the request\'s database error is counted')
  t.equal(sample(response.body, 'tessera_up'), 1)
  await allow()
  t.equal(sample(await scrape(app), 'tessera_database_up'), 1, 'back up once the database is')
})

t.test('in production mode /metrics needs METRICS_TOKEN (401 problem without or with a wrong token); the setting is required', async (t) => {
  const production = { NODE_ENV: 'production', ISSUER_NAME: 'Example Certifying Body', DATABASE_URL: 'postgres://db.internal/tessera', KEYS_DIR: '/run/keys', ADMIN_API_KEY: 'a-production-staff-key-0123456789abcdef', PUBLIC_BASE_URL: 'https://badges.example.org' }
  t.throws(() => loadConfig(production), /"METRICS_TOKEN" must be set in production/)
  t.throws(() => loadConfig({ ...production, METRICS_TOKEN: 'short' }), /"METRICS_TOKEN" must be at least 32 characters/)
  t.equal(loadConfig({ ...production, METRICS_TOKEN: TOKEN }).metrics.token, TOKEN)
  t.equal(loadConfig({ ...production, METRICS_PORT: '9464' }).metrics.port, 9464, 'or a separate port')
  t.throws(() => loadConfig({ ...production, METRICS_TOKEN: TOKEN, PORT: '9464', METRICS_PORT: '9464' }), /"METRICS_PORT" must be a port/)

  const keysDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-metrics-keys-'))
  t.teardown(async () => { await rm(keysDir, { recursive: true, force: true }) })
  const app = await build(t, { env: { NODE_ENV: 'production', KEYS_DIR: keysDir, METRICS_TOKEN: TOKEN } })
  t.equal(app.config.production, true)
  for (const [label, headers] of [['no token', {}], ['a wrong token', { authorization: `Bearer ${TOKEN.replace(/.$/, 'X')}` }], ['the staff key', app.auth]] as const) {
    const response = await app.app.inject({ method: 'GET', url: '/metrics', headers })
    t.equal(response.statusCode, 401, `${label}: 401`)
    t.match(response.headers['content-type'], /^application\/problem\+json/, label)
    t.equal(response.json().type, 'urn:tessera:problem:unauthorized', label)
    t.equal(response.headers['www-authenticate'], 'Bearer realm="tessera"')
    t.notMatch(response.body, /tessera_/, `${label}: no metrics in the body`)
  }
  const ok = await app.app.inject({ method: 'GET', url: '/metrics', headers: bearer })
  t.equal(ok.statusCode, 200, 'the token: 200')
  t.match(ok.headers['content-type'], /^text\/plain; version=0\.0\.4/)
})

t.test('METRICS_PORT: a second listener serves /metrics alone without a token; the main port then answers 404', async (t) => {
  const app = await build(t, { env: { METRICS_PORT: '0' } })
  const main = await app.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(main.statusCode, 404, 'not on the main port')
  t.equal(main.json().type, 'urn:tessera:problem:not_found')
  const listener = await metricsListener(app.app.metrics)
  t.teardown(async () => { await listener.close() })
  const address = await listener.listen({ port: 0, host: '127.0.0.1' })
  const response = await fetch(`${address}/metrics`)
  t.equal(response.status, 200, 'served on the metrics port, no token')
  t.match(response.headers.get('content-type'), /^text\/plain/)
  const body = await response.text()
  t.equal(sample(body, 'tessera_database_up'), 1, 'with the database figures')
  t.ok(sample(body, 'tessera_http_requests_total', { method: 'GET', route: '/metrics', status: '404' }) === 1, 'the main app\'s counters')
  t.equal((await fetch(`${address}/health`)).status, 404, 'nothing else there')

  const open = await build(t)
  t.equal((await open.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'development without token or port: open')
})
