import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../src/app.js'
import { prepareService } from '../src/boot.js'
import { connect, connectOptionsFor } from '../src/infrastructure/db/connect.js'
import { migrateDatabase, MIGRATIONS_DIR } from '../src/infrastructure/db/migrate.js'
import { CHANGES_CHANNEL } from '../src/infrastructure/caching/change-feed.js'
import { loadConfig } from '../src/kernel/config.js'
import { ADMIN_KEY, BASE_URL, CMA_ACHIEVEMENT, type TestApp, createAchievement, issue } from './helpers/build-app.js'
import { testDataIntegrity } from './helpers/data-integrity.js'
import { FAST_JOBS, startSmtpServer, waitFor } from './helpers/notifications.js'
import { startPgBouncer, testWithPgBouncer } from './helpers/pgbouncer.js'
import { installTestKeys } from './helpers/test-keys.js'

/**
 * The service behind a real PgBouncer in transaction mode (what managed
 * PostgreSQL offerings put in front of large deployments): a server
 * connection is lent per transaction, so nothing may rely on a session. The
 * suite's critical paths run through it: migrating, issuing, serving,
 * verifying, revoking through one instance and seeing it on another (the
 * change feed polls the change log there: no LISTEN), a notification job;
 * and with DATABASE_DIRECT_URL the feed LISTENs on a direct connection.
 */

/** A fresh, empty database on the test server, dropped in teardown: the bouncer passes any name through. */
async function emptyDatabase (t: Test): Promise<string> {
  const serverUrl = process.env.TESSERA_TEST_SERVER_URL
  if (serverUrl === undefined) throw new Error('Run tests with `npm test` (it prepares the test database server).')
  const name = `tessera_pgbouncer_${randomBytes(6).toString('hex')}`
  const admin = connect(serverUrl, { max: 1 })
  await admin.unsafe(`create database ${name}`)
  t.teardown(async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end()
  })
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.href
}

/** An instance of the service whose DATABASE_URL is the bouncer, as build() makes one on a direct URL. */
async function instance (t: Test, settings: { databaseUrl: string, dataDir: string, env?: Record<string, string> }): Promise<TestApp> {
  const config = loadConfig({
    PUBLIC_BASE_URL: BASE_URL,
    DATABASE_URL: settings.databaseUrl,
    DATABASE_POOLER: 'transaction',
    DATA_DIR: settings.dataDir,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ISSUER_NAME: 'American Association of Medical Assistants',
    ISSUER_URL: 'https://www.aama-ntl.org',
    RATE_LIMIT_VERIFY_PER_MINUTE: '1000000',
    VERIFY_TIME_BUDGET_MS: '30000',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    WORKER: 'off',
    ...settings.env
  })
  const sql = connect(settings.databaseUrl, connectOptionsFor(config))
  const built: { app?: FastifyInstance } = {}
  t.teardown(async () => {
    await built.app?.close()
    await sql.end({ timeout: 5 })
  })
  const keyRing = await prepareService(config, sql, { info: () => {}, warn: () => {} })
  const app = built.app = await buildApp({ config, sql, keyRing, logger: false, ...testDataIntegrity() })
  await app.ready()
  return { app, sql, config, keyRing, dataDir: settings.dataDir, auth: { authorization: `Bearer ${ADMIN_KEY}` } }
}

const bitOf = (encodedList: string, index: number): number => {
  const bits = gunzipSync(Buffer.from(encodedList.slice(1), 'base64url'))
  return (bits[Math.floor(index / 8)]! >> (7 - (index % 8))) & 1
}

testWithPgBouncer('through PgBouncer in transaction mode: migrate, issue, serve, verify, revoke on one instance and see it on the other, notify', { timeout: 240_000 }, async (t, program) => {
  const serverUrl = process.env.TESSERA_TEST_SERVER_URL ?? ''
  const bouncer = await startPgBouncer(t, program, serverUrl)
  const directUrl = await emptyDatabase(t)
  const pooledUrl = bouncer.url(directUrl)

  // A startup statement_timeout is what a pooler refuses: the service no longer sends one there.
  const refused = connect(pooledUrl, { max: 1 })
  await t.rejects(refused`select 1`, /unsupported startup parameter/, 'PgBouncer refuses a connection that sends statement_timeout at startup (the check is real)')
  await refused.end({ timeout: 1 })

  // Migrations through the pooler, on a fresh database (advisory lock and timeouts all transaction-local).
  const migrated = await migrateDatabase(pooledUrl)
  t.equal(migrated.applied.length, (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).length, 'every migration applied through PgBouncer')
  t.same((await migrateDatabase(pooledUrl)).applied, [], 'and a second run finds them done')

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-pgbouncer-app-'))
  t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
  const smtp = await startSmtpServer()
  t.teardown(async () => { await smtp.close() })
  const probe = loadConfig({ PUBLIC_BASE_URL: BASE_URL, DATA_DIR: dataDir, ISSUER_NAME: 'American Association of Medical Assistants' })
  await installTestKeys(probe.keysDir, probe.issuer.id)
  // A runs the notification workers; B only serves. Neither has a direct URL: their change feeds poll.
  const a = await instance(t, { databaseUrl: pooledUrl, dataDir, env: { ...FAST_JOBS, SMTP_URL: smtp.url, MAIL_FROM: 'AAMA Digital Badges <badges@aama.example>' } })
  const b = await instance(t, { databaseUrl: pooledUrl, dataDir })
  t.equal(a.sql.options.prepare, false, 'the pool prepares no statements')

  const achievement = await createAchievement(a, CMA_ACHIEVEMENT)
  const issued = await issue(a, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const credentialPath = new URL(issued.url).pathname
  const listPath = new URL(issued.credential.credentialStatus.statusListCredential).pathname
  const index = Number(issued.credential.credentialStatus.statusListIndex)

  const served = await a.app.inject({ url: credentialPath, headers: { accept: 'application/vc+ld+json' } })
  t.equal(served.statusCode, 200, 'A serves the credential')
  t.same(served.json().id, issued.credential.id)
  const firstList = await a.app.inject({ url: listPath })
  t.equal(firstList.statusCode, 200, 'A serves its status list')
  t.equal(bitOf(firstList.json().credentialSubject.encodedList, index), 0, 'with the credential\'s bit clear')
  t.equal(a.app.documents.statusLists.size, 1, 'A keeps the list in memory')
  t.equal((await b.app.inject({ url: credentialPath })).statusCode, 200, 'B serves the credential too')

  const verified = await a.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
  t.equal(verified.statusCode, 200, 'verify answers 200')
  t.equal(verified.json().status, 'valid', 'the credential verifies as valid through the pooler')

  // The notification job: the issue email leaves A's worker through the pooled connection.
  const message = await waitFor('the issue email', () => smtp.messages[0], 60_000)
  t.same(message.envelopeTo, ['jane@example.org'], 'the issue email was sent by a job run through PgBouncer')

  // Revoke through B; A hears of it from the change log (it has no LISTEN).
  const revoked = await b.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: b.auth, payload: { reason: 'Issued in error' } })
  t.equal(revoked.statusCode, 200, 'B revokes')
  const started = performance.now()
  const verdict = await waitFor('A to answer revoked', async () => {
    const response = await a.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
    return response.json().status === 'revoked' ? response : undefined
  }, 10_000)
  t.equal(verdict.json().status, 'revoked', 'A\'s verify answers revoked')
  const list = await waitFor('A to serve the re-signed list', async () => {
    const response = await a.app.inject({ url: listPath })
    return response.headers.etag !== firstList.headers.etag ? response : undefined
  }, 10_000)
  const delay = performance.now() - started
  t.equal(bitOf(list.json().credentialSubject.encodedList, index), 1, 'A serves the re-signed list with the credential\'s bit set')
  // The poll interval is 1 s; the lists' 60 s lifetime is far beyond this bound, so only the change log can have told A.
  t.ok(delay < 10_000, `within the polling bound, far under the cache lifetime (${delay.toFixed(0)} ms)`)
  t.comment(`A served the re-signed list ${delay.toFixed(0)} ms after B's revocation returned`)

  // A has no LISTEN: a NOTIFY alone (no change-log row) does not reach it.
  t.equal(a.app.documents.statusLists.size, 1, 'A holds the re-signed list')
  const direct = connect(directUrl, { max: 1 })
  t.teardown(async () => { await direct.end({ timeout: 1 }) })

  // With DATABASE_DIRECT_URL, the feed LISTENs on a direct connection: a bare NOTIFY reaches it.
  const c = await instance(t, { databaseUrl: pooledUrl, dataDir, env: { DATABASE_DIRECT_URL: directUrl } })
  t.equal((await c.app.inject({ url: listPath })).statusCode, 200)
  t.equal(c.app.documents.statusLists.size, 1, 'C keeps the list in memory')
  const listeners = await direct<Array<{ query: string }>>`select query from pg_stat_activity where datname = current_database() and query ilike 'listen%'`
  t.ok(listeners.some((row) => row.query.includes(CHANGES_CHANNEL)), 'C LISTENs on a direct session')
  await direct`select pg_notify(${CHANGES_CHANNEL}, ${`status-list:${listPath.split('/').pop() ?? ''}`})`
  await waitFor('C to drop the list on the NOTIFY', () => c.app.documents.statusLists.size === 0, 5000)
  t.equal(c.app.documents.statusLists.size, 0, 'C dropped the list on a bare NOTIFY: it listens')
  await new Promise((resolve) => setTimeout(resolve, 2500))
  t.equal(a.app.documents.statusLists.size, 1, 'A, polling, did not (a NOTIFY without a change-log row never reaches it)')

  // No statement was prepared on any server connection: one transaction per server connection of the pool, each looks.
  await a.app.close()
  await b.app.close()
  await c.app.close()
  const checker = connect(pooledUrl, { max: bouncer.poolSize, pooler: 'transaction' })
  t.teardown(async () => { await checker.end({ timeout: 1 }) })
  const seen = await Promise.all(Array.from({ length: bouncer.poolSize }, async () => await checker.begin(async (tx) => {
    const [row] = await tx<Array<{ pid: number, prepared: number }>>`select pg_backend_pid() as pid, (select count(*)::int from pg_prepared_statements) as prepared`
    // Hold the server connection until every transaction has one, so each lands on another.
    await tx`select pg_sleep(0.5)`
    return row!
  })))
  t.equal(new Set(seen.map((r) => r.pid)).size, bouncer.poolSize, `${bouncer.poolSize} server connections looked at`)
  t.same(seen.map((r) => r.prepared), seen.map(() => 0), 'no server connection holds a prepared statement')
})
