import t from 'tap'
import { migrate } from '../src/db/migrate.js'
import { freshDatabase } from './helpers/database.js'

t.test('two processes migrating an empty database at once do not collide', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  // Start from nothing: drop what the template applied.
  await db.sql.unsafe('drop schema public cascade; create schema public')
  const [first, second] = await Promise.all([migrate(db.sql), migrate(db.sql)])
  t.same([...first.applied, ...second.applied].sort(), ['0001_initial.sql'], 'each migration ran exactly once')
  const rows = await db.sql`select name from schema_migrations`
  t.equal(rows.length, 1)
  const again = await migrate(db.sql)
  t.same(again.applied, [], 'a second run applies nothing')
})
