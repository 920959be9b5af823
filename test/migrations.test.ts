import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { ensureSchema } from '../src/boot.js'
import { loadConfig } from '../src/kernel/config.js'
import { connect } from '../src/infrastructure/db/connect.js'
import { migrate, migrateDatabase, MIGRATIONS_DIR, pendingMigrations } from '../src/infrastructure/db/migrate.js'
import { freshDatabase } from './helpers/database.js'

const quiet = { info: () => {}, warn: () => {} }

/** A folder holding the given migrations (name: SQL), for tests that need their own. */
async function migrationsFolder (t: Test, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-migrations-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text)
  return dir
}

t.test('two processes migrating an empty database at once do not collide', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  // Start from nothing: drop what the template applied.
  await db.sql.unsafe('drop schema public cascade; create schema public')
  const all = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort()
  const [first, second] = await Promise.all([migrate(db.sql), migrate(db.sql)])
  t.same([...first.applied, ...second.applied].sort(), all, 'each migration ran exactly once')
  const rows = await db.sql`select name from schema_migrations`
  t.equal(rows.length, all.length)
  const again = await migrate(db.sql)
  t.same(again.applied, [], 'a second run applies nothing')
})

t.test('credentials issued before versions existed become version 1, byte for byte', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  await db.sql.unsafe('drop schema public cascade; create schema public')
  const onlyFirst = await mkdtemp(path.join(os.tmpdir(), 'tessera-migrations-'))
  t.teardown(async () => { await rm(onlyFirst, { recursive: true, force: true }) })
  await copyFile(path.join(MIGRATIONS_DIR, '0001_initial.sql'), path.join(onlyFirst, '0001_initial.sql'))
  await migrate(db.sql, { dir: onlyFirst })
  await db.sql.unsafe(`
    insert into issuers (id, name) values ('main', 'AAMA');
    insert into signing_keys (id, issuer_id, algorithm, public_key_multibase) values ('ed', 'main', 'Ed25519', 'z6MkTest');
    insert into signing_keys (id, issuer_id, algorithm, public_jwk) values ('rs', 'main', 'RS256', '{"kty":"RSA"}');
    insert into achievements (id, issuer_id, name, description, criteria, validity_months, created_by) values ('a1', 'main', 'CMA', 'd', '{}', 60, 'admin');
    insert into badges (id, issuer_id, achievement_id, recipient_name, recipient_email) values ('b1', 'main', 'a1', 'Jo', 'jo@example.com');
    insert into status_lists (id, issuer_id, purpose, size, capacity, bits, credential, signed_at, valid_until) values ('l1', 'main', 'revocation', 131072, 65536, '\\x00', '{}', now(), now());
    insert into status_list_entries (status_list_id, status_index) values ('l1', 7);
    insert into credentials (id, badge_id, issuer_id, achievement_id, recipient_name, recipient_email, valid_from, valid_until, status_list_id, status_index, document, jwt, signing_key_id, jwt_key_id, issued_by)
      values ('c1', 'b1', 'main', 'a1', 'Jo', 'jo@example.com', '2026-01-01T00:00:00Z', '2031-01-01T00:00:00Z', 'l1', 7, '{"signed": "exactly so"}', 'e.y.j', 'ed', 'rs', 'admin');`)
  const result = await migrate(db.sql)
  t.same(result.applied, (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql') && f !== '0001_initial.sql').sort())
  const [version] = await db.sql`select version, kind, document, jwt, status_index, valid_until from credential_versions where credential_id = 'c1'`
  t.match(version, { version: 1, kind: 'issue', document: '{"signed": "exactly so"}', jwt: 'e.y.j', status_index: 7 })
  const [credential] = await db.sql`select current_version, current_valid_until from credentials where id = 'c1'`
  t.equal(credential!.current_version, 1)
  t.same(credential!.current_valid_until, new Date('2031-01-01T00:00:00Z'))
})

t.test('a migration waiting for a table lock gives up after the lock timeout, changes nothing, and applies once the lock is free', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  await db.sql`create table lock_probe (id int)`
  const dir = await migrationsFolder(t, { '9001_add_column.sql': 'alter table lock_probe add column note text;' })
  // A long transaction reading the table holds a lock the ALTER TABLE must wait for.
  const reader = await db.sql.reserve()
  t.teardown(() => { reader.release() })
  await reader.unsafe('begin')
  await reader`select * from lock_probe`
  await t.rejects(migrate(db.sql, { dir, lockTimeoutMs: 100, attempts: 2 }), /Migration 9001_add_column\.sql failed: waited more than 100 ms for a table lock 2 time\(s\).*MIGRATION_LOCK_TIMEOUT_MS/)
  t.same(await pendingMigrations(db.sql, dir), ['9001_add_column.sql'], 'not recorded as applied')
  t.same((await db.sql`select column_name from information_schema.columns where table_name = 'lock_probe'`).map((r) => r.column_name), ['id'], 'and not applied')
  const [{ count }] = await db.sql`select count(*)::int as count from pg_stat_activity where datname = current_database() and state = 'active' and wait_event_type = 'Lock'` as unknown as [{ count: number }]
  t.equal(count, 0, 'nothing left queued behind the lock')
  await reader.unsafe('commit')
  t.same((await migrate(db.sql, { dir, lockTimeoutMs: 100 })).applied, ['9001_add_column.sql'])
})

t.test('migrations run with no statement timeout, even through a pool that has one, and leave its settings alone', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  const pool = connect(db.url, { max: 1, statementTimeoutMs: 200 })
  t.teardown(async () => { await pool.end() })
  const dir = await migrationsFolder(t, { '9001_slow.sql': 'select pg_sleep(0.5); create table slow_done (id int);' })
  t.same((await migrate(pool, { dir })).applied, ['9001_slow.sql'], 'a 0.5 s migration under a 200 ms statement timeout')
  const [settings] = await pool`select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`
  t.same(settings, { statement: '200ms', lock: '0' }, 'the settings were local to the migration\'s transaction')
  await t.rejects(pool`select pg_sleep(0.5)`, { code: '57014' }, 'the pool\'s own queries keep their timeout')
})

t.test('migrateDatabase migrates on a connection of its own, named tessera-migrate', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  const dir = await migrationsFolder(t, { '9001_who.sql': "create table who_migrated as select current_setting('application_name') as name, current_setting('statement_timeout') as statement_timeout;" })
  t.same((await migrateDatabase(db.url, { dir })).applied, ['9001_who.sql'])
  t.same(await db.sql`select name, statement_timeout from who_migrated`, [{ name: 'tessera-migrate', statement_timeout: '0' }])
})

t.test('MIGRATE_ON_BOOT: on by default only for the embedded development database', async (t) => {
  const production = { NODE_ENV: 'production', ISSUER_NAME: 'Example Certifying Body', DATABASE_URL: 'postgres://db.internal/tessera', KEYS_DIR: '/run/keys', ADMIN_API_KEY: 'a-production-staff-key-0123456789abcdef', METRICS_TOKEN: 'a-production-metrics-token-0123456789abcdef', PUBLIC_BASE_URL: 'https://badges.example.org' }
  t.equal(loadConfig({}).migrateOnBoot, true, 'npm start on a fresh machine migrates its embedded database')
  t.equal(loadConfig({ DATABASE_URL: 'postgres://localhost/tessera' }).migrateOnBoot, false, 'with DATABASE_URL a deployment migrates once')
  t.equal(loadConfig(production).migrateOnBoot, false)
  t.equal(loadConfig({ ...production, MIGRATE_ON_BOOT: 'true' }).migrateOnBoot, true, 'unless asked')
  t.equal(loadConfig({ MIGRATE_ON_BOOT: 'false' }).migrateOnBoot, false)
  t.throws(() => loadConfig({ MIGRATE_ON_BOOT: 'yes' }), /"MIGRATE_ON_BOOT" must be "true" or "false", got "yes"/)
  t.equal(loadConfig({}).migrationLockTimeoutMs, 2000)
  t.throws(() => loadConfig({ MIGRATION_LOCK_TIMEOUT_MS: '0' }), /"MIGRATION_LOCK_TIMEOUT_MS" must be a whole number from 10 to 600000/)
  t.throws(() => loadConfig({ NODE_ENV: 'production' }, { purpose: 'migrate' }), /"DATABASE_URL" must be set in production/)
  t.equal(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db.internal/tessera' }, { purpose: 'migrate' }).production, true, 'the migrate command needs no keys, staff key or public URL')
})

t.test('an instance on a database that is behind refuses to start and names the command; with MIGRATE_ON_BOOT it migrates; a newer database is fine', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  const config = loadConfig({ DATABASE_URL: db.url })
  await ensureSchema(config, db.url, db.sql, quiet)
  await db.sql`delete from schema_migrations where name = '0006_holder_portal.sql'`
  await t.rejects(ensureSchema(config, db.url, db.sql, quiet), /The database is behind this version: 1 migration\(s\) not applied \(0006_holder_portal\.sql\)\. Run `npm run db:migrate` \(in the image: `node dist\/cli\/migrate\.js`\)/)
  await db.sql`insert into schema_migrations (name) values ('0006_holder_portal.sql'), ('9999_from_a_newer_release.sql')`
  await ensureSchema(config, db.url, db.sql, quiet)
  t.pass('a migration this version does not know (a newer release applied it) does not stop it')

  const empty = await freshDatabase()
  t.teardown(empty.drop)
  await empty.sql.unsafe('drop schema public cascade; create schema public')
  await t.rejects(ensureSchema(config, empty.url, empty.sql, quiet), /The database is behind this version: \d+ migration\(s\) not applied \(0001_initial\.sql/)
  const logged: string[] = []
  await ensureSchema(loadConfig({ DATABASE_URL: empty.url, MIGRATE_ON_BOOT: 'true' }), empty.url, empty.sql, { info: (m) => { logged.push(m) }, warn: () => {} })
  t.match(logged[0], /^applied migrations: 0001_initial\.sql, /)
  t.same(await pendingMigrations(empty.sql), [])
})
