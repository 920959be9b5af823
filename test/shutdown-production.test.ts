import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freshDatabase } from './helpers/database.js'
import { freePort } from './helpers/free-port.js'
import { productionImage, ROOT } from './helpers/production-build.js'
import { installTestKeys } from './helpers/test-keys.js'

/**
 * A deployment stopped (SIGTERM) while a client that has hung up still has a
 * batch running, on the production build as `npm run start:prod` runs it (two
 * HTTP processes): the batch is finished, nothing fails, the service exits 0.
 * test/shutdown-in-flight.test.ts pins the mechanism (closing waits for the
 * running handlers, src/infrastructure/http/in-flight.ts) where the timing is
 * under the test's control; here the signals take their own time.
 */
const ADMIN_KEY = 'shutdown-test-admin-key-0123456789abcdef'

t.test('SIGTERM while a batch whose client hung up is running: the batch is finished, nothing fails, the service exits 0', { skip: process.platform === 'linux' ? false : 'signals and process trees as on Linux', timeout: 300_000 }, async (t) => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'tessera-shutdown-'))
  const db = await freshDatabase()
  const running: { server?: ChildProcess } = {}
  t.teardown(async () => {
    const { server } = running
    if (server !== undefined && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL')
      await new Promise((resolve) => server.once('exit', resolve))
    }
    await db.drop()
    await rm(work, { recursive: true, force: true })
  })
  const image = await productionImage()
  await mkdir(path.join(work, 'data'))
  await installTestKeys(path.join(work, 'data', 'keys'), 'main')
  // start:prod's own flags, so that this is the command production runs.
  const [, ...startProd] = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod']?.split(' ') ?? []
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = running.server = spawn(process.execPath, startProd.map((arg) => arg.endsWith('.js') ? path.join(image, arg) : arg), {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: base,
      DATABASE_URL: db.url,
      DATA_DIR: path.join(work, 'data'),
      ADMIN_API_KEY: ADMIN_KEY,
      ISSUER_NAME: 'Shutdown Test Board',
      LOG_LEVEL: 'warn',
      WORKER: 'off',
      WEB_CONCURRENCY: '2',
      MAX_EVENT_LOOP_DELAY_MS: '0'
    }
  })
  let log = ''
  server.stdout?.on('data', (d: Buffer) => { log += d.toString('utf8') })
  server.stderr?.on('data', (d: Buffer) => { log += d.toString('utf8') })
  // 'close', not 'exit': after its streams have ended, so the log holds every line it wrote.
  const exited = new Promise<number | null>((resolve) => server.once('close', (code) => { resolve(code) }))
  for (let attempt = 0; ; attempt++) {
    const health = await fetch(`${base}/health`).catch(() => undefined)
    if (health?.status === 200) break
    if (server.exitCode !== null || server.signalCode !== null || attempt > 600) throw new Error(`the server did not start:\n${log}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }

  const staff = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
  const achievement = await fetch(`${base}/api/v1/achievements`, { method: 'POST', headers: staff, body: JSON.stringify({ name: 'CMA (AAMA)', description: 'Certified Medical Assistant.', criteria: { narrative: 'Passed the exam.' }, achievementType: 'Certification', validityMonths: 60 }) })
  t.equal(achievement.status, 201)
  const { id: achievementId } = await achievement.json() as { id: string }

  const count = 150
  const items = Array.from({ length: count }, (_, i) => ({ achievementId, recipient: { name: `Holder ${i}`, email: `holder${i}@example.org` } }))
  const client = new AbortController()
  const answered = fetch(`${base}/api/v1/credentials/batch`, { method: 'POST', headers: staff, body: JSON.stringify({ items }), signal: client.signal }).catch((error: unknown) => error)
  // Hang up once the batch is under way (its first chunk committed), then stop the service.
  let stored = 0
  for (let waited = 0; stored === 0 && waited < 120_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    stored = (await db.sql<[{ n: number }]>`select count(*)::int as n from credentials`)[0].n
  }
  t.ok(stored > 0 && stored < count, `the batch was under way when the client hung up (${stored} of ${count} stored)`)
  client.abort()
  t.match(String(await answered), /abort/i, 'the client is gone')
  server.kill('SIGTERM')
  t.equal(await exited, 0, 'the service exits 0')

  const [{ n }] = await db.sql<[{ n: number }]>`select count(*)::int as n from credentials`
  t.equal(n, count, 'every item of the batch was issued before the service stopped')
  const errors = log.split('\n').filter((line) => /"level":(50|60)/.test(line))
  t.same(errors, [], 'nothing failed (no signing task refused by closing threads)')
})
