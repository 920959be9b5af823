import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { prepareService } from '../../src/boot.js'
import type { Config } from '../../src/kernel/config.js'
import { connect } from '../../src/infrastructure/db/connect.js'
import type { Clock } from '../../src/kernel/time.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { testDataIntegrity } from '../helpers/data-integrity.js'
import { startSmtpServer, waitFor } from '../helpers/notifications.js'
import { startWorkerProcess } from '../helpers/worker-process.js'

/**
 * Every scheduled task through the real schedule: pg-boss's cron (its
 * timekeeper, its send-it queue, its insert) feeding workers that run as
 * production runs them, inline in an instance (WORKER=inline) or in the
 * worker process (src/worker.ts). Nothing here calls a task's function: each
 * test prepares the database through a first instance (WORKER=off, no cron),
 * starts the worker and waits, with a bound, for the task's effect. Every
 * schedule is "* * * * *" (the current minute's slot is sent at once) and
 * pg-boss checks its schedules every second. The tasks read the injected
 * clock; pg-boss's slots follow the real one.
 */

const DAY = 86_400_000
const ISSUED_AT = new Date('2026-01-15T12:00:00Z')
const VALID_UNTIL = new Date('2031-01-15T12:00:00Z')
const EVERY_MINUTE = '* * * * *'
const FAST = { expireInSeconds: 60, retryDelaySeconds: 1, maintenanceIntervalSeconds: 1, pollingIntervalSeconds: 0.5 }

interface WorkerInstance { app: FastifyInstance, logged: string[] }

/**
 * A second instance on the first one's database whose workers and cron run
 * inline (every schedule each minute, fast polling), on the given clock, with
 * a log of its warnings and errors (job queue errors among them).
 */
async function startWorkerInstance (t: Test, first: TestApp, clock: Clock): Promise<WorkerInstance> {
  const sql = connect(first.config.databaseUrl ?? '', { max: 10 })
  const built: { app?: FastifyInstance } = {}
  t.teardown(async () => {
    await built.app?.close()
    await sql.end({ timeout: 5 })
  })
  const config: Config = Object.freeze({
    ...first.config,
    notifications: Object.freeze({ ...first.config.notifications, worker: 'inline' as const, scanCron: EVERY_MINUTE, statusListRefreshCron: EVERY_MINUTE, portalPurgeCron: EVERY_MINUTE, jobs: FAST })
  })
  const logged: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { logged.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')); done() } })
  const keyRing = await prepareService(config, sql, { info: () => {}, warn: () => {} })
  const app = built.app = await buildApp({ config, sql, keyRing, clock, logger: pino({ level: 'warn' }, sink), ...testDataIntegrity() })
  await app.ready()
  return { app, logged }
}

/** Waits for `probe`, saying what the worker logged when it does not come. */
async function waitForTask<T> (what: string, worker: { logged: string[] }, probe: () => Promise<T | undefined>): Promise<T> {
  return await waitFor(what, probe, 30_000).catch((error: Error) => { throw new Error(`${error.message}; the worker logged: ${worker.logged.join('\n') || 'nothing'}`) })
}

const jobQueueErrors = (logged: string[]): string[] => logged.filter((l) => l.includes('"msg":"job queue"'))

t.test('the notification scan\'s schedule sends a due reminder and an expired notice to the SMTP server', async (t) => {
  const clock = { now: ISSUED_AT }
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const api = await build(t, { clock: () => clock.now, env: { SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example' } })
  const achievement = await createAchievement(api, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } })
  const scanAt = new Date(VALID_UNTIL.getTime() - 90 * DAY + 3600_000)
  await issue(api, { achievementId: achievement.id, recipient: { name: 'Rita Reminder', email: 'rita@example.org' }, notify: false })
  await issue(api, { achievementId: achievement.id, recipient: { name: 'Ezra Expired', email: 'ezra@example.org' }, notify: false, validUntil: new Date(scanAt.getTime() - DAY).toISOString() })

  clock.now = scanAt
  const worker = await startWorkerInstance(t, api, () => clock.now)
  await waitForTask('the reminder and the expired notice', worker, async () => smtp.messages.length >= 2 ? true : undefined)
  const reminder = smtp.messages.find((m) => m.envelopeTo.includes('rita@example.org'))
  const expired = smtp.messages.find((m) => m.envelopeTo.includes('ezra@example.org'))
  t.match(reminder?.subject, /expires on 15 January 2031/, 'the 90-day reminder')
  t.match(reminder?.text, /in 90 days/)
  t.match(expired?.subject, /expired on 16 October 2030/, 'the expired notice')
  // The SMTP server has the message a moment before the worker records it as sent.
  const recorded = async (): Promise<string[]> => (await api.sql`select kind, state from email_notifications order by kind`).map((r) => `${String(r.kind)}:${String(r.state)}`)
  await waitForTask('both emails recorded as sent', worker, async () => (await recorded()).every((row) => row.endsWith(':sent')) ? true : undefined).catch(() => {})
  t.same(await recorded(), ['expired:sent', 'reminder:sent'], 'each recorded as sent')
  t.same(jobQueueErrors(worker.logged), [], 'no job queue error on the way')
})

t.test('the status-list refresh\'s schedule re-signs a list about to expire, and the other instance serves the new one', async (t) => {
  const clock = { now: ISSUED_AT }
  const api = await build(t, { clock: () => clock.now })
  const achievement = await createAchievement(api)
  const issued = await issue(api, { achievementId: achievement.id, recipient: { name: 'Lee List', email: 'lee@example.org' } })
  const listUrl = new URL(issued.credential.credentialStatus.statusListCredential as string).pathname
  const first = await api.app.inject({ method: 'GET', url: listUrl })
  t.equal(first.json().validUntil, '2026-02-14T12:00:00Z', 'signed for 30 days (and now in the first instance\'s cache)')

  clock.now = new Date(ISSUED_AT.getTime() + 20 * DAY)
  const worker = await startWorkerInstance(t, api, () => clock.now)
  const refreshed = await waitForTask('the re-signed list', worker, async () => {
    const served = await api.app.inject({ method: 'GET', url: listUrl })
    return served.json().validUntil === '2026-03-06T12:00:00Z' ? served : undefined
  })
  t.not(refreshed.headers.etag, first.headers.etag, 'a new signature, served by the instance that did not sign it')
  t.equal(refreshed.json().credentialSubject.encodedList, first.json().credentialSubject.encodedList, 'the same bits')
  const check = await api.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
  t.equal(check.json().status, 'valid', 'the credential still verifies against it')
  t.same(jobQueueErrors(worker.logged), [])
})

t.test('the portal purge\'s schedule deletes sign-in tokens, sessions, OAuth entries and wallet offers a day after they ended, and nothing newer', async (t) => {
  const clock = { now: ISSUED_AT }
  const api = await build(t, { clock: () => clock.now })
  const ago = (ms: number): Date => new Date(clock.now.getTime() - ms)
  const badge = await issue(api, { achievementId: (await createAchievement(api)).id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  for (const [name, expiresAt] of [['old', ago(2 * DAY)], ['recent', ago(3600_000)], ['live', ago(-3600_000)]] as const) {
    await api.sql`insert into wallet_offers (id, token_hash, credential_id, holder_email, channel, created_at, expires_at)
      values (${name}, ${randomBytes(32).toString('hex')}, ${badge.id}, 'jane@example.org', 'portal', ${new Date(expiresAt.getTime() - 900_000)}, ${expiresAt})`
  }
  for (const [name, expiresAt] of [['old', ago(2 * DAY)], ['recent', ago(3600_000)], ['live', ago(-3600_000)]] as const) {
    await api.sql`insert into portal_sign_in_tokens (token_hash, email, created_at, expires_at) values (${randomBytes(32)}, ${`${name}@example.org`}, ${new Date(expiresAt.getTime() - 900_000)}, ${expiresAt})`
    await api.sql`insert into portal_sessions (id_hash, email, data, created_at, expires_at) values (${randomBytes(32)}, ${`${name}@example.org`}, ${api.sql.json({})}, ${new Date(expiresAt.getTime() - 12 * 3600_000)}, ${expiresAt})`
  }
  // The OAuth server's entries expire by the database's clock (oidc-provider gives lifetimes in seconds).
  for (const [id, expiresAt] of [['old', api.sql`now() - interval '2 days'`], ['recent', api.sql`now() - interval '1 hour'`], ['live', api.sql`now() + interval '1 hour'`]] as const) {
    await api.sql`insert into oauth_entries (kind, id, payload, expires_at) values ('AccessToken', ${id}, ${api.sql.json({})}, ${expiresAt})`
  }
  const worker = await startWorkerInstance(t, api, () => clock.now)
  await waitForTask('the OAuth entries\' purge', worker, async () => {
    const [row] = await api.sql<Array<{ n: number }>>`select count(*)::int as n from oauth_entries where id = 'old'`
    return row?.n === 0 ? true : undefined
  })
  await waitForTask('the purge', worker, async () => {
    const [row] = await api.sql<Array<{ n: number }>>`select count(*)::int as n from portal_sign_in_tokens where email = 'old@example.org'`
    return row?.n === 0 ? true : undefined
  })
  await waitForTask('the sessions\' purge', worker, async () => {
    const [row] = await api.sql<Array<{ n: number }>>`select count(*)::int as n from portal_sessions where email = 'old@example.org'`
    return row?.n === 0 ? true : undefined
  })
  const tokens = await api.sql`select email from portal_sign_in_tokens order by email`
  const sessions = await api.sql`select email from portal_sessions order by email`
  t.same(tokens.map((r) => r.email), ['live@example.org', 'recent@example.org'], 'tokens ended within the day are kept (the per-address hour counts them)')
  t.same(sessions.map((r) => r.email), ['live@example.org', 'recent@example.org'])
  t.same((await api.sql`select id from oauth_entries order by id`).map((r) => r.id), ['live', 'recent'], 'OAuth entries expired within the day are kept (a reused code is still recognised)')
  await waitForTask('the wallet offers\' purge', worker, async () => {
    const [row] = await api.sql<Array<{ n: number }>>`select count(*)::int as n from wallet_offers where id = 'old'`
    return row?.n === 0 ? true : undefined
  })
  t.same((await api.sql`select id from wallet_offers where id in ('old', 'recent', 'live') order by id`).map((r) => r.id), ['live', 'recent'], 'wallet offers expired within the day are kept')
  t.same(jobQueueErrors(worker.logged), [])
})

t.test('the worker process (npm run worker) runs every schedule on the real clock: reminder, expired notice, status-list refresh, purge', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const now = Date.now()
  // Issued 100 days ago, so that a 30-day reminder is due today (a version issued inside a window gets none).
  const api = await build(t, { clock: () => new Date(now - 100 * DAY), env: { SMTP_URL: smtp.url, MAIL_FROM: 'badges@aama.example' } })
  const achievement = await createAchievement(api)
  await issue(api, { achievementId: achievement.id, recipient: { name: 'Rita Reminder', email: 'rita@example.org' }, notify: false, validUntil: new Date(now + 29 * DAY).toISOString() })
  await issue(api, { achievementId: achievement.id, recipient: { name: 'Ezra Expired', email: 'ezra@example.org' }, notify: false, validUntil: new Date(now - DAY).toISOString() })
  await api.sql`insert into portal_sessions (id_hash, email, data, created_at, expires_at) values (${randomBytes(32)}, 'old@example.org', ${api.sql.json({})}, ${new Date(now - 3 * DAY)}, ${new Date(now - 2 * DAY)})`
  const [list] = await api.sql<Array<{ version: number }>>`select version from status_lists`

  const worker = startWorkerProcess(t, api, {
    SMTP_URL: smtp.url,
    MAIL_FROM: 'badges@aama.example',
    NOTIFICATION_SCAN_CRON: EVERY_MINUTE,
    STATUS_LIST_REFRESH_CRON: EVERY_MINUTE,
    PORTAL_PURGE_CRON: EVERY_MINUTE,
    JOB_POLL_SECONDS: '0.5',
    JOB_MAINTENANCE_SECONDS: '1',
    JOB_RETRY_DELAY_SECONDS: '1'
  })
  const { logged } = worker

  await waitForTask('the reminder and the expired notice', { logged }, async () => smtp.messages.length >= 2 ? true : undefined)
  t.match(smtp.messages.find((m) => m.envelopeTo.includes('rita@example.org'))?.text, /expires on \d+ \w+ \d{4}, in 2[89] days/, 'the 30-day reminder (due 29 days from now; 28 if the send crosses midnight UTC)')
  t.ok(smtp.messages.some((m) => m.envelopeTo.includes('ezra@example.org') && /expired on/.test(m.subject ?? '')), 'the expired notice')
  await waitForTask('the status list re-signed', { logged }, async () => {
    const [row] = await api.sql<Array<{ version: number }>>`select version from status_lists`
    return row !== undefined && row.version > (list?.version ?? 0) ? true : undefined
  })
  await waitForTask('the purge', { logged }, async () => {
    const [row] = await api.sql<Array<{ n: number }>>`select count(*)::int as n from portal_sessions`
    return row?.n === 0 ? true : undefined
  })
  t.equal(await worker.stop(), 0, 'it stops cleanly on SIGTERM')
  t.same(logged.filter((l) => l.includes('job queue')), [], 'no job queue error')
})
