import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Sql } from 'postgres'
import type { Config } from '../kernel/config.js'
import { connect, connectOptionsFor } from '../infrastructure/db/connect.js'

/** No database where the command looked: it says where, and how to point it at the service's. */
export class NoDatabaseError extends Error {}

/**
 * The database an admin command works on: DATABASE_URL when set; otherwise
 * the embedded PostgreSQL of `npm start` under DATA_DIR (found through its
 * postmaster.pid while it runs, or started for the command and stopped
 * after). Only `create: true` (the migrate command) may make a new one: an
 * admin command run with another DATA_DIR than the service's used to create
 * a second, empty database and act on it without a word.
 */
export async function cliDatabase (config: Config, options: { create?: boolean } = {}): Promise<{ url: string, sql: Sql, close: () => Promise<void> }> {
  if (config.databaseUrl !== undefined) {
    const sql = connect(config.databaseUrl, { max: 2, ...connectOptionsFor(config) })
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
  if (options.create !== true && !existsSync(path.join(dir, 'PG_VERSION'))) {
    throw new NoDatabaseError([
      `No database found. DATABASE_URL is not set, so this command looks for the embedded PostgreSQL that \`npm start\` keeps in DATA_DIR, and ${dir} holds none.`,
      `DATA_DIR is ${config.dataDir}${process.env.DATA_DIR === undefined ? ' (the default, ./.data in the directory the command runs from)' : ''}.`,
      'Run the command with the same DATA_DIR (or DATABASE_URL) as the service, e.g. DATA_DIR=/path/to/data npm run admin -- api-keys list.'
    ].join('\n'))
  }
  const { startEmbeddedPostgres } = await import('../infrastructure/db/embedded.js')
  const embedded = await startEmbeddedPostgres(dir)
  const sql = connect(embedded.url, { max: 2 })
  return { url: embedded.url, sql, close: async () => { await sql.end(); await embedded.stop() } }
}
