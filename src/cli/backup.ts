/**
 * `npm run backup -- <folder>` (compiled: `node dist/cli/backup.js <folder>`):
 * one consistent backup of the database (DATABASE_URL, or the embedded one
 * under DATA_DIR) and the signing keys (KEYS_DIR), sealed with
 * BACKUP_PASSPHRASE, into a new folder. The service keeps running: the
 * tables are read from one snapshot. Restore with `npm run restore`.
 */
import { loadConfigOrExit } from '../kernel/config.js'
import { makeBackup } from '../infrastructure/backup/make-backup.js'
import { cliDatabase } from './database.js'

async function main (argv: string[]): Promise<void> {
  const [target] = argv
  if (target === undefined || argv.length !== 1) {
    console.error('usage: npm run backup -- <new folder>   (BACKUP_PASSPHRASE seals the signing keys)')
    process.exitCode = 2
    return
  }
  const config = loadConfigOrExit(process.env, { purpose: 'migrate' })
  const db = await cliDatabase(config)
  try {
    const started = Date.now()
    const manifest = await makeBackup({ sql: db.sql, keysDir: config.keysDir, passphrase: config.backupPassphrase, target })
    const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0)
    const bytes = manifest.tables.reduce((sum, t) => sum + t.bytes, 0) + manifest.keys.bytes
    console.log(`backup ${target}: ${manifest.tables.length} tables, ${rows} rows, ${manifest.keys.count} key file(s) sealed, ${(bytes / 1e6).toFixed(1)} MB, migration ${manifest.migrations.at(-1) ?? 'none'}, in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    await db.close()
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`backup: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
