/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database under DATA_DIR). */
import path from 'node:path'
import { loadConfig } from '../src/kernel/config.js'
import { connect } from '../src/infrastructure/db/connect.js'
import { startEmbeddedPostgres } from '../src/infrastructure/db/embedded.js'
import { migrate } from '../src/infrastructure/db/migrate.js'

const config = loadConfig()
const embedded = config.databaseUrl === undefined ? await startEmbeddedPostgres(path.join(config.dataDir, 'postgres')) : undefined
const sql = connect(config.databaseUrl ?? embedded!.url, { max: 1 })
try {
  const { applied, alreadyApplied } = await migrate(sql)
  console.log(applied.length === 0 ? `Up to date (${alreadyApplied} migrations applied before).` : `Applied: ${applied.join(', ')}`)
} finally {
  await sql.end()
  await embedded?.stop()
}
