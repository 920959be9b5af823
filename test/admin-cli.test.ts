/**
 * `npm run admin` without DATABASE_URL works on the embedded database that
 * `npm start` keeps under DATA_DIR. Run with another DATA_DIR than the
 * service's, it used to create a second, empty database there and act on it
 * without a word; now it refuses, saying where it looked and what to set.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { runAdmin } from './helpers/admin-cli.js'
import { startEmbeddedPostgres } from '../src/infrastructure/db/embedded.js'

const admin = runAdmin

t.test('with a DATA_DIR that holds no database: refuses, says where it looked, creates nothing', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-admin-empty-'))
  t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
  const run = await admin(['api-keys', 'list'], { DATA_DIR: dataDir })
  t.equal(run.code, 2, run.stderr)
  t.match(run.stderr, `${path.join(dataDir, 'postgres')} holds none`, 'names the folder it looked in')
  t.match(run.stderr, /same DATA_DIR \(or DATABASE_URL\) as the service/, 'says what to set')
  t.notOk(existsSync(path.join(dataDir, 'postgres', 'PG_VERSION')), 'no second database was created')
})

t.test('with the service\'s DATA_DIR: finds its database (stopped here) and works on it', { timeout: 180_000 }, async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-admin-data-'))
  t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
  // What `npm start` leaves behind: an embedded cluster under DATA_DIR/postgres, stopped.
  const embedded = await startEmbeddedPostgres(path.join(dataDir, 'postgres'), { throwaway: true })
  await embedded.stop()
  const created = await admin(['api-keys', 'create', '--name', 'Exam office', '--scopes', 'credentials:read'], { DATA_DIR: dataDir })
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, /^tsk_\S+$/m, 'the new key, printed once')
  const listed = await admin(['api-keys', 'list'], { DATA_DIR: dataDir })
  t.equal(listed.code, 0, listed.stderr)
  t.match(listed.stdout, /\tExam office\tcredentials:read\tactive/, 'the same database the second time')
})
