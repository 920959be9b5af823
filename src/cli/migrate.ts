/**
 * `npm run db:migrate` (compiled: `node dist/cli/migrate.js`, as the image
 * runs it): applies pending migrations to DATABASE_URL (or, in development,
 * the embedded database under DATA_DIR), once per deployment, before the new
 * version's instances start. Its own connection: no statement timeout, a lock
 * timeout of MIGRATION_LOCK_TIMEOUT_MS. Needs only DATABASE_URL, even in
 * production: no signing keys or staff key in a migration job.
 */
import { loadConfigOrExit } from '../kernel/config.js'
import { migrateDatabase } from '../infrastructure/db/migrate.js'
import { cliDatabase } from './database.js'

async function main (): Promise<void> {
  const config = loadConfigOrExit(process.env, { purpose: 'migrate' })
  const db = await cliDatabase(config, { create: true })
  try {
    // The command's pool stays idle: the migrations run on a connection of their own.
    const { applied, alreadyApplied } = await migrateDatabase(db.url, { lockTimeoutMs: config.migrationLockTimeoutMs })
    console.log(applied.length === 0 ? `Up to date (${alreadyApplied} migrations applied before).` : `Applied: ${applied.join(', ')}`)
  } finally {
    await db.close()
  }
}

main().catch((error: unknown) => {
  console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
