import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres, { type Sql } from 'postgres'
import { DEFAULT_MIGRATION_LOCK_TIMEOUT_MS } from '../../kernel/config.js'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url))

// An arbitrary constant shared by every Tessera process: holders of this
// advisory lock are the only ones applying migrations at that moment.
const MIGRATION_LOCK_KEY = 0x7e55e4a

/** Tries per migration when its lock wait times out, with a doubling pause between them (1 s, 2 s, 4 s, 8 s). */
const LOCK_ATTEMPTS = 5

export interface MigrationResult { applied: string[], alreadyApplied: number }

export interface MigrateOptions {
  /** The folder of `NNNN_name.sql` files (tests use their own). */
  dir?: string
  lockTimeoutMs?: number
  /** Tries per migration when a lock wait times out (default 5). */
  attempts?: number
}

/** The migration files of this version, in order. */
async function migrationFiles (dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort()
}

async function appliedMigrations (sql: Sql): Promise<Set<string>> {
  const [table] = await sql<Array<{ exists: boolean }>>`select to_regclass('schema_migrations') is not null as exists`
  if (table?.exists !== true) return new Set()
  return new Set((await sql<Array<{ name: string }>>`select name from schema_migrations`).map((r) => r.name))
}

/**
 * The migrations of this version that the database has not applied. Names the
 * database knows and this version does not are fine: a newer release applied
 * them, and under the expand/contract rule (README) the older code still runs.
 */
export async function pendingMigrations (sql: Sql, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const done = await appliedMigrations(sql)
  return (await migrationFiles(dir)).filter((f) => !done.has(f))
}

const isLockTimeout = (error: unknown): boolean => (error as { code?: unknown }).code === '55P03'

/**
 * Applies the forward-only migrations in `migrations/NNNN_name.sql` that this
 * database has not seen, in order, each in its own transaction. Each
 * transaction first takes a transaction-scoped advisory lock (two processes
 * migrating at once take turns; the second finds the work done), then runs
 * with no statement timeout (a data migration may take minutes) and with a
 * short lock timeout (see DEFAULT_MIGRATION_LOCK_TIMEOUT_MS), both local to
 * the transaction, so they hold on any connection and leak to none.
 */
export async function migrate (sql: Sql, options: MigrateOptions = {}): Promise<MigrationResult> {
  const dir = options.dir ?? MIGRATIONS_DIR
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_MIGRATION_LOCK_TIMEOUT_MS
  const attempts = options.attempts ?? LOCK_ATTEMPTS
  const files = await migrationFiles(dir)
  const before = await appliedMigrations(sql)
  const applied: string[] = []
  for (const file of files) {
    if (before.has(file)) continue
    const text = await readFile(path.join(dir, file), 'utf8')
    for (let attempt = 1; ; attempt++) {
      try {
        const ran = await sql.begin(async (tx) => {
          await tx`select set_config('statement_timeout', '0', true)`
          // Waiting for another migrating process is not waiting on the service: no lock timeout yet.
          await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`
          await tx`
            create table if not exists schema_migrations (
              name text primary key,
              applied_at timestamptz not null default now()
            )`
          if ((await tx`select 1 from schema_migrations where name = ${file}`).length > 0) return false
          await tx`select set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`
          await tx.unsafe(text)
          await tx`insert into schema_migrations (name) values (${file})`
          return true
        })
        if (ran) applied.push(file)
        break
      } catch (error) {
        if (isLockTimeout(error) && attempt < attempts) {
          await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** (attempt - 1)))
          continue
        }
        const why = isLockTimeout(error)
          ? `waited more than ${lockTimeoutMs} ms for a table lock ${attempts} time(s) (a long transaction holds it); nothing of it was applied. Run the migration again when the database is quieter, or raise MIGRATION_LOCK_TIMEOUT_MS`
          : (error as Error).message
        throw new Error(`Migration ${file} failed: ${why}`, { cause: error })
      }
    }
  }
  return { applied, alreadyApplied: before.size }
}

/**
 * Migrates the database at `databaseUrl` on a connection of its own
 * (`application_name` tessera-migrate), never through the service's pool, and
 * closes it. The URL may be a pooler in transaction mode: nothing here needs
 * the session to last between transactions (the lock, the statement and lock
 * timeouts are all local to each migration's transaction), no statement is
 * prepared, and the only startup parameter is the application name.
 */
export async function migrateDatabase (databaseUrl: string, options: MigrateOptions = {}): Promise<MigrationResult> {
  const sql = postgres(databaseUrl, {
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
    // A handful of statements per run: preparing them would save nothing, and breaks behind a pooler.
    prepare: false,
    connection: { application_name: 'tessera-migrate' }
  })
  try {
    return await migrate(sql, options)
  } finally {
    await sql.end({ timeout: 5 })
  }
}
