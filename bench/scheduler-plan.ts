/**
 * The due-reminder scan against a million credentials: fills a scratch
 * database (rows inserted with foreign-key triggers off, since only the scan's
 * tables matter), prints the query plan of each window and times whole scans
 * (the first records everything due; a repeat finds nothing new). Asserts nothing.
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/scheduler-plan.ts [credentials=1000000]
 */
import { connect } from '../src/infrastructure/db/connect.js'
import { migrate } from '../src/infrastructure/db/migrate.js'
import { openJobQueue } from '../src/infrastructure/jobs/job-queue.js'
import { databaseOutbox } from '../src/infrastructure/jobs/outbox.js'
import { recordDueNotifications, SCAN_LOOKBACK_DAYS } from '../src/capabilities/notifications/remind/scheduler.js'
import { publicUrls } from '../src/kernel/public-urls.js'

const count = Number(process.argv[2] ?? 1_000_000)
const server = process.env.DATABASE_URL
if (server === undefined) throw new Error('set DATABASE_URL to a PostgreSQL server (a scratch database is created on it)')
const name = `tessera_plan_${process.pid}`
const admin = connect(server, { max: 1 })
await admin.unsafe(`create database ${name}`)
const url = new URL(server)
url.pathname = `/${name}`
const sql = connect(url.href, { statementTimeoutMs: 600_000 })
try {
  await migrate(sql)
  const started = performance.now()
  await sql.begin(async (tx) => {
    await tx.unsafe('set local session_replication_role = replica')
    await tx.unsafe(`
      insert into credentials (id, badge_id, issuer_id, achievement_id, recipient_name, recipient_email, issued_at, issued_by, current_version, current_valid_until, revoked_at, revocation_reason)
      select 'c' || g, 'b' || g, 'main', 'a1', 'Holder ' || g, 'h' || g || '@example.org', now() - interval '1 year', 'bench', 1,
             now() + (g % 1826) * interval '1 day' - interval '10 days' + (g % 86400) * interval '1 second',
             case when g % 50 = 0 then now() end, case when g % 50 = 0 then 'bench' end
      from generate_series(1, ${count}) g`)
    await tx.unsafe(`
      insert into credential_versions (credential_id, version, kind, recipient_name, recipient_email, valid_from, valid_until, status_list_id, status_index, document, jwt, signing_key_id, jwt_key_id, issued_at, issued_by)
      select 'c' || g, 1, 'issue', 'Holder ' || g, 'h' || g || '@example.org', now() - interval '1 year', now() + (g % 1826) * interval '1 day',
             'l' || (g / 65536), g % 65536, '{}', 'jwt', 'k1', 'k2', now() - interval '1 year', 'bench'
      from generate_series(1, ${count}) g`)
  })
  await sql.unsafe('analyze credentials; analyze credential_versions')
  console.log(`${count.toLocaleString('en')} credentials (2% revoked, periods ending over 5 years) loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`)

  const now = new Date()
  const day = 86_400_000
  console.log(`\nplan of the 90-day reminder window (${SCAN_LOOKBACK_DAYS}-day look-back):`)
  const plan = await sql.unsafe(`explain (analyze, buffers, costs off)
    select c.id, c.current_version as version, c.achievement_id, c.current_valid_until
    from credentials c join credential_versions v on v.credential_id = c.id and v.version = c.current_version
    where c.revoked_at is null and c.current_valid_until > $1 and c.current_valid_until <= $2
      and v.issued_at <= c.current_valid_until - make_interval(days => 90) and c.id > ''
      and not exists (select 1 from events e where e.dedupe_key = 'reminder:90:' || c.id || ':' || c.current_version)
    order by c.id limit 500`, [new Date(now.getTime() + 83 * day), new Date(now.getTime() + 90 * day)])
  for (const row of plan) console.log(`  ${String(row['QUERY PLAN'])}`)

  const jobs = await openJobQueue(sql, { run: false })
  const deps = { sql, outbox: databaseOutbox(jobs), urls: publicUrls('https://badges.example.org'), now, reminderDays: [90, 30] }
  for (const label of ['first scan (records what is due)', 'second scan (nothing new)']) {
    const t0 = performance.now()
    const counts = await recordDueNotifications(deps)
    console.log(`${label}: ${((performance.now() - t0)).toFixed(0)} ms, ${counts.reminders} reminders and ${counts.expired} expiry events recorded`)
  }
  await jobs.stop()
} finally {
  await sql.end()
  await admin.unsafe(`drop database if exists ${name} with (force)`)
  await admin.end()
}
