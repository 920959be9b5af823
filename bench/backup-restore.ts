/**
 * Times a backup and a restore of N credentials (default 100,000) on a real
 * PostgreSQL (embedded unless DATABASE_URL is set; the restore goes into a
 * new database on the same server). The first up to 1,000 are issued for
 * real through POST /api/v1/credentials/batch; the rest are copies of one of
 * them made in SQL (bench/preload.ts: badge, credential, signed version,
 * status entries), so every table holds what N issued credentials hold.
 * Prints the figures; asserts only that the restored row counts match.
 *   npx tsx bench/backup-restore.ts [N=100000]
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { makeBackup } from '../src/infrastructure/backup/make-backup.js'
import { restoreBackup } from '../src/infrastructure/backup/restore-backup.js'
import { connect } from '../src/infrastructure/db/connect.js'
import { startBenchService } from './harness.js'
import { preloadCredentials } from './preload.js'

const count = Number(process.argv[2] ?? 100_000)
const real = Math.min(count, 1000)
const passphrase = 'bench-backup-passphrase-0123456789'
const service = await startBenchService()
const work = await mkdtemp(path.join(os.tmpdir(), 'tessera-bench-backup-'))
const databaseUrl = service.config.databaseUrl ?? ''
// Copying 100,000 credentials in SQL takes longer than the pool's statement timeout.
const sql = connect(databaseUrl, { max: 4, statementTimeoutMs: 0 })
const seconds = (since: number): string => ((performance.now() - since) / 1000).toFixed(1)

try {
  let started = performance.now()
  const items = Array.from({ length: real }, (_, i) => ({ achievementId: service.achievementId, recipient: { name: `Bench Person ${i}`, email: `person${i}@example.com` } }))
  const response = await fetch(`${service.address}/api/v1/credentials/batch`, { method: 'POST', headers: service.headers, body: JSON.stringify({ items }) })
  if (response.status !== 207) throw new Error(`batch: ${response.status} ${await response.text()}`)
  const [template] = await sql<Array<{ id: string }>>`select id from credentials limit 1`
  console.log(`issued ${real} through the batch API in ${seconds(started)} s`)
  if (count > real) {
    started = performance.now()
    await preloadCredentials(sql, template!.id, count - real)
    console.log(`copied ${count - real} more in SQL in ${seconds(started)} s`)
  }
  const [{ n: credentials } = { n: 0 }] = await sql<Array<{ n: number }>>`select count(*)::int as n from credentials`
  const [{ size } = { size: '' }] = await sql<Array<{ size: string }>>`select pg_size_pretty(pg_database_size(current_database())) as size`
  console.log(`database: ${credentials} credentials, ${size}`)

  started = performance.now()
  const target = path.join(work, 'backup')
  const manifest = await makeBackup({ sql, keysDir: service.config.keysDir, passphrase, target })
  const backupSeconds = seconds(started)
  let bytes = 0
  for (const name of ['manifest.json', manifest.keys.file, ...(await readdir(path.join(target, 'tables'))).map((f) => `tables/${f}`)]) bytes += (await stat(path.join(target, name))).size
  const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0)
  console.log(`backup: ${backupSeconds} s, ${manifest.tables.length} tables, ${rows} rows, ${(bytes / 1e6).toFixed(1)} MB on disk`)

  const restoredName = `tessera_restore_bench_${process.pid}`
  await sql.unsafe(`create database ${restoredName}`)
  const url = new URL(databaseUrl)
  url.pathname = `/${restoredName}`
  const restoredSql = connect(url.href, { max: 4, statementTimeoutMs: 0 })
  try {
    started = performance.now()
    const restored = await restoreBackup({ databaseUrl: url.href, sql: restoredSql, keysDir: path.join(work, 'restored-keys'), passphrase, source: target })
    const restoreSeconds = seconds(started)
    const [{ n: after } = { n: 0 }] = await restoredSql<Array<{ n: number }>>`select count(*)::int as n from credentials`
    if (after !== credentials || restored.rows !== rows) throw new Error(`restored ${after} credentials (${restored.rows} rows); expected ${credentials} (${rows})`)
    console.log(`restore: ${restoreSeconds} s (hash check, migrations, load, indexes and constraints, sequences), ${after} credentials`)
  } finally {
    await restoredSql.end()
    await sql.unsafe(`drop database if exists ${restoredName} with (force)`)
  }
} finally {
  await sql.end()
  await service.close()
  await rm(work, { recursive: true, force: true })
}
