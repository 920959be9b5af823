import { spawn } from 'node:child_process'
import { cp, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import * as vc from '@digitalbazaar/vc'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { prepareService } from '../../src/boot.js'
import { resignExpiringStatusLists } from '../../src/capabilities/status-lists/refresh-task.js'
import { makeBackup } from '../../src/infrastructure/backup/make-backup.js'
import { BackupIntegrityError, hashFile } from '../../src/infrastructure/backup/manifest.js'
import { restoreBackup, RestoreRefusedError } from '../../src/infrastructure/backup/restore-backup.js'
import { BackupPassphraseError } from '../../src/infrastructure/backup/sealed-keys.js'
import { connect } from '../../src/infrastructure/db/connect.js'
import { startEmbeddedPostgres } from '../../src/infrastructure/db/embedded.js'
import { loadConfig } from '../../src/kernel/config.js'
import { ADMIN_KEY, BASE_URL, build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { testDataIntegrity } from '../helpers/data-integrity.js'
import { publishedDocumentLoader } from '../helpers/independent-checks.js'

const PASSPHRASE = 'correct horse battery staple'
const CMA_RULES = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }

interface Version { label: string, credential: Record<string, unknown>, jwt: string }
interface Outcome { label: string, form: string, statusCode: number, status: string, revoked: boolean }

async function outcomes (app: FastifyInstance, versions: Version[]): Promise<Outcome[]> {
  const result: Outcome[] = []
  for (const v of versions) {
    for (const [form, document] of [['json', v.credential], ['jwt', v.jwt]] as const) {
      const response = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: document } })
      const body = response.json()
      result.push({ label: v.label, form, statusCode: response.statusCode, status: body.status, revoked: body.revoked })
    }
  }
  return result
}

const post = async (app: TestApp, url: string, payload: Record<string, unknown>): Promise<Record<string, any>> => {
  const response = await app.app.inject({ method: 'POST', url, headers: app.auth, payload })
  if (response.statusCode >= 300) throw new Error(`${url}: ${response.statusCode} ${response.body}`)
  return response.json()
}

t.test('a backup restored into a fresh embedded PostgreSQL and key folder verifies everything as before, re-signs its status lists and keeps the audit trail', async (t) => {
  let now = new Date('2021-06-30T00:00:00Z')
  const clock = (): Date => now
  const source = await build(t, { clock })
  const work = await mkdtemp(path.join(os.tmpdir(), 'tessera-backup-test-'))
  t.teardown(async () => { await rm(work, { recursive: true, force: true }) })

  // Issue, revoke one, correct one, recertify one.
  const achievement = await createAchievement(source, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  const versions: Version[] = []
  const issued = []
  for (const name of ['Ana Ruiz', 'Ben Ode', 'Cy Tran', 'Dee Marsh', 'Eve Lund']) {
    const one = await issue(source, { achievementId: achievement.id, recipient: { name, email: `${name.split(' ')[0]!.toLowerCase()}@example.org` } })
    issued.push(one)
    versions.push({ label: `${name} v1`, credential: one.credential, jwt: one.jwt })
  }
  now = new Date('2022-01-10T10:00:00Z')
  await post(source, `/api/v1/credentials/${issued[1]!.id}/revoke`, { reason: 'Issued to the wrong person' })
  const corrected = await post(source, `/api/v1/credentials/${issued[2]!.id}/reissue`, { reason: 'correction', recipient: { name: 'Cy Tranh' } })
  versions.push({ label: 'Cy Tranh v2 (correction)', credential: corrected.credential, jwt: corrected.jwt })
  now = new Date('2026-05-01T12:00:00Z')
  const renewed = await post(source, `/api/v1/credentials/${issued[3]!.id}/recertify`, { method: 'continuing-education', points: { total: 60, approved: 30 } })
  versions.push({ label: 'Dee Marsh v2 (recertification)', credential: renewed.credential, jwt: renewed.jwt })
  now = new Date('2026-05-02T00:00:00Z')

  const before = await outcomes(source.app, versions)
  t.same([...new Set(before.map((o) => o.status))].sort(), ['revoked', 'superseded', 'valid'], 'the source answers valid, revoked and superseded')
  const auditBefore = await source.sql`select * from audit_events order by occurred_at, id`
  t.ok(auditBefore.length >= 8, `the audit trail has the issuances and changes (${auditBefore.length} rows)`)
  const pendingJobsBefore = await source.sql`select name, data from pgboss.job where state = 'created' order by name, id`

  // Back up while the service runs.
  const backupDir = path.join(work, 'backup')
  const manifest = await makeBackup({ sql: source.sql, keysDir: source.config.keysDir, passphrase: PASSPHRASE, target: backupDir, now })
  t.same(manifest.migrations, (await source.sql<Array<{ name: string }>>`select name from schema_migrations order by name`).map((r) => r.name), 'the manifest names the migration level')
  t.equal(manifest.tables.find((p) => p.schema === 'public' && p.name === 'credential_versions')?.rows, 7, 'seven credential versions: five issued, a correction, a recertification')
  t.equal(manifest.tables.find((p) => p.schema === 'public' && p.name === 'audit_events')?.rows, auditBefore.length)
  t.ok(manifest.tables.some((p) => p.schema === 'pgboss'), 'pg-boss\'s tables are in it')
  t.equal(manifest.keys.count, (await readdir(source.config.keysDir)).length, 'every key file is sealed in it')
  t.notMatch(JSON.stringify(await readdir(backupDir)) + await readFileText(path.join(backupDir, manifest.keys.file)), /secretKeyMultibase|"d":/, 'no private key in the clear')
  t.equal(((await stat(path.join(backupDir, manifest.keys.file))).mode & 0o077), 0, 'the sealed keys are readable by the owner only')

  // A fresh PostgreSQL from the embedded binaries, and a fresh key folder.
  const cluster = await startEmbeddedPostgres(path.join(work, 'pg'), { throwaway: true })
  t.teardown(async () => { await cluster.stop() })
  const admin = connect(cluster.url, { max: 1 })
  t.teardown(async () => { await admin.end() })
  const urlOf = (name: string): string => { const u = new URL(cluster.url); u.pathname = `/${name}`; return u.href }
  const fresh = async (name: string): Promise<{ url: string, sql: ReturnType<typeof connect> }> => {
    await admin.unsafe(`create database ${name}`)
    const sql = connect(urlOf(name), { max: 4 })
    t.teardown(async () => { await sql.end({ timeout: 5 }) })
    return { url: urlOf(name), sql }
  }

  // Refusals first: nothing is written when the passphrase is wrong or a part was altered.
  const wrong = await fresh('wrong_passphrase')
  await t.rejects(restoreBackup({ databaseUrl: wrong.url, sql: wrong.sql, keysDir: path.join(work, 'wrong-keys'), passphrase: 'not the passphrase at all', source: backupDir }),
    { name: BackupPassphraseError.name, message: /BACKUP_PASSPHRASE does not open the backup's signing keys/ })
  t.same(await wrong.sql`select 1 from pg_tables where schemaname = 'public'`, [], 'the database was left untouched')
  await t.rejects(stat(path.join(work, 'wrong-keys')), { code: 'ENOENT' }, 'and no key folder written')
  await t.rejects(restoreBackup({ databaseUrl: wrong.url, sql: wrong.sql, keysDir: path.join(work, 'wrong-keys'), passphrase: undefined, source: backupDir }), { name: RestoreRefusedError.name, message: /BACKUP_PASSPHRASE is not set/ })

  const tampered = path.join(work, 'tampered')
  await cp(backupDir, tampered, { recursive: true })
  const part = manifest.tables.find((p) => p.name === 'credential_versions')!
  const handle = await open(path.join(tampered, part.file), 'r+')
  const byte = Buffer.alloc(1)
  await handle.read(byte, 0, 1, 40)
  await handle.write(Buffer.from([byte[0]! ^ 0x01]), 0, 1, 40)
  await handle.close()
  await t.rejects(restoreBackup({ databaseUrl: wrong.url, sql: wrong.sql, keysDir: path.join(work, 'wrong-keys'), passphrase: PASSPHRASE, source: tampered }),
    { name: BackupIntegrityError.name, message: `The backup is damaged: ${part.file} does not match the sha256 in its manifest` })
  const edited = JSON.parse(await readFileText(path.join(tampered, 'manifest.json')))
  edited.tables.find((p: { file: string }) => p.file === part.file).sha256 = (await hashFile(path.join(tampered, part.file))).sha256
  await writeFile(path.join(tampered, 'manifest.json'), JSON.stringify(edited, null, 2))
  await t.rejects(restoreBackup({ databaseUrl: wrong.url, sql: wrong.sql, keysDir: path.join(work, 'wrong-keys'), passphrase: PASSPHRASE, source: tampered }),
    { name: BackupIntegrityError.name, message: 'The backup\'s manifest was altered: its HMAC does not match' }, 'a part altered with its sha256 updated in the manifest fails the manifest\'s HMAC')
  t.same(await wrong.sql`select 1 from pg_tables where schemaname = 'public'`, [], 'still untouched')

  // The restore.
  const target = await fresh('restored')
  const dataDir = path.join(work, 'restored-data')
  const env = {
    PUBLIC_BASE_URL: BASE_URL,
    DATABASE_URL: target.url,
    DATA_DIR: dataDir,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ISSUER_NAME: 'American Association of Medical Assistants',
    ISSUER_URL: 'https://www.aama-ntl.org',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    RATE_LIMIT_VERIFY_PER_MINUTE: '1000000',
    WORKER: 'off'
  }
  const config = loadConfig(env)
  const restored = await restoreBackup({ databaseUrl: target.url, sql: target.sql, keysDir: config.keysDir, passphrase: PASSPHRASE, source: backupDir })
  t.equal(restored.rows, manifest.tables.reduce((sum, p) => sum + p.rows, 0), 'every row loaded')
  t.same(restored.migratedAfter, [], 'the backup was at this version\'s level')
  t.same((await readdir(config.keysDir)).sort(), (await readdir(source.config.keysDir)).sort(), 'the key files are back')
  t.equal(((await stat(path.join(config.keysDir, (await readdir(config.keysDir))[0]!))).mode & 0o077), 0, 'private to their owner')

  await t.rejects(restoreBackup({ databaseUrl: target.url, sql: target.sql, keysDir: path.join(work, 'other-keys'), passphrase: PASSPHRASE, source: backupDir }),
    { name: RestoreRefusedError.name, message: /The target database is not empty/ }, 'a second restore over it is refused')
  const another = await fresh('another')
  await t.rejects(restoreBackup({ databaseUrl: another.url, sql: another.sql, keysDir: config.keysDir, passphrase: PASSPHRASE, source: backupDir }),
    { name: RestoreRefusedError.name, message: /already holds key files/ }, 'as is one into a key folder that has keys')

  const auditAfter = await target.sql`select * from audit_events order by occurred_at, id`
  t.same(JSON.parse(JSON.stringify(auditAfter)), JSON.parse(JSON.stringify(auditBefore)), 'the audit trail is the same, row for row')
  t.same(JSON.parse(JSON.stringify(await target.sql`select name, data from pgboss.job where state = 'created' order by name, id`)), JSON.parse(JSON.stringify(pendingJobsBefore)), 'the events not yet delivered wait in the queue')

  // A second app on the restored database and keys.
  const keyRing = await prepareService(config, target.sql, { info: () => {}, warn: () => {} })
  const app = await buildApp({ config, sql: target.sql, keyRing, clock, logger: false, ...testDataIntegrity() })
  t.teardown(async () => { await app.close() })
  t.same(await outcomes(app, versions), before, 'every version of every credential verifies with the same status, JSON and JWT')
  const next = await app.inject({ method: 'POST', url: '/api/v1/credentials', headers: { authorization: `Bearer ${ADMIN_KEY}` }, payload: { achievementId: achievement.id, recipient: { name: 'Fay Oak', email: 'fay@example.org' } } })
  t.equal(next.statusCode, 201, 'the restored service issues (its sequences and status lists carry on)')
  const auditIds = auditBefore.map((r) => String(r.id))
  const [newest] = await target.sql`select id from audit_events order by occurred_at desc, id desc limit 1`
  t.notOk(auditIds.includes(String(newest!.id)), 'with a new audit row, not a reused one')

  // Its status lists are re-signed with the restored keys.
  const listUrl = new URL(issued[1]!.credential.credentialStatus.statusListCredential as string).pathname
  const listBefore = (await app.inject({ method: 'GET', url: listUrl })).json()
  now = new Date(new Date(listBefore.validUntil as string).getTime() - 5 * 86_400_000)
  t.ok(await resignExpiringStatusLists({ sql: target.sql, keyRing, urls: app.urls, now, changes: app.changes }) >= 1, 'the status list was re-signed')
  const listAfter = (await app.inject({ method: 'GET', url: listUrl })).json()
  t.not(listAfter.validUntil, listBefore.validUntil, 'with a new validity')
  t.equal(listAfter.credentialSubject.encodedList, listBefore.credentialSubject.encodedList, 'and the same bits')
  const check = await vc.verifyCredential({
    credential: listAfter,
    suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
    documentLoader: publishedDocumentLoader({ app } as unknown as TestApp),
    now,
    checkStatus: async () => ({ verified: true })
  })
  t.ok(check.verified, `the re-signed list's proof verifies against the published keys (@digitalbazaar/vc): ${JSON.stringify(check.error ?? '')}`)
  const afterResign = await outcomes(app, versions.slice(0, 2))
  t.same(afterResign.map((o) => o.status), ['valid', 'valid', 'revoked', 'revoked'], 'and the credentials it covers answer as before')
})

t.test('no backup without a passphrase to seal the keys', async (t) => {
  const source = await build(t)
  const work = await mkdtemp(path.join(os.tmpdir(), 'tessera-backup-test-'))
  t.teardown(async () => { await rm(work, { recursive: true, force: true }) })
  await t.rejects(makeBackup({ sql: source.sql, keysDir: source.config.keysDir, passphrase: undefined, target: path.join(work, 'b') }), { message: /BACKUP_PASSPHRASE is not set/ })
  await t.rejects(stat(path.join(work, 'b')), { code: 'ENOENT' }, 'and nothing was written')
})

async function readFileText (file: string): Promise<string> {
  const { readFile } = await import('node:fs/promises')
  return await readFile(file, 'utf8')
}

t.test('npm run backup and npm run restore: the commands, their output and exit codes', async (t) => {
  const source = await build(t)
  await createAchievement(source)
  const work = await mkdtemp(path.join(os.tmpdir(), 'tessera-backup-cli-'))
  t.teardown(async () => { await rm(work, { recursive: true, force: true }) })
  const serverUrl = process.env.TESSERA_TEST_SERVER_URL ?? ''
  const admin = connect(serverUrl, { max: 1 })
  const name = `tessera_restore_cli_${process.pid}`
  await admin.unsafe(`create database ${name}`)
  t.teardown(async () => { await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end() })
  const target = new URL(serverUrl)
  target.pathname = `/${name}`
  const run = async (command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL(`../../src/cli/${command}.ts`, import.meta.url).pathname, ...args], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    return { code, stdout, stderr }
  }
  const backupDir = path.join(work, 'backup')
  const sourceEnv = { DATABASE_URL: source.config.databaseUrl ?? '', KEYS_DIR: source.config.keysDir, DATA_DIR: work }

  const refused = await run('backup', [backupDir], sourceEnv)
  t.equal(refused.code, 1)
  t.match(refused.stderr, 'backup: BACKUP_PASSPHRASE is not set')
  const made = await run('backup', [backupDir], { ...sourceEnv, BACKUP_PASSPHRASE: PASSPHRASE })
  t.equal(made.code, 0, made.stderr)
  t.match(made.stdout, /^backup .*: \d+ tables, \d+ rows, 2 key file\(s\) sealed, .* MB, migration 00\d\d_\w+\.sql, in [\d.]+ s$/m)

  const restoreEnv = { DATABASE_URL: target.href, KEYS_DIR: path.join(work, 'restored-keys'), DATA_DIR: work, BACKUP_PASSPHRASE: PASSPHRASE }
  const restored = await run('restore', [backupDir], restoreEnv)
  t.equal(restored.code, 0, restored.stderr)
  t.match(restored.stdout, /^restored .* \(made [\d-]+T[\d:.]+Z\): \d+ tables, \d+ rows, 2 key file\(s\) into .*restored-keys, in [\d.]+ s$/m)
  const restoredSql = connect(target.href, { max: 1 })
  const [achievements] = await restoredSql`select count(*)::int as n from achievements`
  await restoredSql.end()
  t.equal(achievements?.n, 1, 'the restored database has the achievement')
  const again = await run('restore', [backupDir], { ...restoreEnv, KEYS_DIR: path.join(work, 'other-keys') })
  t.equal(again.code, 1)
  t.match(again.stderr, 'restore: The target database is not empty')
  const usage = await run('restore', [], restoreEnv)
  t.equal(usage.code, 2)
  t.match(usage.stderr, 'usage: npm run restore -- <backup folder> [--force]')
})
