import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Sql } from 'postgres'
import type { Config } from '../kernel/config.js'
import { connect } from '../infrastructure/db/connect.js'

/**
 * The database an admin command works on: DATABASE_URL when set; otherwise
 * the embedded PostgreSQL of `npm start` (found through its postmaster.pid
 * while it runs, or started for the command and stopped after).
 */
export async function cliDatabase (config: Config): Promise<{ url: string, sql: Sql, close: () => Promise<void> }> {
  if (config.databaseUrl !== undefined) {
    const sql = connect(config.databaseUrl, { max: 2 })
    return { url: config.databaseUrl, sql, close: async () => { await sql.end() } }
  }
  const dir = path.join(config.dataDir, 'postgres')
  const pidFile = path.join(dir, 'postmaster.pid')
  const port = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[3]) : NaN
  if (Number.isInteger(port) && port > 0) {
    const url = `postgres://postgres:tessera-embedded@127.0.0.1:${port}/postgres`
    const sql = connect(url, { max: 2 })
    try {
      await sql`select 1`
      return { url, sql, close: async () => { await sql.end() } }
    } catch {
      await sql.end()
    }
  }
  const { startEmbeddedPostgres } = await import('../infrastructure/db/embedded.js')
  const embedded = await startEmbeddedPostgres(dir)
  const sql = connect(embedded.url, { max: 2 })
  return { url: embedded.url, sql, close: async () => { await sql.end(); await embedded.stop() } }
}
