/**
 * `npm run restore -- <folder> [--force]` (compiled: `node dist/cli/restore.js`):
 * restores a backup made by `npm run backup` into DATABASE_URL (a new, empty
 * database: `createdb`) and KEYS_DIR (an empty folder), opening the keys with
 * BACKUP_PASSPHRASE. Every part's sha256 is checked first. `--force` restores
 * over a database with tables (its rows are replaced) and a key folder with
 * files (the backup's are written beside them). Start the service after it.
 */
import { parseArgs } from 'node:util'
import { loadConfigOrExit } from '../kernel/config.js'
import { restoreBackup } from '../infrastructure/backup/restore-backup.js'
import { cliDatabase } from './database.js'

async function main (argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { force: { type: 'boolean' } } })
  const [source] = positionals
  if (source === undefined || positionals.length !== 1) {
    console.error('usage: npm run restore -- <backup folder> [--force]   (DATABASE_URL: the new database; KEYS_DIR: an empty folder; BACKUP_PASSPHRASE)')
    process.exitCode = 2
    return
  }
  const config = loadConfigOrExit(process.env, { purpose: 'migrate' })
  const db = await cliDatabase(config, { create: true })
  try {
    const started = Date.now()
    const { manifest, rows, migratedAfter } = await restoreBackup({ databaseUrl: db.url, sql: db.sql, keysDir: config.keysDir, passphrase: config.backupPassphrase, source, force: values.force === true })
    console.log(`restored ${source} (made ${manifest.createdAt}): ${manifest.tables.length} tables, ${rows} rows, ${manifest.keys.count} key file(s) into ${config.keysDir}, in ${((Date.now() - started) / 1000).toFixed(1)} s${migratedAfter.length > 0 ? `; then applied ${migratedAfter.join(', ')}` : ''}`)
  } finally {
    await db.close()
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`restore: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
