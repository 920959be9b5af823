import { createReadStream } from 'node:fs'
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import type { Sql } from 'postgres'
import { migrateDatabase, MIGRATIONS_DIR } from '../db/migrate.js'
import { openJobQueue } from '../jobs/job-queue.js'
import { BackupIntegrityError, readCheckedManifest, type Manifest } from './manifest.js'
import { manifestMac, openKeys, readKeyFolder, writeKeyFolder, type SealedKeys } from './sealed-keys.js'
import { copyIn, countRows, emptyTables, jobQueueVersion, listTables, restoreSequences } from './store.js'

export interface RestoreOptions {
  /** The database to restore into: new and empty (`createdb`), unless `force`. */
  databaseUrl: string
  sql: Sql
  keysDir: string
  passphrase: string | undefined
  /** The backup folder. */
  source: string
  /** Restore over a database that has tables and a key folder that has files (their rows are replaced; other key files stay). */
  force?: boolean
  /** Where this version's migrations are (tests). */
  migrationsDir?: string
}

export interface RestoreResult {
  manifest: Manifest
  rows: number
  /** Migrations of this version the backup predates, applied after its rows were loaded. */
  migratedAfter: string[]
}

/** A restore that would overwrite something, or cannot be done by this version: nothing was written. */
export class RestoreRefusedError extends Error {
  constructor (message: string) { super(message); this.name = 'RestoreRefusedError' }
}

const qualified = (t: { schema: string, name: string }): string => `${t.schema}.${t.name}`

/**
 * Restores a backup made by makeBackup: checks every part's sha256 and opens
 * the sealed keys first (nothing is written when either fails), refuses a
 * database that has tables or a key folder that has files unless forced,
 * builds the schema by this version's migrations up to the backup's level
 * (and pg-boss's schema), loads every table in foreign-key order in one
 * transaction, puts the sequences back, then applies the migrations the
 * backup predates and writes the key files.
 */
export async function restoreBackup (options: RestoreOptions): Promise<RestoreResult> {
  const manifest = await readCheckedManifest(options.source)
  if (options.passphrase === undefined || options.passphrase === '') throw new RestoreRefusedError('BACKUP_PASSPHRASE is not set: the backup\'s signing keys are sealed with the passphrase it was made with.')
  const sealed = JSON.parse(await readFile(path.join(options.source, manifest.keys.file), 'utf8')) as SealedKeys
  const { files: keyFiles, macKey } = await openKeys(sealed, options.passphrase)
  const { mac, ...unsigned } = manifest
  if (mac !== manifestMac(macKey, JSON.stringify(unsigned))) throw new BackupIntegrityError('The backup\'s manifest was altered: its HMAC does not match (the manifest was edited after the backup was made); nothing was restored.')

  if (options.force !== true) {
    if ((await readKeyFolder(options.keysDir)).length > 0) throw new RestoreRefusedError(`KEYS_DIR (${options.keysDir}) already holds key files: restore into an empty key folder, or pass --force to write the backup's keys beside them.`)
    const existing = await listTables(options.sql)
    if (existing.length > 0) throw new RestoreRefusedError(`The target database is not empty (it has ${existing.length} table(s), e.g. ${qualified(existing[0]!)}): restore into a new database (createdb), or pass --force to replace its rows.`)
  }

  const migrationsDir = options.migrationsDir ?? MIGRATIONS_DIR
  const known = new Set(await readdir(migrationsDir))
  const unknown = manifest.migrations.filter((m) => !known.has(m))
  if (unknown.length > 0) throw new RestoreRefusedError(`The backup was made by a newer version (migrations ${unknown.join(', ')} are not in this one): restore it with that version or a later one.`)

  // The schema as it was when the backup was made: only the migrations it had applied.
  const level = await mkdtemp(path.join(os.tmpdir(), 'tessera-restore-'))
  try {
    for (const name of manifest.migrations) await copyFile(path.join(migrationsDir, name), path.join(level, name))
    await migrateDatabase(options.databaseUrl, { dir: level })
  } finally {
    await rm(level, { recursive: true, force: true })
  }
  if (manifest.jobQueueVersion !== null) {
    const jobs = await openJobQueue(options.sql, { run: false })
    await jobs.stop()
    const version = await jobQueueVersion(options.sql)
    if (version !== manifest.jobQueueVersion) throw new RestoreRefusedError(`The backup's job queue is pg-boss schema ${manifest.jobQueueVersion}; this version has ${String(version)}: restore it with the version that made it.`)
  }

  let rows = 0
  await options.sql.begin(async (tx) => {
    const targetTables = await listTables(tx)
    const target = new Map(targetTables.map((t) => [qualified(t), t]))
    for (const part of manifest.tables) {
      const table = target.get(qualified(part))
      if (table === undefined) throw new RestoreRefusedError(`The backup's table ${qualified(part)} does not exist after migrating to its level.`)
      const missing = part.columns.filter((c) => !table.columns.includes(c))
      if (missing.length > 0) throw new RestoreRefusedError(`The backup's table ${qualified(part)} has columns the schema lacks: ${missing.join(', ')}.`)
    }
    // Rows the migrations (or pg-boss) made go: the snapshot's replace them.
    await emptyTables(tx, targetTables)
    const parts = new Map(manifest.tables.map((p) => [qualified(p), p]))
    for (const table of targetTables) {
      const part = parts.get(qualified(table))
      if (part === undefined) continue
      await pipeline(createReadStream(path.join(options.source, part.file)), createGunzip(), await copyIn(tx, { ...table, columns: part.columns }))
      const count = await countRows(tx, table)
      if (count !== part.rows) throw new BackupIntegrityError(`${qualified(table)} loaded ${count} rows; the manifest says ${part.rows}.`)
      rows += part.rows
    }
    await restoreSequences(tx, manifest.sequences)
  })

  const { applied } = await migrateDatabase(options.databaseUrl, { dir: migrationsDir })
  await writeKeyFolder(options.keysDir, keyFiles)
  return { manifest, rows, migratedAfter: applied }
}
