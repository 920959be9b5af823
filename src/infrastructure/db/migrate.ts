import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sql } from 'postgres'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url))

// An arbitrary constant shared by every Tessera process: holders of this
// advisory lock are the only ones applying migrations at that moment.
const MIGRATION_LOCK_KEY = 0x7e55e4a

export interface MigrationResult { applied: string[], alreadyApplied: number }

/**
 * Applies the forward-only migrations in `migrations/NNNN_name.sql` that this
 * database has not seen, in order, each in its own transaction, under a
 * session advisory lock so that two processes starting together do not collide.
 */
export async function migrate (sql: Sql, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort()
  // reserve() pins one connection: advisory locks belong to a session.
  const conn = await sql.reserve()
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    try {
      await conn`
        create table if not exists schema_migrations (
          name text primary key,
          applied_at timestamptz not null default now()
        )`
      const done = new Set((await conn<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name))
      const applied: string[] = []
      for (const file of files) {
        if (done.has(file)) continue
        const text = await readFile(path.join(dir, file), 'utf8')
        // A reserved connection has no begin(): run the transaction by hand.
        await conn.unsafe('begin')
        try {
          await conn.unsafe(text)
          await conn`insert into schema_migrations (name) values (${file})`
          await conn.unsafe('commit')
        } catch (error) {
          await conn.unsafe('rollback')
          throw new Error(`Migration ${file} failed: ${(error as Error).message}`, { cause: error })
        }
        applied.push(file)
      }
      return { applied, alreadyApplied: done.size }
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`
    }
  } finally {
    conn.release()
  }
}
