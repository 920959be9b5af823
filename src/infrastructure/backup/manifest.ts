import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { SequenceState } from './store.js'

/**
 * A backup is one folder:
 *   manifest.json                      this description
 *   tables/NNN-<schema>.<table>.copy.gz  each table's rows, COPY text format, gzip
 *   keys.sealed.json                   the key files, sealed with BACKUP_PASSPHRASE
 * Every part's sha256 is in the manifest, and the manifest carries an HMAC keyed by the
 * passphrase; restore checks them all before it writes anything.
 */
export const BACKUP_FORMAT = 'tessera-backup-1'
export const MANIFEST_FILE = 'manifest.json'

export interface TablePart {
  schema: string
  name: string
  columns: string[]
  rows: number
  file: string
  bytes: number
  sha256: string
}

export interface Manifest {
  format: typeof BACKUP_FORMAT
  createdAt: string
  /** The server the snapshot was taken from (`server_version`). */
  postgres: string
  /** schema_migrations of the snapshot, in order: the migration level. */
  migrations: string[]
  /** pg-boss's schema version, when the database has its schema. */
  jobQueueVersion: number | null
  tables: TablePart[]
  sequences: SequenceState[]
  keys: { file: string, bytes: number, sha256: string, count: number }
  /** HMAC-SHA256 (key from BACKUP_PASSPHRASE, see sealed-keys.ts) of this manifest's JSON without `mac`. */
  mac: string
}

export class BackupIntegrityError extends Error {
  constructor (message: string) { super(message); this.name = 'BackupIntegrityError' }
}

/** sha256 and size of a file, streamed. */
export async function hashFile (file: string): Promise<{ sha256: string, bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer)
    bytes += (chunk as Buffer).length
  }
  return { sha256: hash.digest('hex'), bytes }
}

/** Reads a backup's manifest and checks the sha256 of every part it names (a part altered, cut short or missing fails here). */
export async function readCheckedManifest (dir: string): Promise<Manifest> {
  let manifest: Manifest
  try {
    manifest = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as Manifest
  } catch (error) {
    throw new BackupIntegrityError(`${dir} is not a Tessera backup: its ${MANIFEST_FILE} cannot be read (${(error as Error).message}).`)
  }
  if (manifest.format !== BACKUP_FORMAT) throw new BackupIntegrityError(`${dir} is in backup format "${String(manifest.format)}"; this version reads "${BACKUP_FORMAT}".`)
  for (const part of [...manifest.tables, manifest.keys]) {
    if (part.file.includes('..') || path.isAbsolute(part.file)) throw new BackupIntegrityError(`The manifest names a part outside the backup: ${part.file}.`)
    let actual: { sha256: string, bytes: number }
    try {
      actual = await hashFile(path.join(dir, part.file))
    } catch {
      throw new BackupIntegrityError(`The backup is incomplete: ${part.file} is missing.`)
    }
    if (actual.sha256 !== part.sha256 || actual.bytes !== part.bytes) {
      throw new BackupIntegrityError(`The backup is damaged: ${part.file} does not match the sha256 in its manifest (altered or cut short); nothing was restored.`)
    }
  }
  return manifest
}
