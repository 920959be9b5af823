import type { Sql } from 'postgres'
import type { Config } from './kernel/config.js'
import { SCOPES } from './capabilities/staff-access/bearer-auth.js'
import { upsertBootstrapKey } from './capabilities/staff-access/store.js'
import { migrateDatabase, pendingMigrations } from './infrastructure/db/migrate.js'
import { upsertIssuer } from './capabilities/issuers/store.js'
import { generateKeySet, readKeyFiles, writeKeyFiles } from './capabilities/keys/key-files.js'
import { loadKeyRing, type KeyRing } from './capabilities/keys/key-ring.js'
import { publicUrls } from './kernel/public-urls.js'
import { seedRecognisedIssuers } from './capabilities/registry/service.js'

export interface BootLog {
  info: (message: string) => void
  warn: (message: string) => void
}

/** How an operator applies migrations, as the messages name it. */
export const MIGRATE_COMMAND = '`npm run db:migrate` (in the image: `node dist/cli/migrate.js`)'

/**
 * The schema this version needs, before anything else touches the database.
 * With MIGRATE_ON_BOOT (by default only on the embedded development database)
 * pending migrations are applied here, on a connection of their own; otherwise
 * a deployment migrates once, before its instances start, and an instance on
 * a database that is behind refuses to start, naming the command.
 */
export async function ensureSchema (config: Config, databaseUrl: string, sql: Sql, log: BootLog): Promise<void> {
  if (config.migrateOnBoot) {
    const { applied } = await migrateDatabase(databaseUrl, { lockTimeoutMs: config.migrationLockTimeoutMs })
    if (applied.length > 0) log.info(`applied migrations: ${applied.join(', ')}`)
    return
  }
  const pending = await pendingMigrations(sql)
  if (pending.length > 0) {
    throw new Error(`The database is behind this version: ${pending.length} migration(s) not applied (${pending.join(', ')}). Run ${MIGRATE_COMMAND} once for this deployment, or set MIGRATE_ON_BOOT=true.`)
  }
}

/**
 * Brings a migrated database and key folder to a serving state: the
 * configured issuer present, key files published and loaded. When no KEYS_DIR
 * is configured and the issuer has no keys, development keys are generated
 * under DATA_DIR with a loud warning.
 */
export async function prepareService (config: Config, sql: Sql, log: BootLog): Promise<KeyRing> {
  const { issuer } = config
  await upsertIssuer(sql, { id: issuer.id, name: issuer.name, url: issuer.url ?? null, email: issuer.email ?? null, description: issuer.description ?? null })
  // The bootstrap key gets a row too, so the audit trail and the key list name it.
  if (config.adminApiKey !== undefined) await upsertBootstrapKey(sql, SCOPES)
  // TRUSTED_ISSUERS seeds the registry of recognised issuers; staff manage it from then on.
  const seeded = await seedRecognisedIssuers(sql, config.trustedIssuers)
  if (seeded.added.length > 0) log.info(`recognised issuers added from TRUSTED_ISSUERS: ${seeded.added.map((row) => row.matcher).join(', ')}`)
  for (const row of seeded.keptRemoved) log.warn(`TRUSTED_ISSUERS lists ${row.matcher}, which ${row.removedBy ?? '?'} removed from the registry of recognised issuers on ${row.removedAt?.toISOString() ?? '?'}: it stays removed (add it again through POST /api/v1/registry/issuers, or drop it from TRUSTED_ISSUERS).`)

  let files = await readKeyFiles(config.keysDir)
  if (!files.some((f) => f.issuer === issuer.id && f.status === 'active')) {
    if (config.keysDirConfigured || config.production) {
      throw new Error(`KEYS_DIR (${config.keysDir}) holds no active keys for issuer "${issuer.id}". Run \`npm run keys:generate\` with KEYS_DIR set.`)
    }
    const written = await writeKeyFiles(config.keysDir, await generateKeySet(issuer.id))
    log.warn('*'.repeat(78))
    log.warn(`DEVELOPMENT KEYS generated for issuer "${issuer.id}": ${written.join(', ')}`)
    log.warn('Credentials signed with them are only as safe as that folder. Set KEYS_DIR to real keys in production.')
    log.warn('*'.repeat(78))
    files = await readKeyFiles(config.keysDir)
  }
  return await loadKeyRing(sql, publicUrls(config.publicBaseUrl), config.keysDir)
}
