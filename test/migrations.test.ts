import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { migrate, MIGRATIONS_DIR } from '../src/infrastructure/db/migrate.js'
import { freshDatabase } from './helpers/database.js'

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
  await migrate(db.sql, onlyFirst)
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
