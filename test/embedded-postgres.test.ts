import { spawn } from 'node:child_process'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { connect } from '../src/infrastructure/db/connect.js'
import { startEmbeddedPostgres, stopStalePostmaster } from '../src/infrastructure/db/embedded.js'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

t.test('after a kill -9 of the service, the next start stops the orphaned postmaster and serves', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-stale-'))
  const data = path.join(dir, 'pg')
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./helpers/start-embedded.ts', import.meta.url).pathname, data], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().startsWith('ready')) resolve() })
    child.on('exit', () => { reject(new Error('the helper exited before the database was ready')) })
  })
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  const orphan = Number((await readFile(path.join(data, 'postmaster.pid'), 'utf8')).split('\n')[0])
  t.ok(alive(orphan), `the postmaster (pid ${orphan}) outlived its parent`)

  const warnings: string[] = []
  const database = await startEmbeddedPostgres(data, { throwaway: true, warn: (m) => { warnings.push(m) } })
  t.teardown(async () => { await database.stop() })
  t.notOk(alive(orphan), 'the orphan was stopped')
  t.match(warnings.join(' '), `Stopped a PostgreSQL (pid ${orphan})`, 'and the log says so')
  const sql = connect(database.url, { max: 1 })
  const [row] = await sql`select 1 as one`
  t.equal(row?.one, 1, 'the new cluster serves')
  await sql.end()
  await database.stop()
  await database.stop()
  t.pass('stopping a database that is already stopped returns at once')
})

t.test('a postmaster.pid naming a dead process is reported and left to PostgreSQL', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-stale-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const { writeFile } = await import('node:fs/promises')
  await writeFile(path.join(dir, 'postmaster.pid'), '999999\n/whatever\n')
  t.match(await stopStalePostmaster(dir), 'no longer running')
  t.equal(await stopStalePostmaster(path.join(dir, 'none')), undefined, 'no pid file, nothing to do')
})
